"""The seed's sync API: PgPool + get_pg_factory + pg.exec(...).one()/.scalar(), transactions, COPY,
and the seed README's PostgreSQL example running unchanged inside FasterAPI handlers."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from fasterapi.pg import (
    MultipleResultsError,
    NoResultError,
    PgPool,
    PgSession,
    PoolAcquireTimeoutError,
    SyncConnection,
)
from fasterapi.pg import exceptions as exc
from fasterapi.pg.compat import get_pg_factory

pytestmark = pytest.mark.pg
ROOT = Path(__file__).resolve().parents[3]


def test_exec_result_api(pg_dsn: str) -> None:
    pool = PgPool(pg_dsn, min_size=1, max_size=2)
    with pool.connection() as pg:
        pg.execute("CREATE TEMP TABLE s (id serial PRIMARY KEY, name text)")
        r = pg.exec("INSERT INTO s (name) VALUES ($1), ($2) RETURNING id", "a", "b")
        assert r.rowcount == 2 and [row["id"] for row in r] == [1, 2]
        assert pg.exec("SELECT name FROM s WHERE id = $1", 1).one() == {"name": "a"}
        assert pg.exec("SELECT name FROM s WHERE id = $1", "2").scalar() == "b"  # str path param
        assert pg.exec("SELECT * FROM s ORDER BY id").all() == [
            {"id": 1, "name": "a"},
            {"id": 2, "name": "b"},
        ]
        assert pg.exec("SELECT * FROM s WHERE id = 99").first() is None
        with pytest.raises(NoResultError):
            pg.exec("SELECT * FROM s WHERE id = 99").one()
        with pytest.raises(MultipleResultsError):
            pg.exec("SELECT * FROM s").one()
        assert pg.exec("UPDATE s SET name = name || '!'").rowcount == 2
        assert pg.exec("SELECT 1").rows[0][0] == 1
        with pytest.raises(exc.PostgresSyntaxError) as ei:
            pg.exec("SELEC 1")
        assert ei.value.position == "1"
        assert pg.exec("SELECT 2").scalar() == 2  # still usable
        pg.executemany("INSERT INTO s (name) VALUES ($1)", [("x",), ("y",)])
        assert pg.exec("SELECT count(*) FROM s").scalar() == 4
    pool.close_sync()


def test_transactions_isolation_and_savepoints(pg_dsn: str) -> None:
    pool = PgPool(pg_dsn, min_size=1, max_size=2)
    with pool.connection() as pg:
        pg.execute("CREATE TEMP TABLE t (v int)")
        with pg.transaction(isolation="serializable", readonly=False, deferrable=False):
            assert pg.exec("SHOW transaction_isolation").scalar() == "serializable"
            pg.exec("INSERT INTO t VALUES ($1)", 1)
            with pytest.raises(RuntimeError), pg.transaction():
                pg.exec("INSERT INTO t VALUES ($1)", 2)
                raise RuntimeError("roll back the savepoint only")
            pg.exec("INSERT INTO t VALUES ($1)", 3)
        with pytest.raises(exc.UniqueViolationError), pg.transaction():
            pg.exec("INSERT INTO t VALUES ($1)", 4)
            pg.execute("CREATE TEMP TABLE uq (k int PRIMARY KEY); INSERT INTO uq VALUES (1), (1)")
        assert [r[0] for r in pg.exec("SELECT v FROM t ORDER BY v")] == [1, 3]
        assert not pg.is_in_transaction()
    pool.close_sync()


def test_session_borrows_per_statement_and_pins_transactions(pg_dsn: str) -> None:
    pool = PgPool(pg_dsn, min_size=0, max_size=1, acquire_timeout=0.2)
    get_pg = get_pg_factory(pool)
    gen = get_pg()
    pg = next(gen)
    assert isinstance(pg, PgSession)
    pg.execute("DROP TABLE IF EXISTS fa_sync_rb; CREATE TABLE fa_sync_rb (v int)")
    # outside a transaction no connection is held between statements
    with pool.connection() as other:
        assert other.exec("SELECT 1").scalar() == 1
    # a raw BEGIN pins the connection until the transaction ends ...
    pg.execute("BEGIN")
    pg.exec("INSERT INTO fa_sync_rb VALUES ($1)", 1)
    assert pg.is_in_transaction()
    with pytest.raises(PoolAcquireTimeoutError, match="max_size=1"):
        threaded_acquire(pool)
    with pytest.raises(StopIteration):
        next(gen)  # the dependency's cleanup: roll back and release
    with pool.connection() as c:
        assert c.exec("SELECT count(*) FROM fa_sync_rb").scalar() == 0
    # ... and pg.transaction() commits
    gen2 = get_pg()
    pg2 = next(gen2)
    with pg2.transaction(isolation="repeatable_read"):
        pg2.exec("INSERT INTO fa_sync_rb VALUES ($1)", 2)
    assert not pg2.is_in_transaction()
    assert pool.exec("SELECT count(*) FROM fa_sync_rb").scalar() == 1
    gen2.close()
    pool.exec("DROP TABLE fa_sync_rb")
    pool.close_sync()


def threaded_acquire(pool: PgPool) -> None:
    """acquire_sync from a plain thread (one that runs no event loop), re-raising its error."""
    import threading

    err: list[BaseException] = []

    def go() -> None:
        try:
            pool.release_sync(pool.acquire_sync())
        except BaseException as e:
            err.append(e)

    t = threading.Thread(target=go)
    t.start()
    t.join()
    if err:
        raise err[0]


def test_acquire_on_the_loop_thread_fails_fast_instead_of_deadlocking(pg_dsn: str) -> None:
    import asyncio

    pool = PgPool(pg_dsn, min_size=0, max_size=1, acquire_timeout=30)

    async def inline_handler() -> None:
        held = pool.acquire_sync()
        try:
            with pytest.raises(PoolAcquireTimeoutError, match="would deadlock"):
                pool.acquire_sync()
        finally:
            pool.release_sync(held)

    asyncio.run(inline_handler())
    pool.close_sync()


def test_copy_in_and_out(pg_dsn: str) -> None:
    pool = PgPool(pg_dsn, min_size=0, max_size=1)
    with pool.connection() as pg:
        pg.execute("CREATE TEMP TABLE c (a int, b text)")
        rows = b"".join(f"{i}\tv{i}\n".encode() for i in range(10_000))
        assert pg.copy_in("COPY c FROM STDIN", rows) == "COPY 10000"
        assert pg.copy_out("COPY c TO STDOUT") == rows
        got: list[bytes] = []
        assert pg.copy_out("COPY (SELECT 1) TO STDOUT", got.append) == "COPY 1"
        assert got == [b"1\n"]
    pool.close_sync()


def test_seed_example_runs_unchanged_in_handlers(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fasterapi.testing import TestClient

    setup = PgPool(pg_dsn, min_size=0, max_size=1)
    # The example's `users` table lives in a schema of its own (search_path via the DSN's
    # startup options), so a shared database's tables are left alone.
    with setup.connection() as c:
        c.execute(
            "DROP SCHEMA IF EXISTS fa_seed CASCADE; CREATE SCHEMA fa_seed;"
            "CREATE TABLE fa_seed.users (id serial PRIMARY KEY, name text, email text)"
        )
    sep = "&" if "?" in pg_dsn else "?"
    monkeypatch.setenv("DATABASE_URL", f"{pg_dsn}{sep}options=-csearch_path%3Dfa_seed")
    spec = importlib.util.spec_from_file_location(
        "seed_pg_example", ROOT / "examples" / "postgres.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["seed_pg_example"] = mod
    spec.loader.exec_module(mod)
    try:
        with TestClient(mod.app) as c:
            r = c.post("/users", json={"name": "Ann", "email": "ann@example.com"})
            assert r.status_code == 200, r.text
            uid = r.json()["id"]
            got = c.get(f"/users/{uid}")
            assert got.status_code == 200, got.text
            assert got.json() == {"id": uid, "name": "Ann", "email": "ann@example.com"}
    finally:
        mod.pool.close_sync()
        with setup.connection() as c:
            c.execute("DROP SCHEMA fa_seed CASCADE")
        setup.close_sync()
        del sys.modules["seed_pg_example"]
        os.environ.pop("DATABASE_URL", None)


def test_forked_child_does_not_reuse_the_parents_socket(pg_dsn: str) -> None:
    import os

    pool = PgPool(pg_dsn, min_size=0, max_size=2)
    parent_pid = pool.exec("SELECT pg_backend_pid()").scalar()
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            pid = pool.exec("SELECT pg_backend_pid()").scalar()
            os.write(w, str(pid).encode())
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    child_backend = int(os.read(r, 64))
    os.close(r)
    os.close(w)
    assert child_backend != parent_pid
    assert pool.exec("SELECT pg_backend_pid()").scalar() == parent_pid  # parent's still fine
    pool.close_sync()


def test_sync_command_timeout_cancels_and_keeps_the_connection(pg_dsn: str) -> None:
    from fasterapi.pg.dsn import parse_dsn

    conn = SyncConnection(parse_dsn(pg_dsn), command_timeout=0.3)
    try:
        with pytest.raises(exc.QueryCanceledError):
            conn.exec("SELECT pg_sleep(20)")
        assert not conn.broken
        assert conn.exec("SELECT 11").scalar() == 11
    finally:
        conn.close()
