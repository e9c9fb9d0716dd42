"""Reliability under failures (loopback only, bounded in time): backends terminated while the pool
is under load, and a network stall (a TCP proxy that stops forwarding). Checked: no call hangs
past its timeouts, the pool never hands out a broken connection afterwards, and every commit that
returned success is in the table."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .conftest import run

pytestmark = [pytest.mark.pg, pytest.mark.slow]

# What a caller may see when its connection dies or stalls: anything else is a bug.
EXPECTED_FAILURES = (
    pg.PgConnectionError,
    exc.AdminShutdownError,  # 57P01: terminated by pg_terminate_backend
    TimeoutError,
    pg.PoolAcquireTimeoutError,
)


def with_app_name(dsn: str, name: str, **query: str) -> str:
    u = urlsplit(dsn)
    q = "&".join([*filter(None, [u.query]), f"application_name={name}", "sslmode=disable"])
    q += "".join(f"&{k}={v}" for k, v in query.items())
    return urlunsplit(u._replace(query=q))


class Load:
    """Concurrent callers: pipelined pool-level reads, autocommit inserts and transactions."""

    def __init__(self, pool: pg.PgPool, table: str) -> None:
        self.pool = pool
        self.table = table
        self.committed: set[int] = set()
        self.transactions: set[int] = set()  # ids whose transaction was attempted
        self.unexpected: list[BaseException] = []
        self.wrong: list[Any] = []
        self.slowest = 0.0
        self.calls = 0
        self._ids = itertools.count(1)
        self.stop = False

    async def _timed(self, aw: Any) -> Any:
        t0 = time.monotonic()
        try:
            return await aw
        finally:
            self.slowest = max(self.slowest, time.monotonic() - t0)
            self.calls += 1

    async def worker(self, k: int) -> None:
        while not self.stop:
            i = next(self._ids)
            try:
                if k % 3 == 0:
                    got = await self._timed(self.pool.fetchval("SELECT $1::int * 2", i))
                    if got != 2 * i:
                        self.wrong.append((i, got))
                elif k % 3 == 1:
                    await self._timed(
                        self.pool.execute(f"INSERT INTO {self.table} (v) VALUES ($1)", i)
                    )
                    self.committed.add(i)
                else:
                    self.transactions.add(i)
                    await self._timed(self._transaction(i))
                    self.committed.update((i, -i))
            except EXPECTED_FAILURES:
                await asyncio.sleep(0.01)
            except Exception as e:
                self.unexpected.append(e)
            await asyncio.sleep(0)

    async def _transaction(self, i: int) -> None:
        async with self.pool.acquire() as c, c.transaction():
            await c.execute(f"INSERT INTO {self.table} (v) VALUES ($1)", i)
            await c.execute(f"INSERT INTO {self.table} (v) VALUES ($1)", -i)


async def check_pool_is_clean(pool: pg.PgPool, table: str, load: Load) -> None:
    assert not load.unexpected, load.unexpected[:5]
    assert not load.wrong, load.wrong[:5]
    # every commit that returned success is there
    rows = await pool.fetch(f"SELECT v FROM {table}")
    present = {r[0] for r in rows}
    missing = load.committed - present
    assert not missing, sorted(missing)[:10]
    # a transaction is all or nothing
    half = [i for i in load.transactions if (i in present) != (-i in present)]
    assert not half, half[:10]
    # no broken connection is handed out: every call succeeds at the first try
    vals = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(60)))
    assert list(vals) == list(range(60))
    for _ in range(2 * pool.max_size):
        async with pool.acquire(timeout=5) as c:
            assert not c.is_closed()
            assert await c.fetchval("SELECT 1", timeout=5) == 1


def test_terminated_backends_under_load(pg_dsn: str) -> None:
    async def go() -> None:
        dsn = with_app_name(pg_dsn, "fa_rel_kill")
        admin = await pg.connect(pg_dsn)
        table = "fa_rel_kill_t"
        await admin.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (v int)")
        pool = pg.PgPool(dsn, min_size=3, max_size=4, command_timeout=10, acquire_timeout=10)
        try:
            async with pool:
                load = Load(pool, table)
                workers = [asyncio.ensure_future(load.worker(k)) for k in range(12)]
                killed = 0
                for _ in range(10):
                    await asyncio.sleep(0.25)
                    killed += await admin.fetchval(
                        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                        "pg_stat_activity WHERE application_name = 'fa_rel_kill') t"
                    )
                await asyncio.sleep(0.5)
                load.stop = True
                await asyncio.wait_for(asyncio.gather(*workers), 30)
                assert killed >= 5 and load.calls > 50
                assert load.slowest < 10, load.slowest
                await asyncio.sleep(0.3)  # let the pool see the last EOFs
                await check_pool_is_clean(pool, table, load)
                assert pool.stats().size <= pool.max_size
        finally:
            await admin.execute(f"DROP TABLE IF EXISTS {table}")
            await admin.close()

    run(asyncio.wait_for(go(), 120))


def test_terminated_backends_sync_pool(pg_dsn: str) -> None:
    dsn = with_app_name(pg_dsn, "fa_rel_kill_sync")
    pool = pg.PgPool(dsn, min_size=0, max_size=3, command_timeout=10, acquire_timeout=10)
    admin = pg.PgPool(pg_dsn, min_size=0, max_size=1)
    admin.exec("DROP TABLE IF EXISTS fa_rel_sync_t")
    admin.exec("CREATE TABLE fa_rel_sync_t (v int)")
    committed: set[int] = set()
    unexpected: list[BaseException] = []
    stop = threading.Event()
    ids = itertools.count(1)
    lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set():
            with lock:
                i = next(ids)
            try:
                with pool.connection() as c:
                    with c.transaction():
                        c.exec("INSERT INTO fa_rel_sync_t VALUES ($1)", i)
                    committed.add(i)
                    assert c.exec("SELECT $1::int", i).scalar() == i
            except EXPECTED_FAILURES:
                time.sleep(0.01)
            except Exception as e:
                unexpected.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for _ in range(8):
            time.sleep(0.25)
            admin.exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'fa_rel_kill_sync'"
            )
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive()
        assert not unexpected, unexpected[:5]
        present = {r[0] for r in admin.exec("SELECT v FROM fa_rel_sync_t")}
        assert not committed - present
        for i in range(20):  # no broken connection handed out
            assert pool.exec("SELECT $1::int", i).scalar() == i
    finally:
        stop.set()
        pool.close_sync()
        admin.exec("DROP TABLE IF EXISTS fa_rel_sync_t")
        admin.close_sync()


class StallProxy:
    """A TCP proxy to the server that can freeze: while frozen, nothing is forwarded either way
    (connections stay open, as on a network that drops packets)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.running = asyncio.Event()
        self.running.set()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def freeze(self) -> None:
        self.running.clear()

    def thaw(self) -> None:
        self.running.set()

    async def _client(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await self.running.wait()  # a frozen network does not complete new sessions either
        try:
            ur, uw = await asyncio.open_connection(*self.target)
        except OSError:
            w.close()
            return
        self.writers += [w, uw]
        for src, dst in ((r, uw), (ur, w)):
            t = asyncio.ensure_future(self._pump(src, dst))
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                await self.running.wait()
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for t in list(self.tasks):
            t.cancel()
        for w in self.writers:
            w.transport.abort()


@contextlib.asynccontextmanager
async def stall_proxy(dsn: str) -> AsyncIterator[tuple[StallProxy, str]]:
    u = urlsplit(dsn)
    proxy = StallProxy(u.hostname or "127.0.0.1", u.port or 5432)
    port = await proxy.start()
    netloc = u.netloc.rsplit("@", 1)
    hostport = f"127.0.0.1:{port}"
    new = f"{netloc[0]}@{hostport}" if len(netloc) == 2 else hostport
    try:
        yield proxy, urlunsplit(u._replace(netloc=new))
    finally:
        await proxy.close()


def test_network_stall_under_load(pg_dsn: str) -> None:
    command_timeout = 1.0
    connect_timeout = 1.5

    async def go() -> None:
        admin = await pg.connect(pg_dsn)
        table = "fa_rel_stall_t"
        await admin.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (v int)")
        try:
            async with stall_proxy(pg_dsn) as (proxy, proxied):
                dsn = with_app_name(proxied, "fa_rel_stall", connect_timeout=str(connect_timeout))
                pool = pg.PgPool(
                    dsn,
                    min_size=2,
                    max_size=4,
                    command_timeout=command_timeout,
                    acquire_timeout=2,
                    health_check_interval=0.5,
                )
                async with pool:
                    load = Load(pool, table)
                    workers = [asyncio.ensure_future(load.worker(k)) for k in range(9)]
                    await asyncio.sleep(0.7)
                    proxy.freeze()
                    await asyncio.sleep(3)
                    proxy.thaw()
                    await asyncio.sleep(2)
                    load.stop = True
                    await asyncio.wait_for(asyncio.gather(*workers), 30)
                    # no call hung past its timeouts (a query: command_timeout; a checkout:
                    # acquire_timeout, during which a connection may be opened and checked)
                    limit = 2 + connect_timeout + 5 + 1
                    assert load.slowest < limit, load.slowest
                    await asyncio.sleep(connect_timeout + 1)  # stuck cancels give up; queues drain
                    await check_pool_is_clean(pool, table, load)
        finally:
            await admin.execute(f"DROP TABLE IF EXISTS {table}")
            await admin.close()

    run(asyncio.wait_for(go(), 120))


def test_network_stall_sync(pg_dsn: str) -> None:
    async def go() -> None:
        async with stall_proxy(pg_dsn) as (proxy, proxied):
            dsn = with_app_name(proxied, "fa_rel_stall_sync", connect_timeout="1")
            pool = pg.PgPool(dsn, min_size=0, max_size=2, command_timeout=0.5)
            loop = asyncio.get_running_loop()

            def blocking() -> None:
                assert pool.exec("SELECT 1").scalar() == 1
                proxy_freeze_done.wait(5)
                t0 = time.monotonic()
                with pytest.raises(EXPECTED_FAILURES):
                    pool.exec("SELECT 2")
                assert time.monotonic() - t0 < 0.5 + 1 + 1  # command_timeout + cancel attempt
                with pytest.raises(EXPECTED_FAILURES):  # a new connection cannot start either
                    pool.exec("SELECT 3")
                assert time.monotonic() - t0 < 0.5 + 1 + 1 + 1 + 1

            proxy_freeze_done = threading.Event()
            fut = loop.run_in_executor(None, blocking)
            await asyncio.sleep(0.3)
            proxy.freeze()
            proxy_freeze_done.set()
            await asyncio.wait_for(fut, 20)
            proxy.thaw()

            def after() -> None:
                for i in range(5):  # the stalled connection was dropped, not handed out
                    assert pool.exec("SELECT $1::int", i).scalar() == i
                pool.close_sync()

            await asyncio.wait_for(loop.run_in_executor(None, after), 20)

    run(asyncio.wait_for(go(), 60))


def test_release_with_a_timed_out_begin_in_flight_loses_no_commit(pg_dsn: str) -> None:
    """A BEGIN whose caller timed out is still in flight when the connection goes back to the
    pool: the pool must not hand the connection to pool-level queries that would then run (and
    be reported done) inside that transaction."""

    async def go() -> None:
        admin = await pg.connect(pg_dsn)
        await admin.execute("DROP TABLE IF EXISTS fa_rel_begin; CREATE TABLE fa_rel_begin (v int)")
        pool = pg.PgPool(pg_dsn, min_size=1, max_size=1)
        try:
            async with pool:
                async with pool.acquire() as c:
                    script = asyncio.ensure_future(
                        c.execute("BEGIN; SELECT pg_sleep(0.3)", timeout=0.05)
                    )
                    await asyncio.sleep(0)
                    behind = asyncio.ensure_future(c.fetchval("SELECT 1"))  # so no cancel
                    with pytest.raises(TimeoutError):
                        await script
                assert (
                    await asyncio.wait_for(
                        pool.execute("INSERT INTO fa_rel_begin VALUES ($1)", 1), 10
                    )
                    == "INSERT 0 1"
                )
                assert await behind == 1
                assert await admin.fetchval("SELECT count(*) FROM fa_rel_begin") == 1
        finally:
            await admin.execute("DROP TABLE IF EXISTS fa_rel_begin")
            await admin.close()

    run(asyncio.wait_for(go(), 60))
