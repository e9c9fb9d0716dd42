"""PgPool.fetchrow_each: fetchrow once per argument tuple, each run its own query, sent as one
request on one connection once the statement is prepared there (one future, no Task per query),
re-prepared when the schema changes, cancelled on the server when the caller is cancelled."""

from __future__ import annotations

import asyncio
import os

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .conftest import ACTIVE, cancel_once_running, gone_on_the_server, poll_active, run

pytestmark = pytest.mark.pg

SQL = "SELECT $1::int AS n, $1::int * 2 AS twice WHERE $1::int >= 0"


async def _warm(pool: pg.PgPool, sql: str, arg: object) -> None:
    """Prepares `sql` on every connection of the pool (all held at once, then released)."""
    held = [await pool.acquire() for _ in range(pool.max_size)]
    for c in held:
        await c.fetchrow(sql, arg)
    for c in held:
        await pool.release(c)


def test_rows_in_order_with_none_and_no_task_per_query(pg_dsn: str) -> None:
    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            args = [(i,) for i in range(-3, 60)]
            rows = await pool.fetchrow_each(SQL, args)  # cold: prepares through fetchrow
            want = [None if i < 0 else (i, 2 * i) for (i,) in args]
            assert [None if r is None else (r["n"], r["twice"]) for r in rows] == want
            await _warm(pool, SQL, 1)
            batch = asyncio.ensure_future(pool.fetchrow_each(SQL, args))
            await asyncio.sleep(0)  # the batch is sent and waits for its answers
            assert len(asyncio.all_tasks()) == 2  # this test and the batch: none per query
            rows = await batch
            assert [None if r is None else (r["n"], r["twice"]) for r in rows] == want
            assert await pool.fetchrow_each(SQL, []) == []

    run(go())


def test_each_run_is_its_own_query(pg_dsn: str) -> None:
    """A failing run raises (the first failure in argument order) and undoes no other run,
    unlike executemany's single transaction; the pool stays usable."""
    table = f"fa_each_{os.getpid()}"

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await pool.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (v int)")
            insert = f"INSERT INTO {table} SELECT $1::int WHERE 10 / $1::int > 0 RETURNING v"
            try:
                await _warm(pool, f"SELECT count(*) FROM {table} WHERE v = $1", 0)
                with pytest.raises(exc.DivisionByZeroError):
                    await pool.fetchrow_each(insert, [(1,), (0,), (2,), (0,), (3,)])
                assert await pool.fetchval(f"SELECT array_agg(v ORDER BY v) FROM {table}") == [
                    1,
                    2,
                    3,
                ]
                rows = await pool.fetchrow_each(insert, [(4,), (5,)])
                assert [r["v"] for r in rows] == [4, 5]
            finally:
                await pool.execute(f"DROP TABLE IF EXISTS {table}")

    run(go())


