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
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

httpx = require_module("httpx")
mcp = require_module("mcp")

from mcp_helpers import (  # noqa: E402
    ACCEPT,
    INIT,
    initialize,
    initialize_refused,
    keep_pinging,
    open_session,
    ping,
    run,
    serving_http,
    until,
)

from fasterapi.mcp import MCPProxy  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

RECORDER = Path(__file__).resolve().parent / "proxy_recording_upstream.py"


def make_proxy() -> MCPProxy:
    return MCPProxy(upstreams={"rec": [sys.executable, str(RECORDER), "legacy"]})


async def subscribe(http: Any, url: str, headers: dict[str, str], uri: str) -> None:
    """resources/subscribe to `uri` in the session of `headers`, answered with a result."""
    sub = {"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe"}
    r = await http.post(url, json={**sub, "params": {"uri": uri}}, headers=headers)
    assert r.status_code == 200, r.text
    assert '"result"' in r.text, r.text


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


def test_an_idle_session_expires_and_its_subscription_is_withdrawn_upstream() -> None:
    async def main() -> None:
        proxy = make_proxy()
        async with serving_http(proxy, session_idle_timeout=0.3) as (url, http):
            idle = await open_session(http, url)
            await subscribe(http, url, idle, "rec+mem://x")
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

    run(main(), 60)


def test_requests_keep_a_session_alive() -> None:
    async def main() -> None:
        proxy = make_proxy()
        async with serving_http(proxy, session_idle_timeout=0.4) as (url, http):
            headers = await open_session(http, url)
            await keep_pinging(http, url, headers)  # never 0.4 s apart
            assert proxy.session_count == 1

    run(main())


def test_session_idle_timeout_none_keeps_sessions() -> None:
    async def main() -> None:
        proxy = make_proxy()
        async with serving_http(proxy, session_idle_timeout=None) as (url, http):
            headers = await open_session(http, url)
            await asyncio.sleep(1.2)
            assert proxy.session_count == 1
            assert await ping(http, url, headers) == 200

    run(main())


def test_max_sessions_refuses_initialize_with_503() -> None:
    async def main() -> None:
        proxy = make_proxy()
        async with serving_http(proxy, max_sessions=1, session_idle_timeout=0.3) as (url, http):
            first = await open_session(http, url)
            await initialize_refused(http, url, first)
            await until(lambda: proxy.session_count == 0, timeout=5)
            assert (await initialize(http, url)).status_code == 200  # room after expiry

    run(main())


def test_mounted_the_cap_answers_503() -> None:
    from fasterapi import App
    from fasterapi.testing import TestClient

    app = App()
    proxy = make_proxy()
    proxy.mount_into(app, "/mcp", max_sessions=1)
    with TestClient(app) as http:
        assert http.post("/mcp", json=INIT, headers=ACCEPT).status_code == 200
        assert proxy.session_count == 1
        refused = http.post("/mcp", json=INIT, headers=ACCEPT)
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
