"""Connection.fetchmany and PgPool.fetchmany (asyncpg 0.30's API): the query run for each argument
sequence as one pipeline (a Bind and an Execute each, one Sync), every row in one list. Checked
against asyncpg on the same server and queries: rows, NULLs, errors (an error in the middle
raises and commits nothing), empty args; and the wire (one Sync), a statement not prepared yet,
a plan gone stale, timeout and cancellation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import require_module

from fasterapi import pg
from fasterapi.pg import exceptions as exc
from fasterapi.pg._native_pg import MODE_FETCH, MODE_FETCHMANY, MODE_STATUS, Record

from .conftest import cancel_once_running, gone_on_the_server, kv_table, run
from .test_core_bytes import BIND, DONE, READY, data_row, message_types, prepared, started

pytestmark = pytest.mark.pg

TABLE = f"fa_fm_{os.getpid()}"
INSERT = f"INSERT INTO {TABLE} (k, v) VALUES ($1, $2) RETURNING k, v"
# 0, 1 or 2 rows per run; NULLs in both columns
SELECT = (
    "SELECT g AS n, CASE WHEN g % 2 = 0 THEN NULL ELSE $2::text END AS t"
    " FROM generate_series(1, $1::int) g"
)


def test_one_sync_for_every_argument_set_on_the_wire() -> None:
    """fetchmany and executemany: Bind + Execute per set, a single Sync; one result for all."""
    core = started()
    st = prepared(core)
    core.execute_many(st, [(1, "a"), (2, None), (3, "c")], MODE_FETCHMANY)
    assert message_types(core.take_out()) == [b"B", b"E"] * 3 + [b"S"]
    rows = core.feed(
        BIND
        + data_row(b"\0\0\0\1", b"a")
        + DONE
        + BIND
        + data_row(b"\0\0\0\2", None)
        + DONE
        + BIND
        + DONE  # a run without rows
        + READY
    )
    assert len(rows) == 1 and [tuple(r) for r in rows[0]] == [(1, "a"), (2, None)]
    assert all(type(r) is Record for r in rows[0])
    core.execute_many(st, [(1, "a"), (2, "b")])  # executemany: the default mode
    assert message_types(core.take_out()) == [b"B", b"E", b"B", b"E", b"S"]
    (tag,) = core.feed(BIND + DONE + BIND + DONE + READY)  # one result: the last status tag
    assert isinstance(tag, str)
    core.execute_many(st, [(1, "a")], MODE_STATUS)
    core.take_out()
    for bad in (MODE_FETCH, 99):
        with pytest.raises(ValueError):
            core.execute_many(st, [(1, "a")], bad)
    assert not core.has_out


async def _both(dsn: str, body: Callable[[Any], Awaitable[Any]]) -> tuple[Any, Any, Any]:
    """body(conn) with asyncpg's connection, ours and our pool: each outcome, value or error."""
    asyncpg = require_module("asyncpg")
    outcomes: list[Any] = []
    a = await asyncpg.connect(dsn)
    c = await pg.connect(dsn)
    pool = pg.PgPool(dsn, min_size=1, max_size=1)
    await pool.open()
    try:
        for conn in (a, c, pool):
            await conn.execute(f"TRUNCATE {TABLE}")
            try:
                outcomes.append(await body(conn))
            except Exception as e:  # compared below
                outcomes.append(e)
    finally:
        await a.close()
        await c.close()
        await pool.close()
    return outcomes[0], outcomes[1], outcomes[2]


def _plain(v: Any) -> Any:
    if isinstance(v, list):
        return [tuple(r) for r in v]
    return v


@pytest.fixture
def table(pg_dsn: str) -> Iterator[str]:
    yield from kv_table(pg_dsn, TABLE)


def test_rows_and_nulls_match_asyncpg(table: str) -> None:
    async def body(conn: Any) -> Any:
        inserted = await conn.fetchmany(INSERT, [(1, "a"), (2, None), (3, "c")])
        selected = await conn.fetchmany(SELECT, [(0, "x"), (2, "y"), (1, None), (3, "z")])
        again = await conn.fetchmany(SELECT, iter([(2, "w")]))  # any iterable; prepared now
        stored = await conn.fetch(f"SELECT k, v FROM {TABLE} ORDER BY k")
        return [_plain(inserted), _plain(selected), _plain(again), _plain(stored)]

    theirs, ours, pooled = run(_both(table, body))
    assert not isinstance(theirs, Exception), theirs
    assert theirs == [
        [(1, "a"), (2, None), (3, "c")],
        [(1, "y"), (2, None), (1, None), (1, "z"), (2, None), (3, "z")],
        [(1, "w"), (2, None)],
        [(1, "a"), (2, None), (3, "c")],
    ]
    assert ours == theirs and pooled == theirs


