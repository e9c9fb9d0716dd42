"""MCPProxy's client sessions expire as MCPServer's do (2025-11-25 basic/transports.mdx "Session
Management"): a Streamable HTTP session with no request and no open stream for
session_idle_timeout seconds is ended as DELETE ends it, so its resource subscriptions are
withdrawn from the upstream (observed on the upstream's side: proxy_recording_upstream.py
records what it is sent), and its id gets 404. max_sessions refuses a further initialize with
503, as the official SDK does."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

httpx = require_module("httpx")
mcp = require_module("mcp")

from mcp_helpers import run  # noqa: E402

from fasterapi.mcp import MCPProxy  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

RECORDER = Path(__file__).resolve().parent / "proxy_recording_upstream.py"
ACCEPT = {"Accept": "application/json, text/event-stream"}


def make_proxy() -> MCPProxy:
    return MCPProxy(upstreams={"rec": [sys.executable, str(RECORDER), "legacy"]})


async def start(proxy: MCPProxy, **options: Any) -> tuple[asyncio.Task[None], str]:
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(proxy.serve_http(port=0, ready=ready.set_result, **options))
    return task, f"http://127.0.0.1:{await ready}/mcp"


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def initialize(http: Any, url: str) -> Any:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    return await http.post(url, json=init, headers=ACCEPT)


async def open_session(http: Any, url: str, subscribe: str | None = None) -> dict[str, str]:
    r = await initialize(http, url)
    assert r.status_code == 200, r.text
    headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
    done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(url, json=done, headers=headers)).status_code == 202
    if subscribe is not None:
        sub = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe"}
        r = await http.post(url, json={**sub, "params": {"uri": subscribe}}, headers=headers)
        assert r.status_code == 200, r.text
        assert '"result"' in r.text, r.text
    return headers


async def ping(http: Any, url: str, headers: dict[str, str]) -> int:
    r = await http.post(url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"}, headers=headers)
    return int(r.status_code)


async def subscriptions(url: str) -> list[tuple[str, str]]:
    """The upstream's resources/subscribe and resources/unsubscribe so far, in order (asked
    through a session of its own, which the proxy's own requests do not touch)."""
    async with Client(url, mode="legacy") as client:
        result = await client.call_tool("rec__seen", {})
    record: list[dict[str, Any]] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    return [
        (m["method"].split("/")[1], m["params"]["uri"])
        for m in record
        if m["method"] in ("resources/subscribe", "resources/unsubscribe")
    ]


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_an_idle_session_expires_and_its_subscription_is_withdrawn_upstream() -> None:
    async def main() -> None:
        proxy = make_proxy()
        task, url = await start(proxy, session_idle_timeout=0.3)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                idle = await open_session(http, url, subscribe="rec+mem://x")
                assert proxy.session_count == 1
                assert await subscriptions(url) == [("subscribe", "mem://x")]
                # Ended by the proxy's own timer: no request reaches it meanwhile.
                await until(lambda: proxy.session_count == 0, timeout=5)
                assert await ping(http, url, idle) == 404  # the client must re-initialize
                # Ended as DELETE ends it: nobody wants mem://x any more.
                for _ in range(100):
                    got = await subscriptions(url)
                    if len(got) > 1:
                        break
                    await asyncio.sleep(0.05)
                assert got == [("subscribe", "mem://x"), ("unsubscribe", "mem://x")]
                again = await open_session(http, url)
                assert again["Mcp-Session-Id"] != idle["Mcp-Session-Id"]
                assert await ping(http, url, again) == 200
        finally:
            await stop(task)

    run(main(), 60)


def test_requests_keep_a_session_alive() -> None:
    async def main() -> None:
        proxy = make_proxy()
        task, url = await start(proxy, session_idle_timeout=0.4)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                headers = await open_session(http, url)
                for _ in range(8):  # 1.2 s in all, never 0.4 s apart
                    await asyncio.sleep(0.15)
                    assert await ping(http, url, headers) == 200
                assert proxy.session_count == 1
        finally:
            await stop(task)

    run(main())


def test_session_idle_timeout_none_keeps_sessions() -> None:
    async def main() -> None:
        proxy = make_proxy()
        task, url = await start(proxy, session_idle_timeout=None)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                headers = await open_session(http, url)
                await asyncio.sleep(1.2)
                assert proxy.session_count == 1
                assert await ping(http, url, headers) == 200
        finally:
            await stop(task)

    run(main())


def test_max_sessions_refuses_initialize_with_503() -> None:
    async def main() -> None:
        proxy = make_proxy()
        task, url = await start(proxy, max_sessions=1, session_idle_timeout=0.3)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                first = await open_session(http, url)
                refused = await initialize(http, url)
                assert refused.status_code == 503
                assert "Too many open sessions" in refused.text
                assert await ping(http, url, first) == 200  # never evicted for a newcomer
                await until(lambda: proxy.session_count == 0, timeout=5)
                assert (await initialize(http, url)).status_code == 200  # room after expiry
        finally:
            await stop(task)

    run(main())


def test_mounted_the_cap_answers_503() -> None:
    from fasterapi import App
    from fasterapi.testing import TestClient

    app = App()
    proxy = make_proxy()
    proxy.mount_into(app, "/mcp", max_sessions=1)
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    with TestClient(app) as http:
        assert http.post("/mcp", json=init, headers=ACCEPT).status_code == 200
        assert proxy.session_count == 1
        refused = http.post("/mcp", json=init, headers=ACCEPT)
        assert refused.status_code == 503
        assert "Too many open sessions" in refused.text


BAD = [
    {"session_idle_timeout": 0},
    {"session_idle_timeout": float("inf")},
    {"session_idle_timeout": float("nan")},
    {"session_idle_timeout": -1},
    {"max_sessions": 0},
    {"max_sessions": True},
]


@pytest.mark.parametrize("options", BAD)
def test_bad_limits_are_refused(options: dict[str, Any]) -> None:
    async def serve() -> None:
        with pytest.raises(ValueError):
            await make_proxy().serve_http(port=0, **options)

    run(serve())
    with pytest.raises(ValueError):
        make_proxy().run(transport="http", port=0, **options)
    from fasterapi import App

    with pytest.raises(ValueError):
        make_proxy().mount_into(App(), "/mcp", **options)
