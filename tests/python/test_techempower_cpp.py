"""benchmarks/techempower/cpp/tfb_server, the C++ engine's TechEmpower entry (run.py's
`fasterapi-cpp`), passes validate.py on every test type against the local PostgreSQL, and its
batched updates stay correct under concurrent requests (they lock rows in id order: no
deadlock, no error). The binary comes from the C++ build with FA_BUILD_BENCH=ON (scripts/
test.sh's build/release, else build/dev; FASTERAPI_TFB_SERVER names another). A missing binary
or PostgreSQL skips locally and fails in CI (FASTERAPI_REQUIRE_PG=1 or CI set)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import ROOT, free_port, missing

TFB = ROOT / "benchmarks" / "techempower"
sys.path.insert(0, str(TFB))

import run  # noqa: E402
import schema  # noqa: E402
import validate  # noqa: E402
from test_techempower import DSN, _pg_answers, serving  # noqa: E402


@pytest.fixture(scope="module")
def cpp_server() -> Iterator[str]:
    binary = run.cpp_server_path()
    if not os.access(binary, os.X_OK):
        missing(f"{binary} is not built (cmake -DFA_BUILD_BENCH=ON, target tfb_server)")
    if not _pg_answers(DSN):
        missing(f"PostgreSQL is not answering at {DSN}")
    schema.load(DSN)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "FASTERAPI_PG_DSN": DSN, "TFB_POOL_SIZE": "4"}
    with serving([str(binary)], env, port) as url:
        yield url


@pytest.mark.parametrize("kind", validate.TYPES)
def test_cpp_entry_passes_the_tfb_rules(cpp_server: str, kind: str) -> None:
    assert validate.validate(cpp_server, (kind,), DSN) == []


def test_cpp_updates_hold_under_concurrent_batches(cpp_server: str) -> None:
    """Concurrent 500-row batches touch overlapping rows: each answer is 200 with 500 Worlds
    (a deadlock between batches would surface as a 500 after PostgreSQL's deadlock_timeout)."""

    def batch(_: int) -> tuple[int, int]:
        r = httpx.get(f"{cpp_server}/updates?queries=500", timeout=30)
        return r.status_code, len(r.json()) if r.status_code == 200 else -1

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(batch, range(48)))
    assert answers == [(200, 500)] * 48