def test_error_in_the_middle_raises_and_commits_nothing_as_asyncpg(table: str) -> None:
    async def body(conn: Any) -> Any:
        await conn.execute(f"INSERT INTO {TABLE} VALUES (5, 'five')")
        try:  # the third set hits the primary key: the first two are undone with it
            await conn.fetchmany(INSERT, [(1, "a"), (2, "b"), (5, "dup"), (6, "f")])
        except Exception as e:
            error = e
        rows = _plain(await conn.fetch(f"SELECT k, v FROM {TABLE} ORDER BY k"))
        return type(error).__name__, error.sqlstate, rows  # type: ignore[attr-defined]

    theirs, ours, pooled = run(_both(table, body))
    assert theirs == ("UniqueViolationError", "23505", [(5, "five")])
    assert ours == theirs and pooled == theirs

    async def select_error(conn: Any) -> Any:
        return await conn.fetchmany("SELECT 10 / $1::int AS q", [(5,), (0,), (2,)])

    theirs, ours, pooled = run(_both(table, select_error))
    for e in (theirs, ours, pooled):
        assert type(e).__name__ == "DivisionByZeroError" and e.sqlstate == "22012"
    assert isinstance(ours, exc.DivisionByZeroError)


def test_empty_args_as_asyncpg(table: str) -> None:
    async def body(conn: Any) -> Any:
        empty = [await conn.fetchmany(SELECT, []), await conn.fetchmany(SELECT, iter(()))]
        try:  # the statement is still prepared: bad SQL raises with no arguments too
            await conn.fetchmany("SELEC 1", [])
        except Exception as e:
            return empty, type(e).__name__
        return empty, None

    theirs, ours, pooled = run(_both(table, body))
    assert theirs == ([[], []], "PostgresSyntaxError")
    assert ours == theirs and pooled == theirs


def test_bad_argument_set_sends_nothing(table: str) -> None:
    """A set that cannot be encoded raises before anything is sent (asyncpg rolls back what it
    sent already: the same outcome, nothing committed); the connection stays usable."""

    async def body(conn: Any) -> Any:
        raised: str | None = None
        try:
            await conn.fetchmany(INSERT, [(1, "a"), (object(), "b")])
        except Exception as e:
            raised = type(e).__name__
        rows = await conn.fetchmany(INSERT, [(7, "g")])
        return (
            raised is not None,
            _plain(rows),
            await conn.fetchval(f"SELECT count(*) FROM {TABLE}"),
        )

    theirs, ours, pooled = run(_both(table, body))
    assert theirs == (True, [(7, "g")], 1)
    assert ours == theirs and pooled == theirs

    async def wrong_arity(conn: Any) -> Any:
        with pytest.raises((TypeError, require_module("asyncpg").InterfaceError)):
            await conn.fetchmany(INSERT, [(1, "a"), (2,)])
        return await conn.fetchval(f"SELECT count(*) FROM {TABLE}")

    assert run(_both(table, wrong_arity)) == (0, 0, 0)


def test_record_class(table: str) -> None:
    async def body(conn: Any) -> Any:
        try:
            await conn.fetchmany(SELECT, [(1, "a")], record_class=dict)
        except Exception as e:
            return type(e).__name__
        return None

    theirs, ours, pooled = run(_both(table, body))
    assert theirs == "InterfaceError" and ours == theirs and pooled == theirs

    async def ours_only() -> None:
        async with pg.PgPool(table, min_size=1, max_size=1) as pool:
            rows = await pool.fetchmany(SELECT, [(1, "a")], record_class=Record)
            assert [tuple(r) for r in rows] == [(1, "a")] and type(rows[0]) is Record

    run(ours_only())


