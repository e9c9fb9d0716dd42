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

from mcp_helpers import run  # noqa: E402

from fasterapi.mcp import MCPServer  # noqa: E402

pytestmark = pytest.mark.timeout(60)

ACCEPT = {"Accept": "application/json, text/event-stream"}
URI = "test://watched"


def make_server() -> MCPServer:
    server = MCPServer(name="expiry")

    @server.resource(URI)
    def watched() -> str:
        return "value"

    return server


async def start(server: MCPServer, **options: Any) -> tuple[asyncio.Task[None], str]:
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.serve_http(port=0, ready=ready.set_result, **options))
    return task, f"http://127.0.0.1:{await ready}/mcp"


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def initialize(http: Any, url: str) -> Any:
    init = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}},
    }
    return await http.post(url, json=init, headers=ACCEPT)


async def open_session(http: Any, url: str) -> dict[str, str]:
    r = await initialize(http, url)
    assert r.status_code == 200, r.text
    headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
    done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(url, json=done, headers=headers)).status_code == 202
    sub = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": URI}}
    assert (await http.post(url, json=sub, headers=headers)).status_code == 200
    return headers


async def ping(http: Any, url: str, headers: dict[str, str]) -> int:
    r = await http.post(url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"}, headers=headers)
    return int(r.status_code)


def test_an_idle_session_expires_while_one_with_a_get_stream_stays() -> None:
    async def main() -> None:
        server = make_server()
        task, url = await start(server, session_idle_timeout=0.3)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                idle = await open_session(http, url)
                active = await open_session(http, url)
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
                again = await open_session(http, url)
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
        finally:
            await stop(task)

    run(main())


def test_requests_keep_a_session_alive() -> None:
    async def main() -> None:
        server = make_server()
        task, url = await start(server, session_idle_timeout=0.4)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                headers = await open_session(http, url)
                for _ in range(8):  # 1.2 s in all, never 0.4 s apart
                    await asyncio.sleep(0.15)
                    assert await ping(http, url, headers) == 200
        finally:
            await stop(task)

    run(main())


def test_session_idle_timeout_none_keeps_sessions() -> None:
    async def main() -> None:
        server = make_server()
        task, url = await start(server, session_idle_timeout=None)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                headers = await open_session(http, url)
                await asyncio.sleep(1.2)  # the sweep keeps ticking (once a second)
                assert await ping(http, url, headers) == 200
        finally:
            await stop(task)

    run(main())


def test_max_sessions_refuses_initialize_with_503() -> None:
    async def main() -> None:
        server = make_server()
        task, url = await start(server, max_sessions=1, session_idle_timeout=0.3)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                first = await open_session(http, url)
                refused = await initialize(http, url)
                assert refused.status_code == 503
                assert "Too many open sessions" in refused.text
                assert await ping(http, url, first) == 200  # never evicted for a newcomer
                await asyncio.sleep(1.0)
                assert (await initialize(http, url)).status_code == 200  # room after expiry
        finally:
            await stop(task)

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
