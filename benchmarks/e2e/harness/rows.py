"""The benchmark rows: which server, which route, plain or pipelined, or the 1MRC.

A ratio only ever divides two rows that do identical work: the same request (method and
route), the same response body (checked at run time, see report.add_ratios), the same
pipelining depth, and, being measured in one invocation, the same wrk connections and threads.
Each row names its baselines explicitly; tests/test_harness.py fails if a baseline's work
differs from its row's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["wrk", "pipe16", "onemrc"]

PIPELINE_DEPTH: dict[str, int] = {"wrk": 1, "pipe16": 16, "onemrc": 1}


@dataclass(frozen=True)
class Row:
    key: str
    server: str  # a ServerSpec.key
    path: str
    mode: Mode = "wrk"
    handler: str = ""  # what runs for the request, for the table
    # The rows this one's `vs FastAPI` / `vs nginx` ratios divide by; None: no row does the
    # same work, so no ratio (e.g. nginx only serves `GET /`, no FastAPI row is pipelined).
    fastapi_base: str | None = None
    nginx_base: str | None = None

    @property
    def work(self) -> tuple[str, int]:
        """What one request is, for pairing: (request, pipelining depth)."""
        request = "POST /event, GET /stats (1MRC)" if self.mode == "onemrc" else f"GET {self.path}"
        return request, PIPELINE_DEPTH[self.mode]


_ROOT, _USER = "/", "/users/42"
ROWS: list[Row] = [
    Row("fasterapi-sync", "fasterapi", _ROOT, handler="sync def, dict",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("fasterapi-async", "fasterapi", _USER, handler="async def, int path param",
        fastapi_base="fastapi-async"),
    Row("fasterapi-sync-pipe16", "fasterapi", _ROOT, "pipe16", "sync def, dict",
        nginx_base="nginx-pipe16"),
    Row("fastapi-sync", "fastapi", _ROOT, handler="def, dict (thread pool)",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("fastapi-async", "fastapi", _USER, handler="async def, int path param",
        fastapi_base="fastapi-async"),
    # FastAPI's fastest form on `GET /` (no thread pool): the baseline of the target
    # "FasterAPI sync ≥ 10x FastAPI async", on the same route as FasterAPI's sync row.
    Row("fastapi-async-root", "fastapi-async-root", _ROOT, handler="async def, dict",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("granian-sync", "granian", _ROOT, handler="def, dict",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("granian-async", "granian", _USER, handler="async def, int path param",
        fastapi_base="fastapi-async"),
    Row("socketify-sync", "socketify", _ROOT, handler="def, dict",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("socketify-async", "socketify", _USER, handler="async def, int path param",
        fastapi_base="fastapi-async"),
    Row("hello_server", "hello_server", _ROOT, handler="C++ handler",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("hello_server-pipe16", "hello_server", _ROOT, "pipe16", "C++ handler",
        nginx_base="nginx-pipe16"),
    Row("nginx", "nginx", _ROOT, handler="return 200",
        fastapi_base="fastapi-sync", nginx_base="nginx"),
    Row("nginx-pipe16", "nginx", _ROOT, "pipe16", "return 200",
        nginx_base="nginx-pipe16"),
    Row("1mrc-fasterapi", "fasterapi", "/stats", "onemrc", "1MRC, Python handler",
        fastapi_base="1mrc-fastapi"),
    Row("1mrc-fastapi", "fastapi", "/stats", "onemrc", "1MRC, async def + pydantic",
        fastapi_base="1mrc-fastapi"),
    Row("1mrc-cpp", "onemrc_server", "/stats", "onemrc", "1MRC, C++ handlers (simdjson)",
        fastapi_base="1mrc-fastapi"),
]

# --suite presets; --only overrides them.
SUITES: dict[str, list[str]] = {
    "python": [r.key for r in ROWS],
    "cpp": ["hello_server", "nginx", "hello_server-pipe16", "nginx-pipe16"],
}


def select_rows(only: str | None, suite: str) -> list[Row]:
    """Returns the rows named in only (comma-separated) or in suite; raises on unknown names."""
    by_key = {r.key: r for r in ROWS}
    keys = [k.strip() for k in only.split(",") if k.strip()] if only else SUITES[suite]
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise SystemExit(f"unknown row(s) {', '.join(unknown)}; known: {', '.join(by_key)}")
    return [by_key[k] for k in keys]
