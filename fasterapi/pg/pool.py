"""PgPool: asyncpg-style async pool (pipelined shared queries) and the seed's sync checkout."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fasterapi.pg._native_pg import PoolCore
from fasterapi.pg.connection import Connection, _spawn, connect
from fasterapi.pg.dsn import ConnectParams, parse_dsn
from fasterapi.pg.errors_base import (
    InterfaceError,
    PgConnectionError,
    PoolAcquireTimeoutError,
)
from fasterapi.pg.result import Result
from fasterapi.pg.sync_connection import SyncConnection

_SWEEP_INTERVAL = 1.0  # seconds between idle/lifetime sweeps (done lazily on use)
_HEALTH_CHECK_TIMEOUT = 5.0  # at most; less when the acquire deadline is nearer
_RESET_TIMEOUT = 30.0  # bound on release()'s ROLLBACK without command_timeout; then it is closed


class _Acquire(Protocol):
    """What ``pool.acquire()`` returns (native: bindings/pg_pool.cpp's Acquire):
    ``async with pool.acquire() as conn`` or ``conn = await pool.acquire()``."""

    _conn: Connection | None
    _timeout: float | None

    def __await__(self) -> Any: ...

    async def __aenter__(self) -> Connection: ...

    async def __aexit__(self, *exc: object) -> None: ...


@dataclass
class PoolStats:
    """Counters since the pool opened; sizes are current."""

    size: int = 0
    idle: int = 0
    held: int = 0
    sync_size: int = 0
    sync_idle: int = 0
    opened: int = 0
    closed: int = 0
    broken_replaced: int = 0
    acquires: int = 0
    acquire_waits: int = 0
    acquire_timeouts: int = 0
    health_check_failures: int = 0


class PgPool(PoolCore):  # type: ignore[misc]
    """A pool of PostgreSQL connections.

    Async (asyncpg names): ``await pool.fetch/fetchrow/fetchval/execute/executemany(...)`` and
    ``async with pool.acquire() as conn``. Pool-level queries outside a checkout share the idle
    connections and are pipelined on them. Sync (the seed's form): ``with pool.connection() as pg:
    pg.exec(sql, *args)`` or :func:`fasterapi.pg.compat.get_pg_factory`.

    fetch, fetchrow, fetchval, execute and fetchmany are native (PoolCore, bindings/pg_pool.cpp):
    one call that picks the connection (:meth:`_pick`), finds the statement prepared there and
    queues the query, returning an awaitable resolved from C++. What it does not cover comes here
    (:meth:`_run`): timeouts, statements not yet prepared on that connection, no idle
    connection, growing or sweeping the pool, another loop.

    PoolCore owns the idle list (``_idle`` is a copy; changed through ``_idle_add``,
    ``_idle_remove`` and ``_idle_set``) and the held set and waiters list (``_held``,
    ``_waiters``: used in place). ``acquire()`` is native too: a free idle connection is checked
    out and a clean one returned to the idle list without a Python frame; this class does the rest
    (:meth:`_acquire`, :meth:`release`): waiting with the acquire timeout, opening connections,
    health checks, the reset of a connection returned dirty, growing and sweeping. It tells the
    native side of every change of its size, loop, sweep time or settings (:meth:`_changed`).
    """

    if TYPE_CHECKING:

        def fetch(
            self, query: str, *args: Any, timeout: float | None = None
        ) -> Awaitable[list[Any]]:
            """All rows as Records."""

        def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[Any]:
            """The first row, or None."""

        def fetchval(
            self, query: str, *args: Any, column: int = 0, timeout: float | None = None
        ) -> Awaitable[Any]:
            """The first column of the first row, or None."""

        def execute(self, query: str, *args: Any, timeout: float | None = None) -> Awaitable[str]:
            """Run a command; its status tag. A script (no args) runs on a checked-out
            connection, so a BEGIN in it cannot leak into queries pipelined by others."""

        def fetchrow_each(
            self, query: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
        ) -> Awaitable[list[Any]]:
            """``fetchrow(query, *a)`` for each argument tuple ``a``: the rows (or None) in
            order.

            Each run is its own query (Bind + Execute + Sync: a failing one undoes no other,
            unlike executemany's single transaction). When an idle connection has the
            statement prepared, the whole batch goes to it as one request queued by one native
            call and awaited as one future: no future, Task or Python step per query, and no
            Python frame at all unless a query fails. After every query has answered, the first
            failure (in argument order) is raised; queries whose cached plan went stale are
            prepared again and re-run. With a timeout, it is ``gather`` over ``fetchrow``.
            """

        def fetchmany(
            self,
            query: str,
            args: Iterable[Sequence[Any]],
            *,
            timeout: float | None = None,
            record_class: type | None = None,
        ) -> Awaitable[list[Any]]:
            """query run for each argument sequence in args on one connection, as one pipeline
            (one Sync: atomic, see Connection.fetchmany); all rows in one list."""

        def acquire(self, *, timeout: float | None = None) -> _Acquire:
            """Check a connection out exclusively (for transactions, LISTEN, COPY)."""

        def _pick(self) -> Connection | None: ...

        def _update(
            self,
            loop: asyncio.AbstractEventLoop | None,
            can_grow: bool,
            next_sweep: float,
            enabled: bool,
            open: bool,
            max_lifetime: float,
            health_check_interval: float,
        ) -> None: ...

        @property
        def _idle(self) -> list[Connection]: ...

        @property
        def _held(self) -> set[Connection]: ...

        @property
        def _waiters(self) -> list[asyncio.Future[None]]: ...

        @property
        def _fast_acquires(self) -> int: ...

        def _idle_add(self, conn: Connection) -> None: ...

        def _idle_remove(self, conn: Connection) -> bool: ...

        def _idle_set(self, conns: list[Connection]) -> None: ...

        def _idle_count(self) -> int: ...

        def _give(self, conn: Connection) -> bool: ...

    def __init__(
        self,
        dsn: str | None = None,
        min_size: int = 2,
        max_size: int = 20,
        *,
        max_lifetime: float = 3600.0,
        idle_timeout: float = 300.0,
        acquire_timeout: float = 30.0,
        command_timeout: float | None = None,
        statement_cache_size: int = 256,
        health_check_interval: float = 30.0,
        init: Callable[[Connection], Awaitable[None]] | None = None,
        **connect_params: Any,
    ) -> None:
        super().__init__()
        if not 0 <= min_size <= max_size or max_size < 1:
            raise InterfaceError(
                f"need 0 <= min_size <= max_size and max_size >= 1; got "
                f"min_size={min_size}, max_size={max_size}"
            )
        self.params: ConnectParams = parse_dsn(dsn, **connect_params)
        self.min_size = min_size
        self.max_size = max_size
        self.max_lifetime = max_lifetime
        self.idle_timeout = idle_timeout
        self.acquire_timeout = acquire_timeout
        self.command_timeout = command_timeout
        self.statement_cache_size = statement_cache_size
        self.health_check_interval = health_check_interval
        self.init = init  # awaited with each new async connection (e.g. set_type_codec)
        self._stats = PoolStats()
        self._closed = False
        # async side (bound to the loop of first use)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting = 0
        self._last_sweep = 0.0
        self._fast_counted = 0  # native acquires (PoolCore._fast_acquires) already in _stats
        # sync side
        self._sync_lock = threading.Condition()
        self._sync_idle: list[SyncConnection] = []
        self._sync_size = 0

    # == async ==================================================================================
    @property
    def _size(self) -> int:
        return self._idle_count() + len(self._held) + self._connecting

    def _changed(self) -> None:
        """Tell the native fast paths (PoolCore) what they may do: called after every change of
        the pool's size, its loop, its sweep time or its state."""
        self._update(
            self._loop,
            self._size < self.max_size and not self._connecting,
            self._last_sweep + _SWEEP_INTERVAL,
            self.command_timeout is None and not self._closed,
            self._loop is not None and not self._closed,
            float(self.max_lifetime),
            float(self.health_check_interval),
        )

    async def _new_conn(self, reserved: bool = False) -> Connection:
        """Open a connection; reserved=True when the caller already counted it in _connecting."""
        if not reserved:
            self._connecting += 1
            self._changed()
        try:
            conn = await connect(
                None,
                statement_cache_size=self.statement_cache_size,
                command_timeout=self.command_timeout,
                **_params_kwargs(self.params),
            )
        finally:
            self._connecting -= 1
            self._changed()
        self._stats.opened += 1
        if self.init is not None:
            await self.init(conn)
        conn._proto.on_lost.append(lambda exc, c=conn: self._on_lost(c))
        return conn

    def _on_lost(self, conn: Connection) -> None:
        if self._idle_remove(conn):
            self._changed()
            self._stats.broken_replaced += 1
            self._wake()
            if self._size < self.min_size and not self._closed:
                self._spawn_grow()

    def _spawn_grow(self) -> None:
        self._connecting += 1  # counted now, so one loop turn cannot overshoot max_size
        self._changed()
        _spawn(self._grow())

    async def _grow(self) -> None:
        try:
            conn = await self._new_conn(reserved=True)
        except Exception:
            return
        if self._closed:
            conn.terminate()
            return
        self._idle_add(conn)
        self._changed()
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            w = self._waiters.pop(0)
            if not w.done():
                w.set_result(None)
                break

    async def open(self) -> PgPool:
        """Open min_size connections (called on first use too)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._idle_set([])
            self._held.clear()
            self._waiters.clear()
            self._changed()
            conns = await asyncio.gather(*(self._new_conn() for _ in range(self.min_size)))
            for c in conns:
                self._idle_add(c)
            self._changed()
        return self

    async def __aenter__(self) -> PgPool:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _usable(self, conn: Connection, now: float) -> bool:
        return not conn.is_closed() and now - conn.created_at < self.max_lifetime

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        keep: list[Connection] = []
        for c in self._idle:
            expired = now - c.created_at >= self.max_lifetime
            idle_too_long = (
                c.pending == 0
                and now - c.last_used >= self.idle_timeout
                and len(keep) + len(self._held) >= self.min_size
            )
            if c.is_closed() or ((expired or idle_too_long) and c.pending == 0):
                self._stats.closed += 1
                _spawn(c.close())
            else:
                keep.append(c)
        self._idle_set(keep)
        self._changed()

    def _shared(self) -> Connection | None:
        """The least-busy idle connection for a pool-level query (queries pipeline on it)."""
        now = time.monotonic()
        if now - self._last_sweep > _SWEEP_INTERVAL:
            self._sweep(now)
        # Round-robin from the last pick: the first connection with nothing in flight, else the
        # next one in turn (requests pipeline on it), avoiding one whose new requests wait for a
        # cancel. The native fast path picks with the same function.
        best = self._pick()
        if best is not None and best.is_closed():
            self._idle_remove(best)
            self._changed()
            return self._shared()
        if (
            (best is None or best.pending > 0)
            and self._size < self.max_size
            and not self._connecting
        ):
            self._spawn_grow()
        return best

    async def _enter_slow(self, acq: _Acquire) -> Connection:
        """``async with pool.acquire()`` when no idle connection was free at once (Acquire's
        __aenter__ calls it): wait or open one, then the Acquire holds it for its __aexit__."""
        conn = await self._acquire(acq._timeout)
        acq._conn = conn
        return conn

    async def _acquire(self, timeout: float | None = None) -> Connection:
        """acquire() when the native fast path had no free idle connection (or a health check
        was due, or the pool is not open on this loop yet)."""
        if self._closed:
            raise InterfaceError("pool is closed")
        if self._loop is not asyncio.get_running_loop():
            await self.open()
        self._stats.acquires += 1
        deadline = time.monotonic() + (timeout if timeout is not None else self.acquire_timeout)
        while True:
            now = time.monotonic()
            if now >= deadline:  # failed health checks and reconnects count against the timeout
                raise self._acquire_timed_out(timeout)
            # prefer a connection with nothing in flight (the last one: as the native fast path)
            idle = self._idle
            free = [c for c in idle if c.pending == 0 and self._usable(c, now)]
            conn: Connection | None = free[-1] if free else None
            if conn is None and self._size < self.max_size:
                conn = await self._new_conn()
            elif conn is None and idle:
                conn = min(idle, key=lambda c: c.pending)
                if not self._usable(conn, now):
                    self._idle_remove(conn)
                    self._changed()
                    await conn.close()
                    continue
            if conn is not None:
                if self._idle_remove(conn):  # checked out: no pool-level query may go to it now
                    self._changed()
                if now - conn.last_used > self.health_check_interval and not await self._healthy(
                    conn, max(min(_HEALTH_CHECK_TIMEOUT, deadline - now), 0.05)
                ):
                    continue
                self._held.add(conn)
                return conn
            self._stats.acquire_waits += 1
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            remaining = deadline - time.monotonic()
            try:
                await asyncio.wait_for(fut, max(remaining, 0))
            except TimeoutError:
                raise self._acquire_timed_out(timeout) from None

    def _acquire_timed_out(self, timeout: float | None) -> PoolAcquireTimeoutError:
        self._stats.acquire_timeouts += 1
        return PoolAcquireTimeoutError(
            f"no PostgreSQL connection became free within {timeout or self.acquire_timeout}"
            f" s (max_size={self.max_size}, all in use); release connections sooner or "
            f"raise max_size / acquire_timeout"
        )

    async def _healthy(self, conn: Connection, timeout: float = 5.0) -> bool:
        try:
            await conn.fetchval("SELECT 1", timeout=timeout)
            return True
        except Exception:
            self._stats.health_check_failures += 1
            conn.terminate()
            return False

    async def release(self, conn: Connection, *, timeout: float | None = None) -> None:
        """Return a connection: an abandoned transaction is rolled back; broken ones are dropped."""
        if self._give(conn):  # clean: back on the idle list natively (Acquire's __aexit__ too)
            return
        if not conn.is_closed():
            try:
                limit = timeout if timeout is not None else self.command_timeout
                await conn.reset(timeout=limit if limit is not None else _RESET_TIMEOUT)
            except Exception:
                conn.terminate()
        self._held.discard(conn)  # only now, so the pool's size stays counted during reset
        self._changed()
        now = time.monotonic()
        if conn.is_closed() or not self._usable(conn, now) or self._closed:
            if not conn.is_closed():
                await conn.close()
            self._stats.closed += 1
            if not self._closed and self._size < self.min_size:
                self._spawn_grow()
        else:
            conn.last_used = now
            self._idle_add(conn)
            self._changed()
        self._wake()

    async def _run(self, name: str, *args: Any, **kw: Any) -> Any:
        if self._loop is not asyncio.get_running_loop():
            await self.open()
        conn = self._shared()
        if conn is not None:
            return await getattr(conn, name)(*args, **kw)
        async with self.acquire() as c:
            return await getattr(c, name)(*args, **kw)

    async def _execute_script(self, query: str, *, timeout: float | None = None) -> str:
        """execute() without args (native PoolCore.execute sends it here)."""
        async with self.acquire() as c:
            return await c.execute(query, timeout=timeout)

    async def _fetchrow_each_slow(
        self, query: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> list[Any]:
        """fetchrow_each where the native fast path (PoolCore.fetchrow_each) does not go: a
        timeout (``gather`` over ``fetchrow``), another loop, or no idle connection with the
        statement prepared. A shared connection that has it gets the batch as one request
        (Connection._fetchrow_each_future, one future); else Connection.fetchrow_each on a
        shared or checked-out connection."""
        arg_rows = args if isinstance(args, list) else list(args)
        if timeout is not None or self._loop is not asyncio.get_running_loop():
            return list(
                await asyncio.gather(*(self.fetchrow(query, *a, timeout=timeout) for a in arg_rows))
            )
        if not arg_rows:
            return []
        conn = self._shared()
        fut = None if conn is None else conn._fetchrow_each_future(query, arg_rows)
        if conn is None or fut is None:  # not prepared there yet, or none idle: the full path
            return await self._run("fetchrow_each", query, arg_rows)  # type: ignore[no-any-return]
        try:
            outcomes = await fut
        except asyncio.CancelledError:
            conn._abandon(fut)  # cancelled on the server if that can hit only this batch
            raise
        if type(outcomes) is list:  # every query answered with its row (or None)
            return outcomes
        return await conn._fetchrow_each_outcome(query, arg_rows, outcomes)

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None:
        """Run command for each argument tuple (one pipelined batch)."""
        await self._run("executemany", command, args, timeout=timeout)

    async def copy_records_to_table(self, table_name: str, **kw: Any) -> str:
        async with self.acquire() as c:
            return await c.copy_records_to_table(table_name, **kw)

    async def copy_to_table(self, table_name: str, **kw: Any) -> str:
        """COPY into a table from a streamed source (see Connection.copy_to_table)."""
        async with self.acquire() as c:
            return await c.copy_to_table(table_name, **kw)

    async def copy_from_query(self, query: str, *args: Any, **kw: Any) -> Any:
        async with self.acquire() as c:
            return await c.copy_from_query(query, *args, **kw)

    async def close(self) -> None:
        """Close every connection (async and sync)."""
        self._closed = True
        self._changed()
        for c in [*self._idle, *self._held]:
            await c.close()
        self._idle_set([])
        self._held.clear()
        self._changed()
        self.close_sync()

    def stats(self) -> PoolStats:
        """Current sizes and counters."""
        s = self._stats
        s.acquires += self._fast_acquires - self._fast_counted
        self._fast_counted = self._fast_acquires
        s.size, s.idle, s.held = self._size, self._idle_count(), len(self._held)
        s.sync_size, s.sync_idle = self._sync_size, len(self._sync_idle)
        return s

    # == sync ===================================================================================
    def acquire_sync(self, timeout: float | None = None) -> SyncConnection:
        """Check out a blocking connection; raises PoolAcquireTimeoutError after acquire_timeout."""
        if self._closed:
            raise InterfaceError("pool is closed")
        limit = timeout if timeout is not None else self.acquire_timeout
        deadline = time.monotonic() + limit
        with self._sync_lock:
            self._stats.acquires += 1
            while True:
                now = time.monotonic()
                while self._sync_idle:
                    c = self._sync_idle.pop()
                    if c.pid != os.getpid():  # inherited across fork(): not ours to use
                        c.forget()
                        self._sync_size -= 1
                        continue
                    if (
                        c.broken
                        or now - c.created_at >= self.max_lifetime
                        or (now - c.last_used >= self.idle_timeout)
                    ):
                        c.close()
                        self._sync_size -= 1
                        self._stats.closed += 1
                        continue
                    if now - c.last_used > self.health_check_interval:
                        try:
                            c.execute("SELECT 1")
                        except Exception:
                            self._stats.health_check_failures += 1
                            c.close()
                            self._sync_size -= 1
                            continue
                    return c
                if self._sync_size < self.max_size:
                    self._sync_size += 1
                    break
                self._stats.acquire_waits += 1
                if _on_loop_thread():
                    # Nothing can be released while this thread (the loop's) waits: fail now.
                    self._stats.acquire_timeouts += 1
                    raise PoolAcquireTimeoutError(
                        f"all {self.max_size} sync PostgreSQL connections are held by "
                        f"unfinished work on this event-loop thread; waiting would deadlock. "
                        f"Finish transactions before returning, or raise max_size"
                    )
                if not self._sync_lock.wait(max(deadline - now, 0)):
                    self._stats.acquire_timeouts += 1
                    raise PoolAcquireTimeoutError(
                        f"no PostgreSQL connection became free within {limit} s (max_size="
                        f"{self.max_size}, all in use); release connections sooner or raise "
                        f"max_size / acquire_timeout"
                    )
        try:
            conn = SyncConnection(
                self.params,
                statement_cache_size=self.statement_cache_size,
                command_timeout=self.command_timeout,
            )
        except BaseException:
            with self._sync_lock:
                self._sync_size -= 1
                self._sync_lock.notify()
            raise
        self._stats.opened += 1
        return conn

    def release_sync(self, conn: SyncConnection) -> None:
        """Return a blocking connection (rolled back if a transaction was left open)."""
        try:
            conn.reset()
        except Exception:
            conn.close()
        with self._sync_lock:
            if conn._broken or self._closed:  # not .broken: no need to poll a socket just used
                conn.close()
                self._sync_size -= 1
                self._stats.broken_replaced += 1
            else:
                conn.last_used = time.monotonic()
                self._sync_idle.append(conn)
            self._sync_lock.notify()

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[SyncConnection]:
        """``with pool.connection() as pg: pg.exec(...)``."""
        conn = self.acquire_sync(timeout)
        try:
            yield conn
        finally:
            self.release_sync(conn)

    def exec(self, sql: str, *args: Any) -> Result:
        """Run one statement on a pooled blocking connection."""
        with self.connection() as c:
            return c.exec(sql, *args)

    def close_sync(self) -> None:
        with self._sync_lock:
            for c in self._sync_idle:
                c.close()
            self._sync_size -= len(self._sync_idle)
            self._sync_idle = []


def _on_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _params_kwargs(p: ConnectParams) -> dict[str, Any]:
    return {f: getattr(p, f) for f in p.__dataclass_fields__}


__all__ = ["PgConnectionError", "PgPool", "PoolStats"]
