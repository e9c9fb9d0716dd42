"""Connection: asyncpg-style async API over the native core and its native channel."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from fasterapi.pg._native_pg import (
    MODE_FETCH,
    MODE_FETCHMANY,
    MODE_FETCHROW,
    MODE_FETCHVAL,
    MODE_RESULT,
    MODE_STATUS,
    Record,
    native,
)
from fasterapi.pg.connect import make_core, open_socket, send_cancel
from fasterapi.pg.dsn import ConnectParams, parse_dsn
from fasterapi.pg.errors_base import InterfaceError, PgConnectionError, PostgresError
from fasterapi.pg.protocol import PgProtocol
from fasterapi.pg.transaction import Transaction

_stmt_ids = itertools.count(1)
_REPREPARE_SQLSTATES = ("0A000", "26000")  # cached plan changed result type; statement vanished
COPY_FORMATS = ("text", "csv", "binary")
_COPY_READ_BYTES = 256 * 1024  # read size for a file-like COPY source
_COPY_RECORDS_BATCH = 2000  # records encoded per CopyData chunk by copy_records_to_table
_BINARY_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, extension length
_BINARY_COPY_TRAILER = b"\xff\xff"
# Core.execute_many's mode for fetchrow_each: a Bind, an Execute and a Sync per argument sequence.
MODE_FETCHROW_EACH: int = native.MODE_FETCHROW_EACH


_background: set[asyncio.Future[Any]] = set()


def _spawn(aw: Awaitable[Any]) -> None:
    """Run aw in the background, keeping a reference until it finishes."""
    fut = asyncio.ensure_future(aw)
    _background.add(fut)
    fut.add_done_callback(_background.discard)


def _weak_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """A callback that does not keep its object alive (the native core is not GC-tracked)."""
    ref = weakref.WeakMethod(method)  # type: ignore[arg-type]

    def call(*args: Any) -> Any:
        m = ref()
        return None if m is None else m(*args)

    return call


def _ignore_result(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class PreparedStatement:
    """A server-side prepared statement bound to its connection (``await conn.prepare(sql)``)."""

    def __init__(self, conn: Connection, stmt: Any) -> None:
        self._conn = conn
        self._stmt = stmt

    @property
    def parameter_oids(self) -> list[int]:
        return list(self._stmt.param_oids)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self._stmt.column_names)

    def get_query(self) -> str:
        return str(self._stmt.sql)

    async def fetch(self, *args: Any, timeout: float | None = None) -> list[Any]:
        return await self._conn._exec_stmt(self._stmt, args, MODE_FETCH, timeout)  # type: ignore[no-any-return]

    async def fetchrow(self, *args: Any, timeout: float | None = None) -> Any:
        return await self._conn._exec_stmt(self._stmt, args, MODE_FETCHROW, timeout)

    async def fetchval(self, *args: Any, timeout: float | None = None) -> Any:
        return await self._conn._exec_stmt(self._stmt, args, MODE_FETCHVAL, timeout)


class Connection:
    """One PostgreSQL connection; concurrent queries on it are pipelined (sent without waiting)."""

    def __init__(
        self,
        params: ConnectParams,
        protocol: PgProtocol,
        *,
        statement_cache_size: int = 256,
        command_timeout: float | None = None,
    ) -> None:
        self._params = params
        self._proto = protocol
        self._core = protocol.core
        self._channel = protocol.channel
        self._loop = protocol.loop
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = statement_cache_size
        self._command_timeout = command_timeout
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._tx_depth = 0
        self._closed = False
        self.created_at = time.monotonic()
        self._log_listeners: list[Callable[..., Any]] = []
        self._copy_lock: asyncio.Lock | None = None  # one COPY FROM STDIN at a time
        protocol.send_cancel = functools.partial(
            send_cancel, params, self._core.backend_pid, self._core.secret_key
        )
        self._core.set_notify_callback(_weak_method(self._on_notify))
        self._core.set_notice_callback(_weak_method(self._on_notice))

    # -- state ---------------------------------------------------------------------------------
    def is_closed(self) -> bool:
        return self._closed or self._channel.lost is not None

    def is_in_transaction(self) -> bool:
        return str(self._core.tx_status) != "I"

    @property
    def pending(self) -> int:
        return len(self._proto.waiters)

    @property
    def last_used(self) -> float:
        """When a request was last queued (time.monotonic()): kept by the native channel."""
        return float(self._channel.last_used)

    @last_used.setter
    def last_used(self, t: float) -> None:
        self._channel.last_used = t

    def get_server_pid(self) -> int:
        return int(self._core.backend_pid)

    def get_settings(self) -> dict[str, str]:
        return dict(self._core.server_params)

    # -- queries -------------------------------------------------------------------------------
    async def _wait(self, fut: asyncio.Future[Any], timeout: float | None) -> Any:
        timeout = timeout if timeout is not None else self._command_timeout
        try:
            if timeout is None:
                return await fut
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except (TimeoutError, asyncio.CancelledError):
            self._abandon(fut)
            raise

    def _abandon(self, fut: asyncio.Future[Any]) -> None:
        """The caller stopped waiting (cancelled, or timed out) for fut's result; also called by
        the pool's native Query (bindings/pg_pool.cpp). Without a result yet, the query may
        still run on the server. It is cancelled there only when the CancelRequest cannot hit
        another request (see PgProtocol.cancel_request); otherwise it runs to completion and its
        result is dropped."""
        if fut.cancelled() or not fut.done():
            fut.cancel()
            # Never sent (held behind a cancel or a COPY)? Then it never runs. Else cancel it if
            # that is safe.
            if not self._proto.forget_unsent(fut):
                self._proto.cancel_request(fut)

    def _stale(self, e: BaseException) -> bool:
        """The schema changed under a cached plan: preparing again and re-running is safe."""
        return (
            isinstance(e, PostgresError)
            and e.sqlstate in _REPREPARE_SQLSTATES
            and not self.is_in_transaction()
        )

    async def _requery(
        self, sql: str, args: Sequence[Any], mode: int, timeout: float | None
    ) -> Any:
        """Prepare sql again (its cached plan went stale) and run the query once more."""
        self._cache.pop(sql, None)
        st = await self._statement(sql, timeout)
        return await self._wait(self._send(st, args, mode), timeout)

    def _retry_stale(
        self, e: BaseException, sql: str, args: Sequence[Any], mode: int
    ) -> asyncio.Future[Any] | None:
        """For the pool's native Query whose result is the error e: the query re-run (prepared
        again) when e says its cached plan went stale, else None (e is the outcome)."""
        if not self._stale(e):
            return None
        return asyncio.ensure_future(self._requery(sql, args, mode, None))

    async def _statement(self, sql: str, timeout: float | None = None) -> Any:
        st = self._cache.get(sql)
        if st is not None:
            if isinstance(st, asyncio.Future):  # being prepared for another caller
                return await self._wait_shared(st, timeout)
            self._cache.move_to_end(sql)
            return st
        name = f"__fa_{next(_stmt_ids)}"
        if self._cache_size <= 0:
            # Uncached, yet named: with pipelining an unnamed statement could be replaced by a
            # concurrent Parse before our Bind. One-shot users close it (_done_with).
            self._core.prepare(name, sql)
            return await self._wait(self._proto.request(), timeout)
        self._core.prepare(name, sql)
        fut = self._proto.request()
        self._cache[sql] = fut
        fut.add_done_callback(functools.partial(self._prepared, sql))
        return await self._wait_shared(fut, timeout)

    def _prepared(self, sql: str, fut: asyncio.Future[Any]) -> None:
        """A Parse finished: cache the statement (whether or not its callers still wait)."""
        if self._cache.get(sql) is not fut:
            return
        if fut.cancelled() or fut.exception() is not None:
            del self._cache[sql]
            return
        self._cache[sql] = fut.result()
        if len(self._cache) > self._cache_size:
            old_sql, old = next(iter(self._cache.items()))
            if not isinstance(old, asyncio.Future):
                del self._cache[old_sql]
                if not self.is_closed():
                    self._core.close_statement(old.name)
                    self._proto.request().add_done_callback(_ignore_result)

    async def _wait_shared(self, fut: asyncio.Future[Any], timeout: float | None) -> Any:
        """Wait for a result other callers may share (a Parse): a timeout stops this caller
        waiting but neither cancels the future nor the request."""
        timeout = timeout if timeout is not None else self._command_timeout
        if timeout is None:
            return await asyncio.shield(fut)
        return await asyncio.wait_for(asyncio.shield(fut), timeout)

    async def _exec_stmt(
        self, st: Any, args: Sequence[Any], mode: int, timeout: float | None
    ) -> Any:
        self._core.execute(st, args, mode)
        return await self._wait(self._proto.request(), timeout)

    def _done_with(self, st: Any) -> None:
        """Close a one-shot statement when the cache is off (queued after its last use)."""
        if self._cache_size <= 0:
            self._core.close_statement(st.name)
            self._proto.request().add_done_callback(_ignore_result)

    def _send(self, st: Any, args: Sequence[Any], mode: int) -> asyncio.Future[Any]:
        """Queue st with args (for MODE_FETCHMANY: a sequence of argument sequences, one Sync;
        MODE_FETCHROW_EACH: a non-empty sequence of them, a Sync each)."""
        try:
            if mode == MODE_FETCHMANY or mode == MODE_FETCHROW_EACH:
                self._core.execute_many(st, args, mode)
            else:
                self._core.execute(st, args, mode)
            return self._proto.request()
        finally:
            self._done_with(st)

    def _fetchrow_future(self, sql: str, args: Sequence[Any]) -> asyncio.Future[Any] | None:
        """fetchrow as the protocol's bare future, or None unless the statement is prepared
        here and no command timeout applies (PgPool.fetchrow_each's fast path: no coroutine;
        the caller handles cancellation and re-preparing)."""
        st = self._cache.get(sql)
        if st is None or isinstance(st, asyncio.Future) or self._command_timeout is not None:
            return None
        self._cache.move_to_end(sql)
        return self._send(st, args, MODE_FETCHROW)

    def _fetchrow_each_future(
        self, sql: str, args_list: Sequence[Sequence[Any]]
    ) -> asyncio.Future[Any] | None:
        """fetchrow for each argument sequence of args_list as ONE request queued by one native
        call (Bind + Execute + Sync per sequence: N independent queries, pipelined) and its bare
        future, or None unless the statement is prepared here and no command timeout applies
        (PgPool.fetchrow_each's fast path: no coroutine; the caller handles cancellation with
        :meth:`_abandon`). The future's result is the list of the N first rows (or None) when
        every query succeeded; when any failed, a tuple with each failed query's exception in
        its place, for :meth:`_fetchrow_each_outcome`. A sequence that cannot be encoded raises
        here and nothing is sent."""
        st = self._cache.get(sql)
        if st is None or isinstance(st, asyncio.Future) or self._command_timeout is not None:
            return None
        self._cache.move_to_end(sql)
        if not args_list:
            fut = self._loop.create_future()
            fut.set_result([])
            return fut
        return self._send(st, args_list, MODE_FETCHROW_EACH)

    def _fetchrow_each_outcome_future(
        self, sql: str, args_list: Sequence[Sequence[Any]], outcomes: Sequence[Any]
    ) -> asyncio.Future[list[Any]]:
        """For the pool's native fetchrow_each whose batch had a failure: the rows after
        re-running stale plans, or the first failure raised (:meth:`_fetchrow_each_outcome`),
        as a future."""
        return asyncio.ensure_future(self._fetchrow_each_outcome(sql, args_list, outcomes))

    async def _fetchrow_each_outcome(
        self, sql: str, args_list: Sequence[Sequence[Any]], outcomes: Sequence[Any]
    ) -> list[Any]:
        """The rows of a fetchrow_each batch from its outcomes (a tuple: some query failed).
        Queries that failed on a stale cached plan (before the first other failure) are run
        again, once, prepared again; then the first failure in argument order is raised, as
        the N separate fetchrow calls awaited together would."""
        rows = list(outcomes)
        stale: list[int] = []
        for i, r in enumerate(rows):
            if isinstance(r, BaseException):
                if not self._stale(r):
                    break
                stale.append(i)
        if stale:
            self._cache.pop(sql, None)
            st = await self._statement(sql)
            again = await self._wait(
                self._send(st, [args_list[i] for i in stale], MODE_FETCHROW_EACH), None
            )
            for i, r in zip(stale, again, strict=True):
                rows[i] = r
        for r in rows:
            if isinstance(r, BaseException):
                raise r
        return rows

    async def fetchrow_each(
        self,
        query: str,
        args: Iterable[Sequence[Any]],
        *,
        timeout: float | None = None,
    ) -> list[Any]:
        """``fetchrow(query, *a)`` for each argument sequence ``a``: the rows (or None) in
        order. Each run is its own query (Bind + Execute + Sync: a failing one undoes no other,
        unlike fetchmany's single transaction), all queued by one native call and answered as
        one result. After every query has answered, the first failure (in argument order) is
        raised; a query whose cached plan went stale is prepared again and re-run. A sequence
        that cannot be encoded raises before anything is sent. timeout: for the whole batch
        (on expiry or cancellation the batch is cancelled on the server, as one query)."""
        args_list = args if isinstance(args, (list, tuple)) else list(args)
        if not args_list:
            return []
        st = self._cache.get(query)
        if st is None or isinstance(st, asyncio.Future):
            st = await self._statement(query, timeout)
        else:
            self._cache.move_to_end(query)
        outcomes = await self._wait(self._send(st, args_list, MODE_FETCHROW_EACH), timeout)
        if type(outcomes) is list:
            return outcomes
        return await self._fetchrow_each_outcome(query, args_list, outcomes)

    async def _query(self, sql: str, args: Sequence[Any], mode: int, timeout: float | None) -> Any:
        st = self._cache.get(sql)
        if st is None or isinstance(st, asyncio.Future):
            st = await self._statement(sql, timeout)
        else:
            self._cache.move_to_end(sql)
        try:
            return await self._wait(self._send(st, args, mode), timeout)
        except PostgresError as e:
            if not self._stale(e):
                raise
            return await self._requery(sql, args, mode, timeout)  # prepared again, once

    async def fetch(self, query: str, *args: Any, timeout: float | None = None) -> list[Any]:
        """All rows as Records."""
        return await self._query(query, args, MODE_FETCH, timeout)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> Any:
        """The first row, or None."""
        return await self._query(query, args, MODE_FETCHROW, timeout)

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any:
        """The first column of the first row, or None."""
        if column:
            row = await self._query(query, args, MODE_FETCHROW, timeout)
            return None if row is None else row[column]
        return await self._query(query, args, MODE_FETCHVAL, timeout)

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Run a command; returns its status tag ("INSERT 0 1"). Without args, scripts may hold
        several statements (simple query protocol)."""
        if not args:
            self._core.simple_query(query, MODE_STATUS)
            return await self._wait(self._proto.request(), timeout)  # type: ignore[no-any-return]
        return await self._query(query, args, MODE_STATUS, timeout)  # type: ignore[no-any-return]

    async def _result(self, query: str, args: Sequence[Any], timeout: float | None = None) -> Any:
        """(rows, status tag): used by the sync-style Result API."""
        return await self._query(query, args, MODE_RESULT, timeout)

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None:
        """Run command once per argument tuple in one pipelined batch (one Sync)."""
        st = await self._statement(command, timeout)
        try:
            self._core.execute_many(st, args)
            fut = self._proto.request()
        finally:
            self._done_with(st)
        await self._wait(fut, timeout)

    async def fetchmany(
        self,
        query: str,
        args: Iterable[Sequence[Any]],
        *,
        timeout: float | None = None,
        record_class: type | None = None,
    ) -> list[Any]:
        """Run query for each argument sequence in args and return all rows in one list (asyncpg
        0.30's fetchmany). One pipeline: a Bind and an Execute per sequence, one Sync, so the
        runs are one implicit transaction (outside an explicit one): an error in any of them
        raises and undoes them all. Every sequence is encoded before anything is sent (a bad one
        raises and sends nothing). Empty args: []. record_class: only Record (the default) is
        supported; Record cannot be subclassed."""
        _check_record_class(record_class)
        arg_rows = args if isinstance(args, (list, tuple)) else list(args)
        return await self._query(query, arg_rows, MODE_FETCHMANY, timeout)  # type: ignore[no-any-return]

    async def prepare(self, query: str, *, timeout: float | None = None) -> PreparedStatement:
        """A prepared statement (cached per connection)."""
        return PreparedStatement(self, await self._statement(query, timeout))

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Transaction:
        """``async with conn.transaction():`` — a savepoint when nested."""
        return Transaction(self, isolation, readonly, deferrable)

    # -- COPY ----------------------------------------------------------------------------------
    async def copy_from_query(
        self, query: str, *args: Any, output: Any = None, format: str = "text"
    ) -> str:
        """COPY (query) TO STDOUT; data goes to output (callable or .write()), else returned."""
        if args:
            raise InterfaceError("copy_from_query does not take arguments; inline literals")
        return await self.copy_out(
            f"COPY ({query}) TO STDOUT (FORMAT {copy_format(format)})", output
        )

    async def copy_out(self, sql: str, output: Any = None, *, timeout: float | None = None) -> Any:
        """Run a ``COPY ... TO STDOUT`` statement. Data goes to output (callable or .write());
        without output, returns the bytes."""
        chunks: list[bytes] = []
        sink = chunks.append if output is None else getattr(output, "write", output)
        if not callable(sink):  # checked before anything is queued
            raise TypeError("copy_out output must be callable or have .write()")
        self._core.copy_out(sql, sink)
        tag = await self._wait(self._proto.request(), timeout)
        return b"".join(chunks) if output is None else tag

    async def copy_in(self, sql: str, data: Any, *, timeout: float | None = None) -> str:
        """Run a ``COPY ... FROM STDIN`` statement. data: bytes-like, a file-like object (binary
        ``read(n)``, sync or async), or an (async) iterable of bytes-like chunks; it is streamed
        with flow control, not buffered whole. If reading data raises, the COPY is aborted
        (CopyFail: nothing is inserted) and the exception propagates."""
        return await self._copy_stream(sql, _copy_chunks(data), timeout)

    async def copy_to_table(
        self,
        table_name: str,
        *,
        source: Any,
        columns: Sequence[str] | None = None,
        format: str = "text",
        schema_name: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """COPY table FROM STDIN with data from bytes, an iterable of bytes or a file-like."""
        sql = _copy_sql(table_name, schema_name, columns, format)
        return await self.copy_in(sql, source, timeout=timeout)

    async def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
        columns: Sequence[str] | None = None,
        schema_name: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """COPY records (sequences of Python values, an iterable or async iterable) into a table
        in binary format, encoded and sent in batches. A bad record aborts the COPY (nothing is
        inserted) and raises."""
        target = _qualified(table_name, schema_name)
        cols = ", ".join(_quote_ident(c) for c in columns) if columns else "*"
        if not isinstance(records, AsyncIterable):
            records = iter(records)  # TypeError now, before anything is queued
        shape = await self._statement(f"SELECT {cols} FROM {target} LIMIT 0", timeout)
        col_list = ", ".join(_quote_ident(c) for c in shape.column_names)
        self._done_with(shape)
        chunks = _record_chunks(self._core, shape, records)
        sql = f"COPY {target} ({col_list}) FROM STDIN (FORMAT binary)"
        return await self._copy_stream(sql, chunks, timeout)

    async def _copy_stream(
        self, sql: str, chunks: AsyncIterator[Any], timeout: float | None
    ) -> str:
        if self._copy_lock is None:
            self._copy_lock = asyncio.Lock()
        async with self._copy_lock:
            return await self._copy_stream_locked(sql, chunks, timeout)

    async def _copy_stream_locked(
        self, sql: str, chunks: AsyncIterator[Any], timeout: float | None
    ) -> str:
        ready: asyncio.Future[None] = self._loop.create_future()

        def on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        self._core.copy_in_start(sql, on_ready)
        fut = self._proto.request()
        timeout = timeout if timeout is not None else self._command_timeout
        try:
            if timeout is None:
                return await self._copy_feed(fut, ready, chunks)
            return await asyncio.wait_for(self._copy_feed(fut, ready, chunks), timeout)
        except (TimeoutError, asyncio.CancelledError):
            if not fut.done():
                fut.cancel()
                self._proto.cancel_request(fut)
            raise

    async def _copy_feed(
        self, fut: asyncio.Future[Any], ready: asyncio.Future[None], chunks: AsyncIterator[Any]
    ) -> str:
        core, proto = self._core, self._proto
        try:
            await asyncio.wait((ready, fut), return_when=asyncio.FIRST_COMPLETED)
            if not fut.done():  # the server asks for the data
                async for chunk in chunks:
                    if fut.done():  # the server rejected the data; it ignores the rest
                        break
                    core.copy_data(chunk)
                    proto.flush()
                    await proto.drain()  # flow control: wait while the socket buffer is full
            core.copy_end(None)
            proto.flush()
        except BaseException as e:
            # End the COPY whatever happened, so nothing else is read as copy data.
            core.copy_end(f"client error: {type(e).__name__}: {e}"[:1000])
            proto.flush()
            if isinstance(e, Exception) and not isinstance(e, PgConnectionError):
                try:  # let the server answer the CopyFail, so the connection is clean on return
                    await fut
                except Exception:
                    pass
            raise
        return await fut  # type: ignore[no-any-return]

    # -- LISTEN/NOTIFY -------------------------------------------------------------------------
    async def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """callback(connection, pid, channel, payload) per NOTIFY; coroutines are scheduled."""
        if channel not in self._listeners:
            await self.execute(f"LISTEN {_quote_ident(channel)}")
            self._listeners[channel] = []
        self._listeners[channel].append(callback)

    async def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        cbs = self._listeners.get(channel, [])
        if callback in cbs:
            cbs.remove(callback)
        if not cbs and channel in self._listeners:
            del self._listeners[channel]
            await self.execute(f"UNLISTEN {_quote_ident(channel)}")

    def _on_notify(self, pid: int, channel: str, payload: str) -> None:
        for cb in list(self._listeners.get(channel, ())):
            self._call_listener(cb, self, pid, channel, payload)

    def add_log_listener(self, callback: Callable[..., Any]) -> None:
        """callback(connection, message) for each NoticeResponse (a PostgresError/Warning)."""
        self._log_listeners.append(callback)

    def remove_log_listener(self, callback: Callable[..., Any]) -> None:
        if callback in self._log_listeners:
            self._log_listeners.remove(callback)

    def _on_notice(self, notice: Any) -> None:
        for cb in list(self._log_listeners):
            self._call_listener(cb, self, notice)

    def _call_listener(self, cb: Callable[..., Any], *args: Any) -> None:
        """Run a listener; its exceptions go to the loop's handler, never into the protocol."""
        try:
            r = cb(*args)
            if isinstance(r, Awaitable):
                _spawn(r)
        except Exception as e:
            self._loop.call_exception_handler(
                {"message": f"PostgreSQL listener {cb!r} failed", "exception": e}
            )

    # -- codecs --------------------------------------------------------------------------------
    async def set_type_codec(
        self,
        typename: str,
        *,
        encoder: Callable[[Any], str],
        decoder: Callable[[str], Any],
        schema: str = "public",
        format: str = "text",
    ) -> None:
        """Use encoder(value) -> str and decoder(str) -> value for a type (text format), e.g. an
        enum, a domain or an extension type. Affects statements prepared after the call."""
        if format != "text":
            raise InterfaceError("only format='text' user codecs are supported")
        oid = await self.fetchval(
            "SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typname = $1 AND n.nspname = ANY($2::text[])",
            typename,
            [schema, "pg_catalog"],
        )
        if oid is None:
            raise InterfaceError(f"unknown type {schema}.{typename}")
        self._core.set_type_codec(oid, encoder, decoder)
        self._cache.clear()  # statements prepared earlier keep their old codecs

    # -- lifecycle -----------------------------------------------------------------------------
    async def reset(self, *, timeout: float | None = None) -> None:
        """Make the connection fit for the next user: roll back, drop listeners."""
        if self._proto.waiters or self.is_in_transaction():
            # With a request still in flight (its caller gave up: timeout or cancellation) the
            # transaction state is unknown until it finishes (a BEGIN may be about to open one):
            # a ROLLBACK queued behind it ends whatever transaction is open then.
            await self.execute("ROLLBACK", timeout=timeout)
        self._tx_depth = 0
        if self._listeners:
            self._listeners.clear()
            await self.execute("UNLISTEN *", timeout=timeout)

    async def close(self, *, timeout: float | None = None) -> None:
        """Send Terminate and close the socket."""
        if self._closed:
            return
        self._closed = True
        if self._proto.lost is None:
            self._core.terminate()
            self._proto.flush()
            self._proto.close()

    def terminate(self) -> None:
        """Close at once without a goodbye."""
        self._closed = True
        self._proto.abort()


def _check_record_class(record_class: Any) -> None:
    """asyncpg's check: record_class must be a subclass of Record (here: Record itself)."""
    if record_class is None or record_class is Record:
        return
    if isinstance(record_class, type) and issubclass(record_class, Record):  # pragma: no cover
        return
    raise InterfaceError(
        f"record_class is expected to be a subclass of fasterapi.pg.Record, got {record_class!r}"
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(table: str, schema: str | None) -> str:
    return (_quote_ident(schema) + "." if schema else "") + _quote_ident(table)


def copy_format(fmt: str) -> str:
    """A COPY FORMAT option checked against PostgreSQL's formats (never interpolated raw)."""
    if not isinstance(fmt, str) or fmt.lower() not in COPY_FORMATS:
        raise InterfaceError(f"COPY format must be one of {', '.join(COPY_FORMATS)}; got {fmt!r}")
    return fmt.lower()


def _copy_sql(table: str, schema: str | None, columns: Sequence[str] | None, fmt: str) -> str:
    cols = " (" + ", ".join(_quote_ident(c) for c in columns) + ")" if columns else ""
    return f"COPY {_qualified(table, schema)}{cols} FROM STDIN (FORMAT {copy_format(fmt)})"


def _check_copy_source(data: Any) -> None:
    if isinstance(data, str):
        raise TypeError("COPY data must be bytes-like (encode the str), not str")
    if not (
        isinstance(data, (bytes, bytearray, memoryview))
        or hasattr(data, "read")
        or isinstance(data, (AsyncIterable, Iterable))
    ):
        raise TypeError(
            f"COPY data must be bytes-like, a file-like object or an iterable of bytes, "
            f"not {type(data).__name__}"
        )


def _copy_chunks(data: Any) -> AsyncIterator[Any]:
    """The chunks of a COPY source; raises TypeError at once for a source of the wrong kind."""
    _check_copy_source(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _one(data)
    if hasattr(data, "read"):
        return _read_chunks(data)
    if isinstance(data, AsyncIterable):
        return aiter(data)
    return _sync_chunks(iter(data))


async def _one(data: Any) -> AsyncIterator[Any]:
    yield data


async def _read_chunks(f: Any) -> AsyncIterator[Any]:
    while True:
        chunk = f.read(_COPY_READ_BYTES)
        if inspect.isawaitable(chunk):
            chunk = await chunk
        if not chunk:
            return
        yield chunk


async def _sync_chunks(it: Any) -> AsyncIterator[Any]:
    for chunk in it:
        yield chunk


async def _record_chunks(core: Any, shape: Any, records: Any) -> AsyncIterator[bytes]:
    yield _BINARY_COPY_HEADER
    if isinstance(records, AsyncIterable):
        batch: list[Any] = []
        async for rec in records:
            batch.append(rec)
            if len(batch) >= _COPY_RECORDS_BATCH:
                yield core.encode_copy_records(shape, batch)
                batch = []
        if batch:
            yield core.encode_copy_records(shape, batch)
    else:
        while True:
            batch = list(itertools.islice(records, _COPY_RECORDS_BATCH))
            if not batch:
                break
            yield core.encode_copy_records(shape, batch)
    yield _BINARY_COPY_TRAILER


async def connect(
    dsn: str | None = None,
    *,
    statement_cache_size: int = 256,
    command_timeout: float | None = None,
    **params: Any,
) -> Connection:
    """Open one connection (asyncpg.connect's shape); raises PgConnectionError/PostgresError."""
    p = parse_dsn(dsn, **params)
    loop = asyncio.get_running_loop()
    core = make_core(p)
    sock, tls = await open_socket(p, loop)
    try:
        proto = PgProtocol(
            core,
            loop,
            sock.detach(),
            tls_host=p.host if tls is not None else "",
            verify=tls.verify if tls is not None else False,
            cafile=tls.cafile if tls is not None else "",
            check_host=tls.check_host if tls is not None else False,
        )
    finally:
        sock.close()
    fut = proto.request()  # the startup request queued by make_core
    try:
        await asyncio.wait_for(fut, p.connect_timeout)
    except BaseException:
        proto.abort()
        raise
    if proto.lost is not None:
        raise PgConnectionError(str(proto.lost))
    return Connection(
        p, proto, statement_cache_size=statement_cache_size, command_timeout=command_timeout
    )
