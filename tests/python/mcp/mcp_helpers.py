"""Helpers for MCP tests: paths of the example servers, a bounded runner for coroutines, a
server or proxy served over Streamable HTTP in the test's event loop, the requests and headers
of a 2025-11-25 session over raw HTTP, and polling until a condition holds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SEED_SERVER = ROOT / "examples" / "mcp" / "seed_server.py"
TOOLS_SERVER = ROOT / "examples" / "mcp" / "tools_server.py"

ACCEPT = {"Accept": "application/json, text/event-stream"}
HEADERS = {**ACCEPT, "Content-Type": "application/json"}
INIT: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
PING = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
# A 2026-07-28 request carries its version and capabilities in _meta (basic/versioning.mdx).
META_2026: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
    """Runs coro to completion, failing the test after `timeout` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@asynccontextmanager
async def serving(server: Any, port: int = 0, **options: Any) -> AsyncIterator[str]:
    """Serves an MCPServer or MCPProxy over Streamable HTTP in this event loop (on `port`, 0 =
    any free one; `options` go to serve_http); yields its URL and stops it on exit."""
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.serve_http(port=port, ready=ready.set_result, **options))
    try:
        yield f"http://127.0.0.1:{await ready}/mcp"
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


@asynccontextmanager
async def serving_http(server: Any, **options: Any) -> AsyncIterator[tuple[str, Any]]:
    """serving(server, **options) with an httpx.AsyncClient (10 s timeout): yields (url, it)."""
    import httpx

    async with serving(server, **options) as url, httpx.AsyncClient(timeout=10) as http:
        yield url, http


async def initialize(http: Any, url: str) -> Any:
    """POSTs INIT (a 2025-11-25 initialize) to `url` with an httpx.AsyncClient; the response."""
    return await http.post(url, json=INIT, headers=ACCEPT)


async def open_session(http: Any, url: str) -> dict[str, str]:
    """Initializes a 2025-11-25 session at `url` (initialize, then notifications/initialized);
    returns ACCEPT with the session's Mcp-Session-Id, the headers of its later requests."""
    r = await initialize(http, url)
    assert r.status_code == 200, r.text
    headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
    assert (await http.post(url, json=INITIALIZED, headers=headers)).status_code == 202
    return headers


async def ping(http: Any, url: str, headers: dict[str, str]) -> int:
    """POSTs a ping with `headers` (a session's); the HTTP status code."""
    r = await http.post(url, json=PING, headers=headers)
    return int(r.status_code)


async def keep_pinging(http: Any, url: str, headers: dict[str, str]) -> None:
    """Pings in the session of `headers` 8 times, 0.15 s apart (1.2 s in all), each one 200."""
    for _ in range(8):
        await asyncio.sleep(0.15)
        status = await ping(http, url, headers)
        assert status == 200, status


async def initialize_refused(http: Any, url: str, first: dict[str, str]) -> None:
    """A further initialize gets 503 "Too many open sessions"; the open session `first` still
    answers (never evicted for a newcomer)."""
    refused = await initialize(http, url)
    assert refused.status_code == 503, refused.status_code
    assert "Too many open sessions" in refused.text, refused.text
    status = await ping(http, url, first)
    assert status == 200, status


async def until(check: Callable[[], bool], timeout: float = 10.0, what: str | None = None) -> None:
    """Polls check() every 20 ms until it holds, failing after `timeout` s (naming `what`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, (
            "timed out" if what is None else f"timed out waiting for {what}"
        )
        await asyncio.sleep(0.02)


def received(record: Path) -> list[dict[str, Any]]:
    """The messages a recording upstream wrote to `record` (JSON lines) so far."""
    if not record.exists():
        return []
    lines = record.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpServerProcess:
    """An MCP server script serving Streamable HTTP in a child process, ready when constructed.

    examples/mcp/tools_server.py takes `http PORT`; the conformance fixtures and the SDK's
    reference server take `--transport http --port PORT` (flag_args=True; their stderr, which
    logs every request, goes to /dev/null so a full pipe cannot stall them)."""

    def __init__(self, script: Path = TOOLS_SERVER, *, flag_args: bool = False) -> None:
        import subprocess
        import sys
        import time
        import urllib.error
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        args = ["--transport", "http", "--port"] if flag_args else ["http"]
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *args, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if flag_args else subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=1)  # GET without a session: 4xx
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.close()
        raise RuntimeError("the MCP HTTP server did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> HttpServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
