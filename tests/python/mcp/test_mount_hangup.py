"""A client that hangs up mid-call on an MCPServer or MCPProxy mounted into an App: the App's
engine knows (ResponseHandle::client_gone), the mounted endpoint asks it while the answer is
pending, and the call is cancelled as on the server's own listener — our tool's Task
cancelled, a proxied call cancelled upstream with notifications/cancelled (2025-11-25
basic/utilities/cancellation.mdx) — and forgotten. Before, the call ran on and stayed in
flight."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import raw_socket
from mcp_helpers import ACCEPT, INIT, INITIALIZED, META_2026, PING, received

from fasterapi import App
from fasterapi.mcp import Context, MCPProxy, MCPServer
from fasterapi.testing import TestClient

pytestmark = pytest.mark.timeout(90)

HANGING = Path(__file__).resolve().parent / "proxy_hanging_upstream.py"


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def open_session(http: TestClient) -> dict[str, str]:
    r = http.post("/mcp", json=INIT, headers=ACCEPT)
    assert r.status_code == 200, r.text
    headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
    assert http.post("/mcp", json=INITIALIZED, headers=headers).status_code == 202
    return headers


def call_then_hang_up(
    port: int,
    headers: dict[str, str],
    tool: str,
    started: Callable[[], bool],
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """POSTs tools/call `tool` on a connection of its own, waits until it runs, checks it was
    not cancelled while the client is there, then closes the connection without reading an
    answer."""
    params: dict[str, Any] = {"name": tool}
    if headers.get("MCP-Protocol-Version") == "2026-07-28":
        params["_meta"] = META_2026  # and the mirrored headers (transports.mdx)
        headers = {**headers, "Mcp-Method": "tools/call", "Mcp-Name": tool}
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params})
    body_bytes = body.encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{head}Content-Length: {len(body_bytes)}\r\n\r\n"
    ).encode() + body_bytes
    s = raw_socket(port)
    try:
        s.sendall(request)
        until(started, 30, f"{tool} to run")
        time.sleep(0.2)
        assert not cancelled(), f"{tool} was cancelled while its client was connected"
    finally:
        s.close()


async def hang_until_cancelled(started: threading.Event, cancelled: threading.Event) -> str:
    """Sets `started`, then waits for an event nobody sets; sets `cancelled` when cancelled."""
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.set()
        raise
    return "never"


def hanging_server() -> tuple[MCPServer, threading.Event, threading.Event]:
    server = MCPServer("hangs")
    started, cancelled = threading.Event(), threading.Event()

    @server.tool()
    async def hang() -> str:
        """Waits for an event nobody sets."""
        return await hang_until_cancelled(started, cancelled)

    return server, started, cancelled


@pytest.mark.parametrize("session", [True, False], ids=["session", "sessionless"])
def test_mounted_server_cancels_the_tool_of_a_client_that_hung_up(session: bool) -> None:
    server, started, cancelled = hanging_server()
    app = App()
    app.mount("/mcp", server)
    with TestClient(app) as http:
        if session:
            headers = open_session(http)
        else:  # 2026-07-28: each request stands alone
            headers = {**ACCEPT, "MCP-Protocol-Version": "2026-07-28"}
        call_then_hang_up(http.port, headers, "hang", started.is_set, cancelled.is_set)
        until(cancelled.is_set, 5, "the tool's Task to be cancelled")
        until(lambda: not server._tasks, 5, "the call to be forgotten")
        if session:  # the session the call ran in is still usable
            assert http.post("/mcp", json=PING, headers=headers).status_code == 200


def test_mounted_hang_up_is_told_by_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over HTTP/1.1 the engine tells the endpoint at once (Request.add_hangup_callback): with
    the polling fallback set to an hour between polls the call is still cancelled."""
    from fasterapi.mcp import _mount

    monkeypatch.setattr(_mount, "HANG_UP_POLL", 3600.0)
    server, started, cancelled = hanging_server()
    app = App()
    app.mount("/mcp", server)
    with TestClient(app) as http:
        headers = {**ACCEPT, "MCP-Protocol-Version": "2026-07-28"}
        call_then_hang_up(http.port, headers, "hang", started.is_set)
        until(cancelled.is_set, 5, "the tool's Task to be cancelled")
        until(lambda: not server._tasks, 5, "the call to be forgotten")


