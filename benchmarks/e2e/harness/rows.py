"""The benchmark rows: which server, which route, plain or pipelined, or the 1MRC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["wrk", "pipe16", "onemrc"]


@dataclass(frozen=True)
class Row:
    key: str
    server: str  # a ServerSpec.key
    path: str
    mode: Mode = "wrk"
    handler: str = ""  # what runs for the request, for the table

    @property
    def fastapi_base(self) -> str:
        """The row this one's `vs FastAPI` ratio divides by."""
        return "1mrc-fastapi" if self.mode == "onemrc" else "fastapi-async"

    @property
    def nginx_base(self) -> str | None:
        """The row this one's `vs nginx` ratio divides by (same mode), if any."""
        return {"wrk": "nginx", "pipe16": "nginx-pipe16"}.get(self.mode)


ROWS: list[Row] = [
    Row("fasterapi-sync", "fasterapi", "/", handler="sync def, dict"),
    Row("fasterapi-async", "fasterapi", "/users/42", handler="async def, int path param"),
    Row("fasterapi-sync-pipe16", "fasterapi", "/", "pipe16", "sync def, 16 pipelined"),
    Row("fastapi-sync", "fastapi", "/", handler="def, dict"),
    Row("fastapi-async", "fastapi", "/users/42", handler="async def, int path param"),
    Row("granian-sync", "granian", "/", handler="def, dict"),
    Row("granian-async", "granian", "/users/42", handler="async def, int path param"),
    Row("socketify-sync", "socketify", "/", handler="def, dict"),
    Row("socketify-async", "socketify", "/users/42", handler="async def, int path param"),
    Row("hello_server", "hello_server", "/", handler="C++ handler"),
    Row("hello_server-pipe16", "hello_server", "/", "pipe16", "C++ handler, 16 pipelined"),
    Row("nginx", "nginx", "/", handler="return 200"),
    Row("nginx-pipe16", "nginx", "/", "pipe16", "return 200, 16 pipelined"),
    Row("1mrc-fasterapi", "fasterapi", "/stats", "onemrc", "1MRC, Python handler"),
    Row("1mrc-fastapi", "fastapi", "/stats", "onemrc", "1MRC, async def + pydantic"),
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
