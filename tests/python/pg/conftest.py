"""PostgreSQL test fixtures: a DSN for a live server (FASTERAPI_PG_DSN, default
127.0.0.1:5432/test), else a throwaway cluster; skipped without PostgreSQL unless
FASTERAPI_REQUIRE_PG=1 (then they fail)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Coroutine, Iterator
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
