"""Connection.fetchrow_each and Connection._fetchrow_each_future: N independent fetchrow queries
(Bind + Execute + Sync each, TechEmpower's General Requirement #7) queued by one native call
(Core.execute_many with MODE_FETCHROW_EACH) and answered as one future. Checked on the wire (N
Syncs; the result only after the N-th ReadyForQuery; a held batch forgotten) and against the
server: rows equal to N separate fetchrow calls, a failing query neither undoes nor hides the
others, a stale plan, a transaction, cancellation and timeout mid-batch."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc
from fasterapi.pg._native_pg import MODE_FETCHROW, MODE_STATUS, Record
from fasterapi.pg.connection import MODE_FETCHROW_EACH

from .conftest import ACTIVE, gone_on_the_server, kv_table, poll_active, run
from .test_core_bytes import BIND, DONE, READY, data_row, message_types, msg, prepared, started

pytestmark = pytest.mark.pg

TABLE = f"fa_feb_{os.getpid()}"
# 0 or 1 row; NULL in t for even n
SELECT = (
    "SELECT $1::int AS n, CASE WHEN $1::int % 2 = 0 THEN NULL ELSE $2::text END AS t"
    " WHERE $1::int > 0"
)
INSERT = f"INSERT INTO {TABLE} (k) SELECT $1::int WHERE 10 / $1::int > 0 RETURNING k"


# -- the wire (no server) -------------------------------------------------------------------------
ERROR = msg(b"E", b"SERROR\0C22012\0Mdivision by zero\0\0")


def test_a_sync_per_tuple_and_one_result_after_the_last_ready() -> None:
    core = started()
    st = prepared(core)
    core.execute_many(st, [(1, "a"), (2, None), (3, "c"), (4, "d")], MODE_FETCHROW_EACH)
    assert message_types(core.take_out()) == [b"B", b"E", b"S"] * 4
    assert core.pending == 1  # one request, one waiter
    # query 1: two rows (the first is kept); 2: an error; 3: no row; 4: a NULL
    first = BIND + data_row(b"\0\0\0\1", b"a") + data_row(b"\0\0\0\7", b"z") + DONE + READY
    assert core.feed(first + ERROR + READY + BIND + DONE) == []  # not every query answered yet
    (out,) = core.feed(READY + BIND + data_row(b"\0\0\0\4", None) + DONE + READY)
    assert type(out) is tuple and len(out) == 4  # some query failed: a tuple of outcomes
    assert type(out[0]) is Record and tuple(out[0]) == (1, "a")
    assert isinstance(out[1], exc.DivisionByZeroError) and out[1].sqlstate == "22012"
    assert out[2] is None and tuple(out[3]) == (4, None)
    assert core.pending == 0

    core.execute_many(st, [(5, "e"), (6, "f")], MODE_FETCHROW_EACH)
    assert message_types(core.take_out()) == [b"B", b"E", b"S"] * 2
    (ok,) = core.feed((BIND + data_row(b"\0\0\0\5", b"e") + DONE + READY) * 2)
    assert type(ok) is list and [tuple(r) for r in ok] == [(5, "e"), (5, "e")]
    # the bytes are those of N separate fetchrow calls
    for a in [(1, "a"), (2, None)]:
        core.execute(st, a, MODE_FETCHROW)
    separate = core.take_out()
    core.execute_many(st, [(1, "a"), (2, None)], MODE_FETCHROW_EACH)
    assert core.take_out() == separate


def test_bad_tuple_or_empty_batch_queues_nothing() -> None:
    core = started()
    st = prepared(core)
    for bad in ([(1, "a"), (object(), "b")], [(1, "a"), (2,)], [(1, "a"), 3]):
        with pytest.raises((TypeError, ValueError)):
            core.execute_many(st, bad, MODE_FETCHROW_EACH)
    with pytest.raises(ValueError):
        core.execute_many(st, [], MODE_FETCHROW_EACH)
    assert not core.has_out and core.pending == 0


def test_a_held_batch_forgotten_waits_for_one_ready() -> None:
    """Queued while a cancel is in flight (held), then abandoned: replaced by one Sync, and the
    FIFO stays in step (one ReadyForQuery completes it, the next request gets its own)."""
    core = started()
    st = prepared(core)
    core.simple_query("SELECT pg_sleep(9)", MODE_STATUS)
    assert core.pause_after(0)
    core.take_out()
    core.execute_many(st, [(1, "a"), (2, "b"), (3, "c")], MODE_FETCHROW_EACH)
    assert not core.has_out and core.held == 1
    assert core.forget_unsent(1)
    core.resume()
    assert core.take_out() == msg(b"S", b"")
    core.execute(st, (9, "i"), MODE_FETCHROW)
    core.take_out()
    results = core.feed(msg(b"C", b"SELECT 1\0") + READY + READY)
    assert results[0] == "SELECT 1" and len(results) == 2  # the sleep, then the forgotten batch
    (row,) = core.feed(BIND + data_row(b"\0\0\0\x09", b"i") + DONE + READY)
    assert tuple(row) == (9, "i")


# -- against the server ---------------------------------------------------------------------------
@pytest.fixture
def table(pg_dsn: str) -> Iterator[str]:
    yield from kv_table(pg_dsn, TABLE)


def test_rows_equal_separate_fetchrow_calls(pg_dsn: str) -> None:
    async def go() -> None:
        c = await pg.connect(pg_dsn)
        try:
            args = [(n, f"s{n}") for n in (-1, 1, 2, 0, 3, 4, 7)] + [(5, None)]
            want = [await c.fetchrow(SELECT, *a) for a in args]
            assert None in want and any(r is not None and r["t"] is None for r in want)
            rows = await c.fetchrow_each(SELECT, args)
            assert rows == want and all(r is None or type(r) is Record for r in rows)
            assert await c.fetchrow_each(SELECT, iter(args)) == want  # any iterable
            fut = c._fetchrow_each_future(SELECT, args)  # prepared: the bare future
            assert isinstance(fut, asyncio.Future)
            assert await fut == want
            empty = c._fetchrow_each_future(SELECT, [])
            assert empty is not None and empty.done() and empty.result() == []
            assert await c.fetchrow_each(SELECT, []) == []
            assert c._fetchrow_each_future("SELECT $1::int + 1", [(1,)]) is None  # not prepared
            big = [(n, "x") for n in range(1, 501)]  # TFB's largest queries count
            assert [r["n"] for r in await c.fetchrow_each(SELECT, big)] == list(range(1, 501))
        finally:
            await c.close()

    run(go())


def test_wire_bytes_equal_separate_fetchrow_calls(pg_dsn: str) -> None:
    """On a live connection: the batch writes exactly the bytes of N fetchrow calls (a Sync
    each), counted by the channel."""

    async def go() -> None:
        c = await pg.connect(pg_dsn)
        try:
            args = [(n, "x") for n in range(1, 11)]
            await c.fetchrow(SELECT, 1, "x")
            ch = c._proto.channel
            before = ch.bytes_written
            await asyncio.gather(*(c.fetchrow(SELECT, *a) for a in args))
            separate = ch.bytes_written - before
            before = ch.bytes_written
            await c.fetchrow_each(SELECT, args)
            assert ch.bytes_written - before == separate
        finally:
            await c.close()

    run(go())


def test_failing_query_undoes_and_hides_no_other(table: str) -> None:
    async def go() -> None:
        c = await pg.connect(table)
        try:
            with pytest.raises(exc.DivisionByZeroError):
                await c.fetchrow_each(INSERT, [(1,), (0,), (2,), (0,), (3,)])
            assert await c.fetchval(f"SELECT array_agg(k ORDER BY k) FROM {TABLE}") == [1, 2, 3]
            # the outcomes themselves: each failed query's error in its place, every row kept
            fut = c._fetchrow_each_future(INSERT, [(4,), (4,), (0,), (5,)])
            assert fut is not None
            out = await fut
            assert type(out) is tuple and out[0]["k"] == 4 and out[3]["k"] == 5
            assert isinstance(out[1], exc.UniqueViolationError)
            assert isinstance(out[2], exc.DivisionByZeroError)
            with pytest.raises(exc.UniqueViolationError):  # the first in argument order
                await c._fetchrow_each_outcome(INSERT, [(4,), (4,), (0,), (5,)], out)
            # different failures: the earliest tuple's is raised, whichever came first
            sql = "SELECT (100000 / $1::int)::int2 AS v"
            with pytest.raises(exc.NumericValueOutOfRangeError):
                await c.fetchrow_each(sql, [(10,), (1,), (0,)])
            with pytest.raises(exc.DivisionByZeroError):
                await c.fetchrow_each(sql, [(10,), (0,), (1,)])
            assert c.pending == 0 and not c.is_in_transaction()
            assert [r["v"] for r in await c.fetchrow_each(sql, [(10,), (50,)])] == [10000, 2000]
        finally:
            await c.close()

    run(go())


def test_in_a_transaction_as_separate_fetchrow_calls(table: str) -> None:
    """Inside an explicit transaction the first error aborts it, so the later queries fail
    with 25P02 (as separate fetchrow calls would); the first failure is raised."""

    async def go() -> None:
        c = await pg.connect(table)
        try:
            with pytest.raises(exc.DivisionByZeroError):
                async with c.transaction():
                    await c.fetchrow_each(INSERT, [(1,), (0,), (2,)])
            assert await c.fetchval(f"SELECT count(*) FROM {TABLE}") == 0
            args = [(2,), (0,), (3,)]
            with pytest.raises(exc.DivisionByZeroError):
                async with c.transaction():
                    fut = c._fetchrow_each_future(INSERT, args)  # prepared now
                    assert fut is not None
                    out = await fut
                    assert out[0]["k"] == 2 and isinstance(out[1], exc.DivisionByZeroError)
                    assert isinstance(out[2], exc.InFailedSqlTransactionError)
                    await c._fetchrow_each_outcome(INSERT, args, out)
            assert await c.fetchval(f"SELECT count(*) FROM {TABLE}") == 0
            assert not c.is_in_transaction() and c.pending == 0
        finally:
            await c.close()

    run(go())


def test_reprepares_when_the_cached_plan_goes_stale(table: str) -> None:
    async def go() -> None:
        c = await pg.connect(table)
        other = await pg.connect(table)
        try:
            sql = f"SELECT v FROM {TABLE} WHERE k = $1"
            await c.execute(f"INSERT INTO {TABLE} VALUES (1, 'one'), (2, 'two')")
            assert [r["v"] for r in await c.fetchrow_each(sql, [(1,), (2,)])] == ["one", "two"]
            await other.execute(f"ALTER TABLE {TABLE} ALTER COLUMN v TYPE varchar(10)")
            fut = c._fetchrow_each_future(sql, [(2,), (3,), (1,)])
            assert fut is not None
            out = await fut  # every query hit the stale plan
            assert type(out) is tuple and all(isinstance(r, exc.PostgresError) for r in out)
            rows = await c._fetchrow_each_outcome(sql, [(2,), (3,), (1,)], out)
            assert rows[0]["v"] == "two" and rows[1] is None and rows[2]["v"] == "one"
            await other.execute(f"ALTER TABLE {TABLE} ALTER COLUMN v TYPE text")
            rows = await c.fetchrow_each(sql, [(1,), (2,)])  # re-prepared inside
            assert [r["v"] for r in rows] == ["one", "two"]
        finally:
            await other.close()
            await c.close()

    run(go())


SLEEP = f"SELECT pg_sleep($1::float8)::text AS slept, $1::float8 AS s /* {TABLE} */"


async def _running(watcher: pg.Connection, want: int) -> None:
    # a CancelRequest for an idle backend would be lost
    if not await poll_active(watcher, SLEEP, lambda n: n == want, 200):
        assert await watcher.fetchval(ACTIVE, SLEEP) == want


def test_cancellation_mid_batch_stops_its_queries_and_leaves_the_connection_usable(
    pg_dsn: str,
) -> None:
    """The caller cancelled while the second of four queries sleeps: every remaining query of
    the batch is cancelled on the server (a CancelRequest can only hit the batch: what is queued
    behind it is held until all N answered), then the connection is idle and usable."""

    async def go() -> None:
        c = await pg.connect(pg_dsn)
        watcher = await pg.connect(pg_dsn)
        try:
            await c.fetchrow_each(SLEEP, [(0,)])  # prepared: the bare future next
            fut = c._fetchrow_each_future(SLEEP, [(0,), (30,), (30,), (0,)])
            assert fut is not None
            await _running(watcher, 1)
            started = asyncio.get_running_loop().time()
            fut.cancel()
            c._abandon(fut)  # what a caller does on cancellation (as Connection._wait)
            behind = asyncio.ensure_future(c.fetchrow(SLEEP, 0))  # held until the batch ends
            await asyncio.sleep(0)
            assert c._proto.cancelling and c._core.held == 1
            assert (await behind)["s"] == 0
            assert asyncio.get_running_loop().time() - started < 10  # both sleeps cancelled
            assert await watcher.fetchval(ACTIVE, SLEEP) == 0
            assert c.pending == 0 and not c._proto.cancelling and not c.is_in_transaction()
            assert [r["s"] for r in await c.fetchrow_each(SLEEP, [(0,), (0,)])] == [0, 0]

            task = asyncio.ensure_future(c.fetchrow_each(SLEEP, [(30,), (0,)]))  # the coroutine
            await _running(watcher, 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await c.fetchrow(SLEEP, 0))["s"] == 0
            assert await watcher.fetchval(ACTIVE, SLEEP) == 0
        finally:
            await watcher.close()
            await c.close()

    run(go())


def test_timeout_cancels_the_batch_on_the_server(pg_dsn: str) -> None:
    async def go() -> None:
        c = await pg.connect(pg_dsn)
        watcher = await pg.connect(pg_dsn)
        try:
            with pytest.raises(TimeoutError):
                await c.fetchrow_each(SLEEP, [(0,), (30,), (0,)], timeout=0.5)
            await gone_on_the_server(watcher, SLEEP)
            assert [r["s"] for r in await c.fetchrow_each(SLEEP, [(0,)])] == [0]
        finally:
            await watcher.close()
            await c.close()

    run(go())


def test_bad_tuple_raises_and_sends_nothing(table: str) -> None:
    async def go() -> None:
        c = await pg.connect(table)
        try:
            await c.fetchrow_each(INSERT, [(9,)])
            before = c._proto.channel.bytes_written
            with pytest.raises(TypeError):
                await c.fetchrow_each(INSERT, [(1,), (object(),)])
            with pytest.raises(TypeError):
                c._fetchrow_each_future(INSERT, [(1,), (2, 3)])
            assert c._proto.channel.bytes_written == before and c.pending == 0
            assert await c.fetchval(f"SELECT array_agg(k) FROM {TABLE}") == [9]
        finally:
            await c.close()

    run(go())
