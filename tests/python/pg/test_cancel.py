"""Cancellation hits only the query it is meant for: a timed-out query's CancelRequest must never
cancel another caller's query pipelined on the same connection (or sent right after)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .conftest import run

pytestmark = pytest.mark.pg


def test_pipelined_fast_queries_are_never_cancelled_by_a_slow_ones_timeout(pg_dsn: str) -> None:
    """Slow queries time out about when they finish on the server, with fast queries of other
    callers pipelined behind them: a cancel sent late would land on a fast one."""

    async def go() -> None:
        pool = pg.PgPool(pg_dsn, min_size=1, max_size=1)
        async with pool:
            hit: list[Any] = []
            timeouts = 0
            for trial in range(24):
                timeout = 0.1 + (trial % 6) * 0.006  # around the slow query's 0.1 s

                async def fast(i: int) -> Any:
                    await asyncio.sleep(0.002 * i)
                    return await pool.fetchval("SELECT pg_sleep(0.03)::text || $1::text", str(i))

                results = await asyncio.wait_for(
                    asyncio.gather(
                        pool.fetchval("SELECT pg_sleep(0.1)", timeout=timeout),
                        *(fast(i) for i in range(4)),
                        return_exceptions=True,
                    ),
                    30,
                )
                timeouts += isinstance(results[0], TimeoutError)
                for i, r in enumerate(results[1:]):
                    if r != str(i):
                        hit.append(r)
            assert not hit, hit
            assert timeouts > 0  # the race was exercised
            assert await pool.fetchval("SELECT 1") == 1

    run(go())


def test_a_query_sent_right_after_a_timeout_is_not_cancelled(pg_dsn: str) -> None:
    """The timed-out query is alone on the connection, so it is cancelled; the caller's next
    query goes out only once that cancel can no longer reach it."""

    async def go() -> None:
        conn = await pg.connect(pg_dsn)
        try:
            hit: list[Any] = []
            for trial in range(24):
                # the CancelRequest lands a few ms after the timeout: around the query's end
                timeout = 0.04 + (trial % 12) * 0.002
                try:
                    await conn.fetchval("SELECT pg_sleep(0.06)", timeout=timeout)
                except TimeoutError:
                    pass
                try:
                    got = await asyncio.wait_for(
                        conn.fetchval("SELECT pg_sleep(0.05)::text || 'ok'"), 20
                    )
                except exc.QueryCanceledError as e:
                    hit.append(e)
                else:
                    assert got == "ok"
            assert not hit, hit
        finally:
            conn.terminate()

    run(go())


def test_a_lone_timed_out_query_is_cancelled_on_the_server(pg_dsn: str) -> None:
    async def go() -> None:
        conn = await pg.connect(pg_dsn)
        watcher = await pg.connect(pg_dsn)
        try:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            with pytest.raises(TimeoutError):
                await conn.fetchval("SELECT pg_sleep(30)", timeout=0.2)
            # requests queued now wait for the cancel, then run
            assert await asyncio.wait_for(conn.fetchval("SELECT 8"), 10) == 8
            assert loop.time() - t0 < 10
            active = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'"
                " AND query LIKE '%pg_sleep(30)%'",
                conn.get_server_pid(),
            )
            assert active == 0
        finally:
            conn.terminate()
            watcher.terminate()

    run(go())


def test_a_timed_out_query_with_others_behind_it_is_left_to_finish(pg_dsn: str) -> None:
    async def go() -> None:
        conn = await pg.connect(pg_dsn)
        try:
            await conn.prepare("SELECT pg_sleep(0.5)")  # prepared: the two Executes pipeline
            await conn.prepare("SELECT 'behind'")
            slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.5)", timeout=0.1))
            await asyncio.sleep(0)
            behind = asyncio.ensure_future(conn.fetchval("SELECT 'behind'"))
            with pytest.raises(TimeoutError):
                await slow
            assert not conn._proto.cancelling  # no cancel: it would risk hitting `behind`
            assert await asyncio.wait_for(behind, 10) == "behind"
        finally:
            conn.terminate()

    run(go())


def test_a_request_that_times_out_before_it_is_sent_never_runs(pg_dsn: str) -> None:
    async def go() -> None:
        conn = await pg.connect(pg_dsn)
        try:
            await conn.execute("CREATE TEMP TABLE never (v int)")
            await conn.prepare("INSERT INTO never VALUES (1)")
            with pytest.raises(TimeoutError):
                await conn.fetchval("SELECT pg_sleep(30)", timeout=0.2)
            assert conn._proto.cancelling  # requests queued now are held until it is done
            with pytest.raises(TimeoutError):
                await conn.execute("INSERT INTO never VALUES (1)", timeout=0.001)
            assert await asyncio.wait_for(conn.fetchval("SELECT count(*) FROM never"), 10) == 0
        finally:
            conn.terminate()

    run(go())
