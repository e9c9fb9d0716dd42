"""MCPProxy passing its clients' log levels upstream, observed on the upstream's side
(proxy_recording_upstream.py records what it is sent).

A 2025-11-25 upstream has one level per connection (2025-11-25 server/utilities/logging.mdx):
the proxy sends it, with logging/setLevel, the most verbose level any connected client set,
again when a client sets another or leaves, and only if the upstream declared `logging`; each
client still gets only what its own level admits. A 2026-07-28 upstream takes the level per
request (io.modelcontextprotocol/logLevel in _meta): a 2025-11-25 client's level goes there.

Clients: the official SDK's (mcp 2.x, 2025-11-25 mode) over Streamable HTTP; leaving its
`async with` ends the session with DELETE."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

mcp = require_module("mcp")

import mcp.types as t  # noqa: E402
from mcp_helpers import run, serving  # noqa: E402

from fasterapi.mcp import MCPProxy  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

RECORDER = Path(__file__).resolve().parent / "proxy_recording_upstream.py"
LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


def recorder(mode: str) -> list[str]:
    return [sys.executable, str(RECORDER), mode]


async def seen(client: Client, upstream: str) -> list[dict[str, Any]]:
    """What the upstream has been sent so far (its `seen` tool, through the proxy)."""
    result = await client.call_tool(f"{upstream}__seen", {})
    record: list[dict[str, Any]] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    return record


def set_levels(record: list[dict[str, Any]]) -> list[str]:
    return [m["params"]["level"] for m in record if m["method"] == "logging/setLevel"]


async def until(check: Callable[[], Any], what: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out; got {await what()}"
        await asyncio.sleep(0.05)


class Logs:
    def __init__(self) -> None:
        self.levels: list[str] = []

    async def on_log(self, params: t.LoggingMessageNotificationParams) -> None:
        self.levels.append(params.level)


def test_the_most_verbose_client_level_reaches_a_2025_upstream() -> None:
    terse, verbose = Logs(), Logs()

    async def main() -> None:
        proxy = MCPProxy(upstreams={"rec": recorder("legacy"), "quiet": recorder("legacy-quiet")})
        async with (
            serving(proxy) as url,
            Client(url, mode="legacy", logging_callback=terse.on_log) as a,
        ):
            assert proxy.status()["rec"]["era"] == "2025-11-25"
            # Before any client sets a level the upstream keeps its own (warning).
            await a.call_tool("rec__emit", {})
            await asyncio.sleep(0.3)
            assert terse.levels == LEVELS[3:]
            assert set_levels(await seen(a, "rec")) == []
            terse.levels.clear()

            await a.set_logging_level("error")
            assert set_levels(await seen(a, "rec")) == ["error"]
            async with Client(url, mode="legacy", logging_callback=verbose.on_log) as b:
                await b.set_logging_level("debug")  # more verbose: the upstream is told
                assert set_levels(await seen(b, "rec")) == ["error", "debug"]
                await b.set_logging_level("info")
                assert set_levels(await seen(b, "rec")) == ["error", "debug", "info"]
                await a.set_logging_level("critical")  # b's info is still the most verbose
                assert set_levels(await seen(b, "rec")) == ["error", "debug", "info"]
                await b.call_tool("rec__emit", {})
                # The upstream now logs from info; each client gets what its own level admits.
                await asyncio.sleep(0.3)
                assert verbose.levels == LEVELS[1:]
                assert terse.levels == LEVELS[5:]

            # b's session ended (DELETE): a's critical is all that is asked for now.
            async def told_critical() -> bool:
                return set_levels(await seen(a, "rec"))[-1:] == ["critical"]

            await until(told_critical, lambda: seen(a, "rec"))
            assert set_levels(await seen(a, "rec")) == ["error", "debug", "info", "critical"]
            # An upstream that declared no `logging` capability is never sent a level.
            assert set_levels(await seen(a, "quiet")) == []

    run(main(), 60)


def test_a_2025_clients_level_reaches_a_2026_upstream_with_each_call() -> None:
    logs = Logs()

    async def main() -> None:
        proxy = MCPProxy(upstreams={"rec": recorder("modern")})
        async with (
            serving(proxy) as url,
            Client(url, mode="legacy", logging_callback=logs.on_log) as client,
        ):
            assert proxy.status()["rec"]["era"] == "2026-07-28"
            await client.call_tool("rec__emit", {})  # no level set: none asked, none sent
            await client.set_logging_level("notice")
            await client.call_tool("rec__emit", {})
            record = await seen(client, "rec")
            calls = [m["params"] for m in record if m["method"] == "tools/call"]
            assert [c["_meta"].get("io.modelcontextprotocol/logLevel") for c in calls] == [
                None,
                "notice",
            ]
            assert set_levels(record) == []  # not a 2026-07-28 method
            assert logs.levels == LEVELS[2:]

    run(main(), 60)
