"""PgPool.acquire()/release(): the idle list lives in the native PoolCore, which checks a free
connection out and takes a clean one back without a Python frame; the Python pool waits (with
the acquire timeout), opens, health-checks and resets. These tests hold both halves to the
pool's contract: exclusive checkouts under concurrency, a broken or dirty connection never
handed out as it was, close() with connections out, and timeouts while waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from fasterapi import pg

from .conftest import run

pytestmark = pytest.mark.pg


def test_checkouts_are_exclusive_under_concurrency(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=4) as pool:
            in_use: set[pg.Connection] = set()
            seen: set[pg.Connection] = set()

            async def worker(i: int) -> None:
                for k in range(10):
                    async with pool.acquire() as c:
                        assert c not in in_use  # never handed to two holders at once
                        in_use.add(c)
                        seen.add(c)
                        assert await c.fetchval("SELECT $1::int", i * 100 + k) == i * 100 + k
                        await asyncio.sleep(0)
                        in_use.discard(c)

            await asyncio.gather(*(worker(i) for i in range(12)))
            st = pool.stats()
            assert st.acquires == 120
            assert st.held == 0 and st.idle == st.size == len(seen) <= 4
            assert set(pool._idle) == seen
            assert pool._fast_acquires > 0  # most checkouts found a connection free

    run(go())


def test_a_free_connection_is_handed_out_without_a_coroutine(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=1, max_size=1) as pool:
            acq = pool.acquire()
            enter = acq.__aenter__()
            assert not asyncio.iscoroutine(enter)  # native: already done
            conn = await enter
            assert pool.stats().held == 1 and pool.stats().idle == 0
            assert await conn.fetchval("SELECT 7") == 7
            leave = acq.__aexit__(None, None, None)
            assert not asyncio.iscoroutine(leave)  # clean: back to the idle list natively
            await leave
            assert pool._idle == [conn] and pool.stats().held == 0
            c2 = await pool.acquire()  # the `await pool.acquire()` form takes the same path
            assert c2 is conn
            await pool.release(c2)
            assert pool._idle == [conn]

    run(go())


def test_a_broken_connection_is_never_handed_out_again(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            async with pool.acquire() as c:
                victim = c
                pid = c.get_server_pid()
            # Killed while idle: dropped from the idle list once its end is seen.
            admin = await pg.connect(pg_dsn)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
            finally:
                await admin.close()
            for _ in range(50):
                if victim.is_closed():
                    break
                await asyncio.sleep(0.02)
            assert victim.is_closed()
            for _ in range(6):
                async with pool.acquire() as c:
                    assert c is not victim
                    assert await c.fetchval("SELECT 1") == 1
            assert victim not in pool._idle

            # Broken while held: release drops it instead of returning it to the idle list.
            async with pool.acquire() as c:
                held_victim = c
                c.terminate()
            assert held_victim not in pool._idle and held_victim not in pool._held
            for _ in range(6):
                async with pool.acquire() as c:
                    assert c is not held_victim and c is not victim
                    assert await c.fetchval("SELECT 2") == 2
            assert pool.stats().size <= 2

    run(go())


def test_a_dirty_connection_is_reset_before_reuse(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=1, max_size=1) as pool:
            got: list[str] = []
            async with pool.acquire() as c:
                await c.execute("BEGIN")
                await c.add_listener("fa_pool_acquire_chan", lambda *a: got.append(a[-1]))
            async with pool.acquire() as c2:
                assert c2 is c
                assert not c2.is_in_transaction()  # rolled back by release
                assert await c2.fetchval("SELECT txid_current_if_assigned()") is None
                # UNLISTEN * ran: the old holder's channel is not listened to any more
                assert await c2.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            assert got == []

    run(go())


def test_close_with_connections_out(pg_dsn: str) -> None:
    async def go() -> None:
        pool = pg.PgPool(pg_dsn, min_size=2, max_size=3)
        await pool.open()
        async with pool.acquire() as c:
            loose = await pool.acquire()
            await pool.close()
            assert c.is_closed() and loose.is_closed()
            with pytest.raises(pg.InterfaceError, match="closed"):
                await pool.acquire()
        await pool.release(loose)  # after close: no error, nothing returns to the idle list
        assert pool._idle == [] and pool.stats().held == 0
        with pytest.raises(pg.InterfaceError, match="closed"):
            async with pool.acquire():
                pass

    run(go())


def test_timeouts_while_waiting_and_the_waiter_woken(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=1, max_size=1, acquire_timeout=5) as pool:
            held = await pool.acquire()
            t0 = time.monotonic()
            with pytest.raises(pg.PoolAcquireTimeoutError):
                async with pool.acquire(timeout=0.2):
                    pass
            assert 0.15 <= time.monotonic() - t0 < 2
            with pytest.raises(pg.PoolAcquireTimeoutError):
                await pool.acquire(timeout=0.1)
            assert pool.stats().acquire_timeouts == 2

            waiter = asyncio.ensure_future(pool.acquire())
            await asyncio.sleep(0.05)
            assert not waiter.done()
            t0 = time.monotonic()
            await pool.release(held)  # the native release wakes the waiter
            got = await asyncio.wait_for(waiter, 2)
            assert got is held and time.monotonic() - t0 < 1
            assert pool.stats().held == 1 and pool._idle == []
            later = asyncio.get_running_loop().call_later(
                0.1, lambda: asyncio.ensure_future(pool.release(got))
            )
            async with pool.acquire(timeout=2) as c:  # a waiter in the async-with form, woken
                assert c is held
            later.cancel()
            assert pool._idle == [held] and pool.stats().held == 0

    run(go())


def test_health_check_due_takes_the_python_path(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=1, max_size=1, health_check_interval=0) as pool:
            async with pool.acquire() as c:
                pid = c.get_server_pid()
            fast = pool._fast_acquires
            async with pool.acquire() as c:  # checked with SELECT 1 first: still the same one
                assert c.get_server_pid() == pid
            assert pool._fast_acquires == fast
            assert pool.stats().health_check_failures == 0

    run(go())
