"""A client that hangs up mid-call on MCPProxy's Streamable HTTP front: the call is cancelled
upstream and forgotten (2025-11-25 basic/utilities/cancellation.mdx: the request's sender MAY
cancel it; transports.mdx "Streamable HTTP": a disconnect SHOULD NOT be taken as a cancel by
the server, so it is the proxy, the sender upstream, that cancels what nobody will read).
Observed on the upstream's side: proxy_hanging_upstream.py records every message it is sent."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from conftest import require_module

httpx = require_module("httpx")

from mcp_helpers import (  # noqa: E402
    ACCEPT,
    INIT,
    PING,
    open_session,
    received,
    run,
    serving,
    until,
)

from fasterapi.mcp import MCPProxy  # noqa: E402

pytestmark = pytest.mark.timeout(90)

HANGING = Path(__file__).resolve().parent / "proxy_hanging_upstream.py"


async def post_and_hang_up(url: str, headers: dict[str, str], record: Path) -> None:
    """POSTs tools/call up__hang on a connection of its own, waits until the upstream has the
    call, then closes the TCP connection without reading an answer."""
    port = int(url.split(":")[2].split("/")[0])
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "up__hang", "arguments": {}},
        }
    ).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{head}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    await until(
        lambda: any(m.get("method") == "tools/call" for m in received(record)),
        30,
        "the upstream to receive the call",
    )
    writer.close()
    await writer.wait_closed()


async def until_cancelled_upstream(proxy: MCPProxy, record: Path) -> None:
    """Waits (5 s at most each) until the upstream got notifications/cancelled for the recorded
    tools/call and the proxy has no call in flight."""
    call = next(m for m in received(record) if m.get("method") == "tools/call")
    await until(
        lambda: any(
            m.get("method") == "notifications/cancelled" and m["params"]["requestId"] == call["id"]
            for m in received(record)
        ),
        5,
        "notifications/cancelled upstream",
    )
    await until(lambda: proxy._native.in_flight() == 0, 5, "in_flight back to 0")


def test_a_client_that_hangs_up_has_its_call_cancelled_upstream(tmp_path: Path) -> None:
    record = tmp_path / "upstream.jsonl"

    async def main() -> None:
        proxy = MCPProxy(upstreams={"up": [sys.executable, str(HANGING), str(record)]})
        async with serving(proxy) as url, httpx.AsyncClient(timeout=30) as http:
            headers = await open_session(http, url)
            await post_and_hang_up(url, headers, record)
            assert proxy._native.in_flight() == 1
            # The sweep looks for hung-up clients once a second: a few seconds is ample.
            await until_cancelled_upstream(proxy, record)
            # The session the call ran in is still usable.
            assert (await http.post(url, json=PING, headers=headers)).status_code == 200

    run(main(), 60)


def test_a_sessionless_client_that_hangs_up_has_its_call_cancelled_too(tmp_path: Path) -> None:
    """A 2026-07-28 request stands alone (no Mcp-Session-Id): its hang-up cancels it the same."""
    record = tmp_path / "upstream.jsonl"

    async def main() -> None:
        proxy = MCPProxy(upstreams={"up": [sys.executable, str(HANGING), str(record)]})
        async with serving(proxy) as url:
            headers = {**ACCEPT, "MCP-Protocol-Version": "2026-07-28"}
            await post_and_hang_up(url, headers, record)
            await until_cancelled_upstream(proxy, record)

    run(main(), 60)


def test_mounted_the_sweeps_run_on_the_proxys_loop(tmp_path: Path) -> None:
    """Mounted on an App, the transport's timers run on the proxy's loop (driven from the first
    request on): an idle session ends with no further request, as on the proxy's own listener."""
    import time

    from fasterapi import App
    from fasterapi.testing import TestClient

    app = App()
    record = tmp_path / "upstream.jsonl"
    proxy = MCPProxy(upstreams={"up": [sys.executable, str(HANGING), str(record)]})
    proxy.mount_into(app, "/mcp", session_idle_timeout=0.3)
    with TestClient(app) as http:
        r = http.post("/mcp", json=INIT, headers=ACCEPT)
        assert r.status_code == 200, r.text
        headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
        assert proxy.session_count == 1
        deadline = time.monotonic() + 5
        while proxy.session_count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proxy.session_count == 0  # ended by the timer: no request came meanwhile
        assert http.post("/mcp", json=PING, headers=headers).status_code == 404
