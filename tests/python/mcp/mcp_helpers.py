"""Helpers for MCP tests: paths of the example servers, a bounded runner for coroutines, a
server or proxy served over Streamable HTTP in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SEED_SERVER = ROOT / "examples" / "mcp" / "seed_server.py"
TOOLS_SERVER = ROOT / "examples" / "mcp" / "tools_server.py"


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
    """Runs coro to completion, failing the test after `timeout` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@asynccontextmanager
async def serving(server: Any, port: int = 0) -> AsyncIterator[str]:
    """Serves an MCPServer or MCPProxy over Streamable HTTP in this event loop (on `port`, 0 =
    any free one); yields its URL and stops it on exit."""
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.serve_http(port=port, ready=ready.set_result))
    try:
        yield f"http://127.0.0.1:{await ready}/mcp"
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


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