def test_reprepares_when_the_cached_plan_changes_result_type(pg_dsn: str) -> None:
    table = f"fa_each_rp_{os.getpid()}"

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await pool.execute(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (a int)")
            sql = f"SELECT a FROM {table} WHERE $1::int > 0"
            try:
                await pool.execute(f"INSERT INTO {table} VALUES (7)")
                await _warm(pool, sql, 1)
                assert [r["a"] for r in await pool.fetchrow_each(sql, [(1,), (2,)])] == [7, 7]
                await pool.execute(f"ALTER TABLE {table} ALTER COLUMN a TYPE text")
                rows = await pool.fetchrow_each(sql, [(1,), (2,), (3,)])
                assert [r["a"] for r in rows] == ["7", "7", "7"]
            finally:
                await pool.execute(f"DROP TABLE IF EXISTS {table}")

    run(go())


def test_cancelling_the_caller_cancels_the_queries_on_the_server(pg_dsn: str) -> None:
    sleep = "SELECT pg_sleep($1::float8) AS slept"

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await _warm(pool, sleep, 0)
            batch = asyncio.ensure_future(pool.fetchrow_each(sleep, [(30,)]))
            # the server stops the sleep: it was cancelled there
            await cancel_once_running(pg_dsn, batch, sleep)
            assert [r["n"] for r in await pool.fetchrow_each(SQL, [(1,), (2,)])] == [1, 2]

    run(go())


def test_raises_the_first_failure_in_argument_order(pg_dsn: str) -> None:
    """Different failures in one batch: the one of the earliest argument tuple is raised (once
    every query has answered), whichever connection answered first; the pool stays usable."""
    sql = "SELECT (100000 / $1::int)::int2 AS v"  # 0: division by zero; 1: int2 out of range

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await _warm(pool, sql, 10)
            with pytest.raises(exc.NumericValueOutOfRangeError):
                await pool.fetchrow_each(sql, [(10,), (1,), (0,), (10,), (0,)])
            with pytest.raises(exc.DivisionByZeroError):
                await pool.fetchrow_each(sql, [(10,), (10,), (0,), (1,), (10,)])
            rows = await pool.fetchrow_each(sql, [(10,), (20,), (50,)])
            assert [r["v"] for r in rows] == [10000, 5000, 2000]

    run(go())


def test_cancelling_a_batch_cancels_every_remaining_query(pg_dsn: str) -> None:
    """Two answered and two 30 s queries in one batch (one request on one connection):
    cancelling the caller stops the running one and the one after it on the server (the
    CancelRequest is re-sent while the batch runs; what is queued behind it waits, so none can
    hit another request); the pool stays usable."""
    sleep = f"SELECT pg_sleep($1::float8) AS slept /* fa_each_{os.getpid()} */"

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await _warm(pool, sleep, 0)
            batch = asyncio.ensure_future(pool.fetchrow_each(sleep, [(0,), (0,), (30,), (30,)]))
            watcher = await pg.connect(pg_dsn)
            try:
                # the batch is in its first 30 s sleep
                await poll_active(watcher, sleep, lambda n: n == 1, 200)
                assert await watcher.fetchval(ACTIVE, sleep) == 1
                started = asyncio.get_running_loop().time()
                batch.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await batch
                await gone_on_the_server(watcher, sleep, 200)  # both sleeps stopped there
                assert asyncio.get_running_loop().time() - started < 10
            finally:
                await watcher.close()
            assert [r["n"] for r in await pool.fetchrow_each(SQL, [(1,), (2,), (3,)])] == [1, 2, 3]

    run(go())


def test_the_native_call_takes_iterables_timeouts_and_bad_arguments(pg_dsn: str) -> None:
    """PoolCore.fetchrow_each: warm, the batch is queued by the call itself (a native Query, no
    coroutine); any iterable of tuples is taken (a generator consumed once); a timeout goes
    through ``gather`` over ``fetchrow``; no tuples is []; a non-iterable raises at the call and
    an unknown keyword as Python's own call would."""

    async def go() -> None:
        async with pg.PgPool(pg_dsn, min_size=2, max_size=2) as pool:
            await _warm(pool, SQL, 1)
            await pool.fetchrow_each(SQL, [(0,)])  # the first call after releases may sweep
            pending = pool.fetchrow_each(SQL, [(1,), (2,)])
            assert type(pending).__name__ == "Query"  # queued natively, awaited as one future
            assert [r["n"] for r in await pending] == [1, 2]
            rows = await pool.fetchrow_each(SQL, ((i,) for i in (3, -1, 4)))
            assert [None if r is None else r["n"] for r in rows] == [3, None, 4]
            rows = await pool.fetchrow_each(SQL, [(5,), (6,)], timeout=10)
            assert [r["twice"] for r in rows] == [10, 12]
            assert await pool.fetchrow_each(SQL, iter(())) == []
            mine: list[tuple[int]] = []
            got = await pool.fetchrow_each(SQL, mine)
            assert got == [] and got is not mine
            with pytest.raises(TypeError):
                pool.fetchrow_each(SQL, 5)
            with pytest.raises(TypeError):
                await pool.fetchrow_each(SQL, [(1,)], nonsense=1)
            assert [r["n"] for r in await pool.fetchrow_each(SQL, [(7,)])] == [7]

    run(go())