def test_a_mounted_server_answers_a_client_that_stays() -> None:
    """The watch cancels only what nobody reads: a quick tool's answer is unaffected."""
    server = MCPServer("quick")

    @server.tool()
    async def later() -> str:
        """Answers after a second (two polls of the hang-up watch)."""
        await asyncio.sleep(1.2)
        return "done"

    app = App()
    app.mount("/mcp", server)
    with TestClient(app) as http:
        headers = open_session(http)
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "later"}}
        r = http.post("/mcp", json=call, headers=headers)
        assert r.status_code == 200, r.text
        assert "done" in r.text


@pytest.mark.parametrize("session", [True, False], ids=["session", "sessionless"])
def test_mounted_proxy_cancels_upstream_the_call_of_a_client_that_hung_up(
    tmp_path: Path, session: bool
) -> None:
    record = tmp_path / "upstream.jsonl"
    proxy = MCPProxy(upstreams={"up": [sys.executable, str(HANGING), str(record)]})
    app = App()
    app.mount("/mcp", proxy)
    with TestClient(app) as http:
        if session:
            headers = open_session(http)
        else:
            headers = {**ACCEPT, "MCP-Protocol-Version": "2026-07-28"}

        def upstream_has_call() -> bool:
            return any(m.get("method") == "tools/call" for m in received(record))

        call_then_hang_up(http.port, headers, "up__hang", upstream_has_call)
        call = next(m for m in received(record) if m.get("method") == "tools/call")
        until(
            lambda: any(
                m.get("method") == "notifications/cancelled"
                and m["params"]["requestId"] == call["id"]
                for m in received(record)
            ),
            5,
            "notifications/cancelled upstream",
        )
        until(lambda: proxy._native.in_flight() == 0, 5, "in_flight back to 0")


def test_mounted_get_stream_of_a_client_that_hung_up_is_closed() -> None:
    """The session's GET stream (transports.mdx "Listening for Messages from the Server") whose
    client left is closed: the session's next GET gets a stream, not 409 "already open"."""
    server = MCPServer("streams")
    app = App()
    app.mount("/mcp", server)
    with TestClient(app) as http:
        headers = open_session(http)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "Accept")
        request = (
            f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{http.port}\r\n"
            f"Accept: text/event-stream\r\n{head}\r\n"
        ).encode()

        def open_stream() -> tuple[Any, bytes]:
            s = raw_socket(http.port, timeout=10)
            s.sendall(request)
            got = b""
            while b"\r\n\r\n" not in got or (b" 200 " in got and b"stream open" not in got):
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            return s, got

        first, got = open_stream()
        assert got.startswith(b"HTTP/1.1 200 "), got
        first.close()
        deadline = time.monotonic() + 5
        while True:
            again, got = open_stream()
            again.close()
            if got.startswith(b"HTTP/1.1 200 "):
                break
            assert got.startswith(b"HTTP/1.1 409 "), got
            assert time.monotonic() < deadline, "the hung-up GET stream is still open"
            time.sleep(0.1)


def test_mounted_server_cancels_a_streaming_call_whose_client_hung_up() -> None:
    """A call whose answer became an SSE stream (a progress notification went first) is
    cancelled too when its client leaves while the stream is idle."""
    server = MCPServer("streams")
    started, cancelled = threading.Event(), threading.Event()

    @server.tool()
    async def slow(ctx: Context) -> str:
        """Reports progress, then waits for an event nobody sets."""
        await ctx.report_progress(1, 2)
        return await hang_until_cancelled(started, cancelled)

    app = App()
    app.mount("/mcp", server)
    with TestClient(app) as http:
        headers = open_session(http)
        params = {"name": "slow", "_meta": {"progressToken": "p"}}
        body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": params})
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{http.port}\r\n"
            f"Content-Type: application/json\r\n{head}Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        s = raw_socket(http.port, timeout=10)
        try:
            s.sendall(request)
            got = b""
            while b"notifications/progress" not in got:
                chunk = s.recv(4096)
                assert chunk, got
                got += chunk
            assert b"text/event-stream" in got, got
            until(started.is_set, 10, "the tool to run")
            time.sleep(0.2)
            assert not cancelled.is_set(), "cancelled while its client was connected"
        finally:
            s.close()
        until(cancelled.is_set, 5, "the tool's Task to be cancelled")
        until(lambda: not server._tasks, 5, "the call to be forgotten")
