"""PostgreSQL test fixtures: a DSN for a live server (FASTERAPI_PG_DSN, default
127.0.0.1:5432/test), else a throwaway cluster; skipped without PostgreSQL unless
FASTERAPI_REQUIRE_PG=1 (then they fail)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from .cluster import Cluster, pg_bindir

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REQUIRE = os.environ.get("FASTERAPI_REQUIRE_PG") == "1"


def _answers(dsn: str) -> bool:
    u = urlsplit(dsn)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=2):
            return True
    except OSError:
        return False


def _no_pg(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"PostgreSQL required (FASTERAPI_REQUIRE_PG=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    dsn = os.environ.get("FASTERAPI_PG_DSN", DEFAULT_DSN)
    if _answers(dsn):
        yield dsn
        return
    if pg_bindir() is None:
        _no_pg(f"no server at {dsn} and initdb is not installed")
    cluster = Cluster().start()
    try:
        yield cluster.dsn()
    finally:
        cluster.stop()


def make_cluster(**kw: Any) -> Cluster:
    if pg_bindir() is None:
        _no_pg("initdb is not installed")
    try:
        return Cluster(**kw).start()
    except Exception as e:  # pragma: no cover - environment specific
        _no_pg(f"cannot start a throwaway cluster: {e}")
        raise


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a fresh event loop (uvloop when FASTERAPI_PG_UVLOOP=1)."""
    if os.environ.get("FASTERAPI_PG_UVLOOP") == "1":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def run_sql(dsn: str, sql: str) -> None:
    """Runs `sql` (simple query protocol) on a connection of its own, then closes it."""
    from fasterapi import pg

    async def go() -> None:
        c = await pg.connect(dsn)
        try:
            await c.execute(sql)
        finally:
            await c.close()

    run(go())


def kv_table(dsn: str, table: str) -> Iterator[str]:
    """For a fixture: creates `table` (k int PRIMARY KEY, v text), yields `dsn`, drops it."""
    run_sql(dsn, f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (k int PRIMARY KEY, v text)")
    yield dsn
    run_sql(dsn, f"DROP TABLE IF EXISTS {table}")


# Backends of other sessions running exactly this query now (a watcher's view of the server).
ACTIVE = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1"
    " AND pid <> pg_backend_pid()"
)


async def poll_active(watcher: Any, sql: str, done: Callable[[int], bool], tries: int) -> bool:
    """Asks `watcher` how many other sessions run `sql` (ACTIVE) until done(count), at most
    `tries` times 50 ms apart; whether done() held."""
    for _ in range(tries):
        if done(await watcher.fetchval(ACTIVE, sql)):
            return True
        await asyncio.sleep(0.05)
    return False


async def gone_on_the_server(watcher: Any, sql: str, tries: int = 100) -> None:
    """Waits (poll_active, `tries` polls) until no other session runs `sql`, then asserts so."""
    await poll_active(watcher, sql, lambda n: not n, tries)
    assert await watcher.fetchval(ACTIVE, sql) == 0


async def cancel_once_running(dsn: str, task: asyncio.Future[Any], sql: str) -> None:
    """Watching from a connection of its own: waits (200 polls) until the server runs `sql` (a
    CancelRequest for an idle backend would be lost), cancels `task`, which must raise
    CancelledError, then waits until `sql` is gone on the server (gone_on_the_server)."""
    from fasterapi import pg

    watcher = await pg.connect(dsn)
    try:
        await poll_active(watcher, sql, bool, 200)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await gone_on_the_server(watcher, sql)
    finally:
        await watcher.close()