def test_pool_fast_path_once_prepared_and_cold_statement(table: str) -> None:
    """Not prepared on the connection yet: the Python path prepares it; then one native call
    (a Query awaitable, no coroutine) queues every set on the connection the pool picks."""

    async def go() -> None:
        async with pg.PgPool(table, min_size=2, max_size=2) as pool:
            cold = pool.fetchmany(SELECT, [(1, "a"), (2, "b")])
            assert type(cold).__name__ == "coroutine"
            assert [tuple(r) for r in await cold] == [(1, "a"), (1, "b"), (2, None)]
            for c in [await pool.acquire() for _ in range(2)]:  # prepared on both, then idle
                await c.fetchmany(SELECT, [(1, "a")])
                await pool.release(c)
            warm = pool.fetchmany(SELECT, ((n, "q") for n in (1, 3)))  # a generator, consumed once
            assert type(warm).__name__ == "Query"
            assert [tuple(r) for r in await warm] == [(1, "q"), (1, "q"), (2, None), (3, "q")]
            timed = pool.fetchmany(SELECT, [(1, "t")], timeout=5)
            assert type(timed).__name__ == "coroutine"
            assert [tuple(r) for r in await timed] == [(1, "t")]
            with pytest.raises(TypeError):
                pool.fetchmany(SELECT, 5)  # type: ignore[arg-type]  # raised at the call
            with pytest.raises(TypeError):
                await pool.fetchmany(SELECT, [(1, "a")], colour=1)  # type: ignore[call-arg]

    run(go())


def test_reprepares_when_the_cached_plan_goes_stale(table: str) -> None:
    async def go() -> None:
        async with pg.PgPool(table, min_size=1, max_size=1) as pool:
            sql = f"SELECT v FROM {TABLE} WHERE k = $1"
            await pool.execute(f"INSERT INTO {TABLE} VALUES (1, 'one'), (2, 'two')")
            assert [r[0] for r in await pool.fetchmany(sql, [(1,), (2,)])] == ["one", "two"]
            await pool.execute(f"ALTER TABLE {TABLE} ALTER COLUMN v TYPE varchar(10)")
            await pool.execute(f"ALTER TABLE {TABLE} ALTER COLUMN k TYPE bigint")
            fut = pool.fetchmany(sql, [(2,), (1,)])
            assert type(fut).__name__ == "Query"  # the native path re-prepares too
            assert [r[0] for r in await fut] == ["two", "one"]
            async with pool.acquire() as c:
                await c.execute(f"ALTER TABLE {TABLE} ALTER COLUMN v TYPE text")
                await c.execute(f"ALTER TABLE {TABLE} ALTER COLUMN k TYPE int")
                assert [r[0] for r in await c.fetchmany(sql, [(1,)])] == ["one"]

    run(go())


SLOW_INSERT = f"INSERT INTO {TABLE} (k, v) VALUES ($1, pg_sleep($2::float8)::text) RETURNING k"


def test_timeout_cancels_on_the_server_and_commits_nothing(table: str) -> None:
    async def go() -> None:
        watcher = await pg.connect(table)
        c = await pg.connect(table)
        try:
            with pytest.raises(TimeoutError):
                await c.fetchmany(SLOW_INSERT, [(1, 0), (2, 30)], timeout=0.3)
            await gone_on_the_server(watcher, SLOW_INSERT)
            assert await c.fetchval(f"SELECT count(*) FROM {TABLE}") == 0
            assert [r[0] for r in await c.fetchmany(SLOW_INSERT, [(3, 0)])] == [3]
        finally:
            await c.close()
            await watcher.close()

    run(go())


def test_cancelling_the_caller_cancels_on_the_server_and_commits_nothing(table: str) -> None:
    async def go() -> None:
        async with pg.PgPool(table, min_size=1, max_size=1) as pool:
            await pool.fetchmany(SLOW_INSERT, [(100, 0)])  # prepared: the native path next
            await pool.execute(f"TRUNCATE {TABLE}")
            batch = asyncio.ensure_future(pool.fetchmany(SLOW_INSERT, [(1, 0), (2, 30), (3, 0)]))
            await cancel_once_running(table, batch, SLOW_INSERT)
            assert await pool.fetchval(f"SELECT count(*) FROM {TABLE}") == 0
            assert [r[0] for r in await pool.fetchmany(SLOW_INSERT, [(4, 0), (5, 0)])] == [4, 5]

    run(go())
