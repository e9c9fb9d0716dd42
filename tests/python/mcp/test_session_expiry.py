"""Streamable HTTP session expiry (2025-11-25 basic/transports.mdx "Session Management"): a
session with no request and no open stream for session_idle_timeout seconds is ended as DELETE
ends it (its subscriptions go) and its id gets 404, so the client re-initializes; one with an
open GET stream stays. max_sessions refuses further initialize requests with 503, as the
official SDK does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import require_module

httpx = require_module("httpx")

from mcp_helpers import (  # noqa: E402
    initialize,
    initialize_refused,
    keep_pinging,
    open_session,
    ping,
    run,
    serving_http,
)

from fasterapi.mcp import MCPServer  # noqa: E402

pytestmark = pytest.mark.timeout(60)

URI = "test://watched"


def make_server() -> MCPServer:
    server = MCPServer(name="expiry")

    @server.resource(URI)
    def watched() -> str:
        return "value"

    return server


async def open_watching(http: Any, url: str) -> dict[str, str]:
    """Opens a session subscribed to URI; the headers of its requests."""
    headers = await open_session(http, url)
    sub = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": URI}}
    assert (await http.post(url, json=sub, headers=headers)).status_code == 200
    return headers


def test_an_idle_session_expires_while_one_with_a_get_stream_stays() -> None:
    async def main() -> None:
        server = make_server()
        async with serving_http(server, session_idle_timeout=0.3) as (url, http):
            idle = await open_watching(http, url)
            active = await open_watching(http, url)
            assert server.session_count == 2
            assert server.notify_resource_updated(URI) == 2  # both subscribed

            received: list[dict[str, Any]] = []
            opened = asyncio.Event()

            async def listen() -> None:
                get_headers = {**active, "Accept": "text/event-stream"}
                async with http.stream("GET", url, headers=get_headers) as r:
                    assert r.status_code == 200
                    opened.set()
                    async for line in r.aiter_lines():
                        if line.startswith("data: ") and line[6:].strip():
                            received.append(json.loads(line[6:]))

            listener = asyncio.create_task(listen())
            await asyncio.wait_for(opened.wait(), 5)
            await asyncio.sleep(1.0)  # > timeout * 9/8 plus a sweep period

            assert await ping(http, url, idle) == 404  # expired: the client re-initializes
            assert server.session_count == 1
            # Ended as DELETE ends it: its subscription went with it.
            assert server.notify_resource_updated(URI) == 1
            assert await ping(http, url, active) == 200  # the open GET stream kept it
            for _ in range(50):
                if received:
                    break
                await asyncio.sleep(0.05)
            assert [m["method"] for m in received] == ["notifications/resources/updated"]

            # A re-initialized client gets a new session.
            again = await open_watching(http, url)
            assert again["Mcp-Session-Id"] != idle["Mcp-Session-Id"]
            assert await ping(http, url, again) == 200

            listener.cancel()
            try:
                await listener
            except (asyncio.CancelledError, httpx.HTTPError):
                pass
            # The GET stream closed: idle from now, the session goes too.
            await asyncio.sleep(1.0)
            assert await ping(http, url, active) == 404

    run(main())


def test_requests_keep_a_session_alive() -> None:
    async def main() -> None:
        server = make_server()
        async with serving_http(server, session_idle_timeout=0.4) as (url, http):
            headers = await open_watching(http, url)
            await keep_pinging(http, url, headers)  # never 0.4 s apart

    run(main())


def test_session_idle_timeout_none_keeps_sessions() -> None:
    async def main() -> None:
        server = make_server()
        async with serving_http(server, session_idle_timeout=None) as (url, http):
            headers = await open_watching(http, url)
            await asyncio.sleep(1.2)  # the sweep keeps ticking (once a second)
            assert await ping(http, url, headers) == 200

    run(main())


def test_max_sessions_refuses_initialize_with_503() -> None:
    async def main() -> None:
        server = make_server()
        async with serving_http(server, max_sessions=1, session_idle_timeout=0.3) as (url, http):
            first = await open_watching(http, url)
            await initialize_refused(http, url, first)
            await asyncio.sleep(1.0)
            assert (await initialize(http, url)).status_code == 200  # room after expiry

    run(main())


@pytest.mark.parametrize(
    "options",
    [{"session_idle_timeout": 0}, {"session_idle_timeout": float("inf")},
     {"session_idle_timeout": -1}, {"max_sessions": 0}],
)
def test_bad_limits_are_refused(options: dict[str, Any]) -> None:
    async def main() -> None:
        with pytest.raises(ValueError):
            await make_server().serve_http(port=0, **options)

    run(main())
