"""MCPProxy keeping its upstreams' resource subscriptions to what its clients want, observed on
the upstream's side (proxy_recording_upstream.py records what it is sent).

Each client subscription counts once per client: a 2025-11-25 session's resources/subscribe
(until its resources/unsubscribe or the session's end, DELETE), a 2026-07-28 client's
subscriptions/listen naming the URI (until the listen ends). The upstream is subscribed when the
first client wants the URI and unsubscribed when the last one is gone: resources/subscribe and
resources/unsubscribe for a 2025-11-25 upstream (server/resources.mdx "Subscriptions"); for a
2026-07-28 upstream, whose listen's filter is fixed when it opens (2026-07-28
basic/patterns/subscriptions.mdx), a new subscriptions/listen with the new set, then the old
one cancelled.

Clients: the official SDK's (mcp 2.x) over Streamable HTTP, 2025-11-25 and 2026-07-28 modes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

mcp = require_module("mcp")

from mcp_helpers import run, serving  # noqa: E402

from fasterapi.mcp import MCPProxy  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

RECORDER = Path(__file__).resolve().parent / "proxy_recording_upstream.py"


def recorder(mode: str) -> list[str]:
    return [sys.executable, str(RECORDER), mode]


async def seen(client: Client) -> list[dict[str, Any]]:
    """What the upstream `rec` has been sent so far (its `seen` tool, through the proxy)."""
    result = await client.call_tool("rec__seen", {})
    record: list[dict[str, Any]] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    return record


def subscriptions(record: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The 2025-11-25 upstream's resources/subscribe and resources/unsubscribe, in order."""
    return [
        (m["method"].split("/")[1], m["params"]["uri"])
        for m in record
        if m["method"] in ("resources/subscribe", "resources/unsubscribe")
    ]


def listens(record: list[dict[str, Any]]) -> list[tuple[Any, list[str]]]:
    """The 2026-07-28 upstream's subscriptions/listen requests: (id, resourceSubscriptions)."""
    return [
        (m["id"], m["params"]["notifications"].get("resourceSubscriptions", []))
        for m in record
        if m["method"] == "subscriptions/listen"
    ]


def cancelled(record: list[dict[str, Any]]) -> list[Any]:
    return [m["params"]["requestId"] for m in record if m["method"] == "notifications/cancelled"]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_2025_upstream_is_unsubscribed_when_the_last_client_leaves() -> None:
    async def main() -> None:
        proxy = MCPProxy(upstreams={"rec": recorder("legacy")})
        async with serving(proxy) as url, Client(url, mode="legacy") as a:
            await a.subscribe_resource("rec+mem://x")
            await a.subscribe_resource("rec+mem://x")  # again: still one subscription of a's
            await a.subscribe_resource("rec+mem://y")
            async with Client(url, mode="legacy") as b:
                await b.subscribe_resource("rec+mem://x")
                await b.unsubscribe_resource("rec+mem://y")  # never b's: changes nothing
                await a.unsubscribe_resource("rec+mem://x")  # b still wants it
                await a.unsubscribe_resource("rec+mem://y")  # the last one: unsubscribed
                await until(lambda: has(a, ("unsubscribe", "mem://y")))
                assert subscriptions(await seen(a)) == [
                    ("subscribe", "mem://x"),
                    ("subscribe", "mem://y"),
                    ("unsubscribe", "mem://y"),
                ]
            # b's session ended (DELETE) with its subscription to mem://x: nobody wants it now.
            await until(lambda: has(a, ("unsubscribe", "mem://x")))
            assert subscriptions(await seen(a))[3:] == [("unsubscribe", "mem://x")]
            await a.subscribe_resource("rec+mem://x")  # wanted again: subscribed again
            await until(lambda: subscriptions_of(a, 5))

    async def has(client: Client, item: tuple[str, str]) -> bool:
        return item in subscriptions(await seen(client))

    async def subscriptions_of(client: Client, n: int) -> bool:
        got = subscriptions(await seen(client))
        return len(got) == n and got[-1] == ("subscribe", "mem://x")

    run(main(), 60)


def test_a_2026_upstreams_listen_follows_the_clients_listens() -> None:
    async def main() -> None:
        proxy = MCPProxy(upstreams={"rec": recorder("modern")})
        async with (
            serving(proxy) as url,
            Client(url, mode="2026-07-28") as modern,
            Client(url, mode="legacy") as legacy,
        ):
            assert proxy.status()["rec"]["era"] == "2026-07-28"
            # The proxy's own listen (list changes), open since the upstream started.
            [(first, uris)] = listens(await seen(modern))
            assert uris == []
            async with modern.listen(resource_subscriptions=["rec+mem://x", "rec+mem://y"]):

                async def opened() -> bool:
                    return len(listens(await seen(modern))) == 2

                await until(opened)
                record = await seen(modern)
                [_, (second, uris)] = listens(record)
                assert uris == ["mem://x", "mem://y"]
                assert cancelled(record) == [first]  # replaced, not left open
                await legacy.subscribe_resource("rec+mem://x")
                await asyncio.sleep(0.3)
                assert len(listens(await seen(modern))) == 2  # mem://x was wanted already

            # The client's listen ended (its stream closed): mem://y is wanted by nobody.
            async def narrowed() -> bool:
                return len(listens(await seen(modern))) == 3

            await until(narrowed)
            record = await seen(modern)
            [_, _, (third, uris)] = listens(record)
            assert uris == ["mem://x"]
            assert cancelled(record) == [first, second]
            await legacy.unsubscribe_resource("rec+mem://x")

            async def emptied() -> bool:
                return len(listens(await seen(modern))) == 4

            await until(emptied)
            record = await seen(modern)
            assert listens(record)[-1][1] == []  # still open for list changes
            assert cancelled(record) == [first, second, third]

    run(main(), 60)
