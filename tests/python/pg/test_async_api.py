"""The asyncpg-style API: queries, Records, pipelining, errors, transactions, COPY, LISTEN."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .conftest import run

pytestmark = pytest.mark.pg


def with_conn(dsn: str, body: Any, **kw: Any) -> Any:
    async def go() -> Any:
        conn = await pg.connect(dsn, **kw)
        try:
            return await body(conn)
        finally:
            await conn.close()

    return run(go())


def test_fetch_family_and_records(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        rows = await c.fetch("SELECT g AS n, g * 2 AS twice FROM generate_series(1, 3) g")
        assert [tuple(r) for r in rows] == [(1, 2), (2, 4), (3, 6)]
        r = rows[1]
        assert r["n"] == 2 and r[1] == 4 and r[-1] == 4 and r.get("missing", 7) == 7
        assert list(r.keys()) == ["n", "twice"] and dict(r.items()) == {"n": 2, "twice": 4}
        assert "n" in r and len(r) == 2 and r[0:1] == (2,)
        with pytest.raises(KeyError):
            r["nope"]
        with pytest.raises(IndexError):
            r[5]
        assert await c.fetchrow("SELECT 1 WHERE false") is None
        assert await c.fetchval("SELECT NULL::int") is None
        assert await c.fetchval("SELECT 1, 2", column=1) == 2
        assert await c.execute("CREATE TEMP TABLE t (a int PRIMARY KEY, b text)") == "CREATE TABLE"
        assert await c.execute("INSERT INTO t VALUES ($1, $2)", 1, "x") == "INSERT 0 1"
        await c.executemany("INSERT INTO t VALUES ($1, $2)", [(i, str(i)) for i in range(2, 100)])
        assert await c.fetchval("SELECT count(*) FROM t") == 99
        st = await c.prepare("SELECT b FROM t WHERE a = $1")
        assert st.parameter_oids == [23] and st.column_names == ("b",)
        assert await st.fetchval(5) == "5"

    with_conn(pg_dsn, body)


def test_concurrent_queries_pipeline_on_one_connection(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> list[int]:
        return list(
            await asyncio.gather(*(c.fetchval("SELECT $1::int + 1", i) for i in range(500)))
        )

    assert with_conn(pg_dsn, body) == [i + 1 for i in range(500)]


def test_bad_sql_reports_position_and_connection_stays_usable(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        with pytest.raises(exc.PostgresSyntaxError) as ei:
            await c.fetch("SELECT 1 FROM WHERE")
        e = ei.value
        assert e.sqlstate == "42601" and e.position == "15" and "syntax error" in e.message
        with pytest.raises(exc.UndefinedTableError) as ei2:
            await c.fetch("SELECT * FROM no_such_table")
        assert isinstance(ei2.value, pg.PostgresError) and ei2.value.sqlstate == "42P01"
        with pytest.raises(exc.DivisionByZeroError):
            await c.fetchval("SELECT 1 / $1::int", 0)
        # An error in the middle of a pipeline fails only its own query.
        results = await asyncio.gather(
            c.fetchval("SELECT 1"),
            c.fetchval("SELECT 1/0"),
            c.fetchval("SELECT 3"),
            return_exceptions=True,
        )
        assert (
            results[0] == 1 and isinstance(results[1], exc.DivisionByZeroError) and results[2] == 3
        )
        assert await c.fetchval("SELECT 42") == 42

    with_conn(pg_dsn, body)


def test_error_fields_detail_hint_constraint(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE u (id int PRIMARY KEY)")
        await c.execute("INSERT INTO u VALUES (1)")
        with pytest.raises(exc.UniqueViolationError) as ei:
            await c.execute("INSERT INTO u VALUES ($1)", 1)
        e = ei.value
        assert e.detail == "Key (id)=(1) already exists."
        assert e.constraint_name == "u_pkey" and e.table_name == "u"
        assert isinstance(e, exc.IntegrityConstraintViolationError)
        with pytest.raises(exc.UndefinedFunctionError) as ei2:
            await c.fetchval("SELECT no_such_fn(1)")
        assert ei2.value.hint and "No function matches" in ei2.value.hint

    with_conn(pg_dsn, body)


def test_transactions_commit_rollback_savepoints(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE tx (v int)")
        async with c.transaction():
            await c.execute("INSERT INTO tx VALUES (1)")
            try:
                async with c.transaction():
                    await c.execute("INSERT INTO tx VALUES (2)")
                    raise RuntimeError("inner")
            except RuntimeError:
                pass
            async with c.transaction():
                await c.execute("INSERT INTO tx VALUES (3)")
        with pytest.raises(ZeroDivisionError):
            async with c.transaction(isolation="serializable"):
                await c.execute("INSERT INTO tx VALUES (4)")
                1 / 0  # noqa: B018
        assert [r[0] for r in await c.fetch("SELECT v FROM tx ORDER BY v")] == [1, 3]
        async with c.transaction(isolation="repeatable_read", readonly=True):
            assert await c.fetchval("SHOW transaction_isolation") == "repeatable read"
            with pytest.raises(exc.ReadOnlySqlTransactionError):
                await c.execute("CREATE TABLE fa_ro (v int)")  # temp tables are writable
        assert not c.is_in_transaction()
        with pytest.raises(pg.InterfaceError):
            c.transaction(isolation="bogus")
            await c.transaction(isolation="bogus").start()

    with_conn(pg_dsn, body)


def test_serializable_conflict_raises_typed_error(pg_dsn: str) -> None:
    async def go() -> None:
        a = await pg.connect(pg_dsn)
        b = await pg.connect(pg_dsn)
        try:
            await a.execute("DROP TABLE IF EXISTS fa_ser; CREATE TABLE fa_ser (k int, v int)")
            await a.execute("INSERT INTO fa_ser VALUES (1, 0), (2, 0)")
            ta = a.transaction(isolation="serializable")
            tb = b.transaction(isolation="serializable")
            await ta.start()
            await tb.start()
            sa = await a.fetchval("SELECT sum(v) FROM fa_ser WHERE k = 1")
            sb = await b.fetchval("SELECT sum(v) FROM fa_ser WHERE k = 2")
            await a.execute("UPDATE fa_ser SET v = $1 WHERE k = 2", sa + 1)
            await b.execute("UPDATE fa_ser SET v = $1 WHERE k = 1", sb + 1)
            await ta.commit()
            with pytest.raises(exc.SerializationFailureError) as ei:
                await tb.commit()
            assert ei.value.sqlstate == "40001"
            assert isinstance(ei.value, exc.TransactionRollbackError)
        finally:
            await a.execute("DROP TABLE IF EXISTS fa_ser")
            await a.close()
            await b.close()

    run(go())


def test_copy_million_rows_checked_by_checksum(pg_dsn: str) -> None:
    n = 1_000_000

    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE big (id int8, name text, score float8)")
        tag = await c.copy_records_to_table(
            "big", records=((i, f"name-{i}", i * 0.5) for i in range(n))
        )
        assert tag == f"COPY {n}"
        assert await c.fetchval("SELECT count(*) FROM big") == n
        assert await c.fetchval("SELECT sum(id) FROM big") == n * (n - 1) // 2
        server_md5 = await c.fetchval(
            "SELECT md5(string_agg(id || ',' || name || ',' || score, E'\\n' ORDER BY id)) FROM big"
        )
        data = await c.copy_out(
            "COPY (SELECT id, name, score FROM big ORDER BY id) TO STDOUT (FORMAT csv)"
        )
        assert hashlib.md5(data.rstrip(b"\n")).hexdigest() == server_md5
        # text COPY in, back out
        await c.execute("CREATE TEMP TABLE small (a int, b text)")
        assert await c.copy_in("COPY small FROM STDIN", b"1\tone\n2\ttwo\n") == "COPY 2"
        assert await c.copy_out("COPY small TO STDOUT") == b"1\tone\n2\ttwo\n"
        with pytest.raises(exc.BadCopyFileFormatError):
            await c.copy_in("COPY small FROM STDIN", b"1\tone\textra\n")
        assert await c.fetchval("SELECT count(*) FROM small") == 2

    with_conn(pg_dsn, body)


def test_listen_notify(pg_dsn: str) -> None:
    async def go() -> list[tuple[str, str]]:
        got: list[tuple[str, str]] = []
        done = asyncio.Event()
        listener = await pg.connect(pg_dsn)
        sender = await pg.connect(pg_dsn)

        def on_note(conn: Any, pid: int, channel: str, payload: str) -> None:
            got.append((channel, payload))
            if len(got) == 2:
                done.set()

        try:
            await listener.add_listener("fa_chan", on_note)
            await sender.execute("NOTIFY fa_chan, 'hello'")
            await sender.execute("SELECT pg_notify('fa_chan', 'wörld')")
            await asyncio.wait_for(done.wait(), 10)
        finally:
            await listener.close()
            await sender.close()
        return got

    assert run(go()) == [("fa_chan", "hello"), ("fa_chan", "wörld")]


def test_cancellation_sends_cancel_request(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        task = asyncio.ensure_future(c.fetchval("SELECT pg_sleep(30)"))
        watcher = await pg.connect(pg_dsn)
        try:  # cancel only once the server runs it (a CancelRequest for an idle backend is lost)
            for _ in range(200):
                n = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                    c.get_server_pid(),
                )
                if n:
                    break
                await asyncio.sleep(0.05)
        finally:
            await watcher.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The server-side query was cancelled, so the connection answers promptly again.
        assert await asyncio.wait_for(c.fetchval("SELECT 7"), 10) == 7

    with_conn(pg_dsn, body)


def test_command_timeout(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await c.fetchval("SELECT pg_sleep(30)", timeout=0.2)
        assert await asyncio.wait_for(c.fetchval("SELECT 8"), 10) == 8

    with_conn(pg_dsn, body)


def test_reprepare_when_cached_plan_changes_result_type(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE rp (a int)")
        await c.execute("INSERT INTO rp VALUES (1)")
        assert await c.fetchval("SELECT * FROM rp") == 1
        await c.execute("ALTER TABLE rp ALTER COLUMN a TYPE text")
        assert await c.fetchval("SELECT * FROM rp") == "1"

    with_conn(pg_dsn, body)


def test_statement_cache_is_bounded(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        for i in range(20):
            assert await c.fetchval(f"SELECT {i}") == i
        assert len(c._cache) == 5
        n = await c.fetchval("SELECT count(*) FROM pg_prepared_statements")
        assert n <= 6

    with_conn(pg_dsn, body, statement_cache_size=5)


def test_pool_api(pg_dsn: str) -> None:
    async def go() -> None:
        pool = PgPoolT(pg_dsn, min_size=2, max_size=4, acquire_timeout=0.5)
        async with pool:
            assert await pool.fetchval("SELECT $1::int", 5) == 5
            assert (await pool.fetchrow("SELECT 1 AS a"))["a"] == 1
            assert len(await pool.fetch("SELECT generate_series(1, 100)")) == 100
            vals = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(200)))
            assert list(vals) == list(range(200))
            await pool.execute("DROP TABLE IF EXISTS fa_pool; CREATE TABLE fa_pool (v int)")
            await pool.executemany("INSERT INTO fa_pool VALUES ($1)", [(i,) for i in range(10)])
            # abandoned transaction is rolled back on release
            async with pool.acquire() as c:
                await c.execute("BEGIN")
                await c.execute("INSERT INTO fa_pool VALUES (999)")
            assert await pool.fetchval("SELECT count(*) FROM fa_pool WHERE v = 999") == 0
            async with pool.acquire() as c:
                async with c.transaction():
                    await c.execute("INSERT INTO fa_pool VALUES (1000)")
            assert await pool.fetchval("SELECT count(*) FROM fa_pool") == 11
            held = [await pool.acquire() for _ in range(4)]
            with pytest.raises(pg.PoolAcquireTimeoutError, match="max_size=4"):
                await pool.acquire()
            for c in held:
                await pool.release(c)
            st = pool.stats()
            assert st.acquire_timeouts == 1 and st.size <= 4
            await pool.execute("DROP TABLE fa_pool")

    run(go())


PgPoolT = pg.PgPool


def test_user_codec_and_notices(pg_dsn: str) -> None:
    class Mood:
        def __init__(self, v: str) -> None:
            self.v = v

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Mood) and other.v == self.v

    async def body(c: pg.Connection) -> None:
        await c.execute("DROP TYPE IF EXISTS fa_mood; CREATE TYPE fa_mood AS ENUM ('sad', 'ok')")
        await c.set_type_codec("fa_mood", encoder=lambda m: m.v, decoder=Mood)
        assert await c.fetchval("SELECT $1::fa_mood", Mood("ok")) == Mood("ok")
        assert await c.fetchval("SELECT 'sad'::fa_mood") == Mood("sad")
        assert await c.fetchval("SELECT ARRAY[1]::int[]") == [1]  # other types unaffected
        notes: list[Any] = []
        c.add_log_listener(lambda conn, msg: notes.append(msg))
        await c.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
        assert [n.message for n in notes] == ["hello 42"]
        assert notes[0].severity == "NOTICE"
        await c.execute("DROP TYPE fa_mood")

    with_conn(pg_dsn, body)


def test_pool_max_lifetime_replaces_connections(pg_dsn: str) -> None:
    async def go() -> None:
        pool = pg.PgPool(pg_dsn, min_size=1, max_size=1, max_lifetime=0.3)
        async with pool:
            async with pool.acquire() as c:
                pid1 = c.get_server_pid()
            await asyncio.sleep(0.5)
            async with pool.acquire() as c:
                pid2 = c.get_server_pid()
                assert await c.fetchval("SELECT 1") == 1
            assert pid1 != pid2

    run(go())


def test_cancelling_a_pipelined_query_spares_the_one_ahead(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        first = asyncio.ensure_future(c.fetchval("SELECT pg_sleep(0.5)::text || 'done'"))
        second = asyncio.ensure_future(c.fetchval("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.1)
        second.cancel()
        assert await first == "done"  # not hit by the CancelRequest meant for `second`
        with pytest.raises(asyncio.CancelledError):
            await second
        assert await asyncio.wait_for(c.fetchval("SELECT 9"), 10) == 9  # `second` was cancelled

    with_conn(pg_dsn, body)


def test_pool_idle_timeout_shrinks_to_min_size(pg_dsn: str) -> None:
    async def go() -> None:
        pool = pg.PgPool(pg_dsn, min_size=1, max_size=4, idle_timeout=0.2)
        async with pool:
            held = [await pool.acquire() for _ in range(3)]
            for c in held:
                await pool.release(c)
            assert pool.stats().size == 3
            await asyncio.sleep(1.3)  # past idle_timeout and the sweep interval
            assert await pool.fetchval("SELECT 1") == 1  # a pool-level query runs the sweep
            await asyncio.sleep(0)
            assert pool.stats().size == 1
            assert pool.stats().closed >= 2

    run(go())


def test_failing_listener_does_not_break_the_connection(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        seen: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: seen.append(ctx))

        def bad(*args: Any) -> None:
            raise RuntimeError("listener bug")

        await c.add_listener("fa_bad", bad)
        await c.execute("NOTIFY fa_bad, 'x'")
        assert await c.fetchval("SELECT 5") == 5
        assert any(isinstance(x.get("exception"), RuntimeError) for x in seen)

    with_conn(pg_dsn, body)


def test_executemany_is_atomic_and_binary_copy_out(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE em (k int PRIMARY KEY)")
        with pytest.raises(exc.UniqueViolationError):
            await c.executemany("INSERT INTO em VALUES ($1)", [(1,), (2,), (1,)])
        assert await c.fetchval("SELECT count(*) FROM em") == 0  # one implicit transaction
        await c.executemany("INSERT INTO em VALUES ($1)", [(1,), (2,)])
        data = await c.copy_out("COPY em TO STDOUT (FORMAT binary)")
        assert data.startswith(b"PGCOPY\n\xff\r\n\x00") and data.endswith(b"\xff\xff")
        await c.execute("CREATE TEMP TABLE em2 (k int)")
        assert await c.copy_in("COPY em2 FROM STDIN (FORMAT binary)", data) == "COPY 2"
        assert await c.copy_to_table("em2", source=b"7\n8\n") == "COPY 2"
        assert [r[0] for r in await c.fetch("SELECT k FROM em2 ORDER BY k")] == [1, 2, 7, 8]

    with_conn(pg_dsn, body)


def test_statement_cache_off_is_safe_with_pipelining(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        # different statements prepared concurrently must not bind to each other's plan
        got = await asyncio.gather(
            *(c.fetchval(f"SELECT $1::int * {k}", 3) for k in range(1, 40)),
            *(c.fetchval("SELECT $1::text || 'x'", "a") for _ in range(10)),
        )
        assert list(got) == [3 * k for k in range(1, 40)] + ["ax"] * 10
        await c.executemany("SELECT $1::int", [(1,), (2,)])
        assert len(c._cache) == 0
        # only the statement running this count exists; every earlier one was closed
        assert await c.fetchval("SELECT count(*) FROM pg_prepared_statements") == 1

    with_conn(pg_dsn, body, statement_cache_size=0)
