"""MCPProxy relaying what upstreams send outside any call: log messages (to each 2025-11-25
client at or above the level it set with logging/setLevel, on its unsolicited channel),
list_changed (the proxy's merged list changed: its own list_changed) and resources/updated (to
the clients subscribed to the namespaced URI). A 2025-11-25 upstream sends these on its own; a
2026-07-28 upstream only on a subscriptions/listen stream, which the proxy keeps open on it
(2026-07-28 basic/patterns/subscriptions.mdx; over stdio, or as a POST's SSE stream over HTTP)
with the resources clients subscribed to. And, inside a call, a 2026-07-28 client's per-request
log level passed upstream.

Judged by the official SDK's client (mcp 2.x, 2025-11-25 mode) over Streamable HTTP, in front
of a raw JSON-lines 2025-11-25 upstream and of our MCPServer in the 2026-07-28 era."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import require_module

mcp = require_module("mcp")

import mcp.types as t  # noqa: E402
from mcp_helpers import ROOT, HttpServerProcess, run, serving  # noqa: E402

from fasterapi.mcp import MCPProxy  # noqa: E402
from fasterapi.mcp.proxy import Upstream  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(90)

NOTIFIER = Path(__file__).resolve().parent / "proxy_notifying_upstream.py"


class Seen:
    """What one client received outside its calls."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, Any]] = []
        self.notes: list[Any] = []

    async def on_log(self, params: t.LoggingMessageNotificationParams) -> None:
        self.logs.append((params.level, params.data))

    async def on_message(self, message: Any) -> None:
        if not isinstance(message, Exception):
            self.notes.append(message)

    def of(self, kind: type) -> list[Any]:
        return [n for n in self.notes if isinstance(n, kind)]

    def client(self, url: str) -> Client:
        """A legacy-mode client of `url` whose logs and notifications this records."""
        return Client(
            url, mode="legacy", logging_callback=self.on_log, message_handler=self.on_message
        )


async def until(check: Callable[[], bool], *seen: Seen, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        got = [(s.logs, [type(n).__name__ for n in s.notes]) for s in seen]
        assert asyncio.get_running_loop().time() < deadline, f"timed out; got {got}"
        await asyncio.sleep(0.05)


def test_logs_list_changed_and_updates_of_a_2025_upstream_outside_calls() -> None:
    quiet, chatty = Seen(), Seen()

    async def main() -> None:
        proxy = MCPProxy(upstreams={"up": [sys.executable, str(NOTIFIER), "raw"]})
        async with (
            serving(proxy) as url,
            quiet.client(url) as a,
            chatty.client(url) as b,
        ):
            assert proxy.status()["up"]["era"] == "2025-11-25"
            await a.set_logging_level("error")  # b sets none: it gets every level
            await b.subscribe_resource("up+mem://x")
            result = await a.call_tool("up__emit", {})
            assert result.content[0].text == "ok"  # type: ignore[union-attr]
            # The upstream logs after its answer, with no call in flight: the proxy sends each
            # session what its level admits.
            await until(lambda: len(chatty.logs) == 2 and len(quiet.logs) == 1, chatty, quiet)
            assert chatty.logs == [("info", "quiet"), ("error", {"x": 1})]
            assert quiet.logs == [("error", {"x": 1})]
            await until(lambda: bool(quiet.of(t.ToolListChangedNotification)), quiet)
            await until(lambda: bool(chatty.of(t.ToolListChangedNotification)), chatty)
            # resources/updated only to the session subscribed, with the proxy's URI.
            await until(lambda: bool(chatty.of(t.ResourceUpdatedNotification)), chatty)
            [updated] = chatty.of(t.ResourceUpdatedNotification)
            assert str(updated.params.uri) == "up+mem://x"
            await asyncio.sleep(0.3)
            assert not quiet.of(t.ResourceUpdatedNotification)
            assert len(quiet.logs) == 1  # nothing more came

    run(main(), 60)


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_list_changed_and_updates_of_a_2026_upstream_reach_legacy_clients(transport: str) -> None:
    seen = Seen()
    server = HttpServerProcess(NOTIFIER) if transport == "http" else None

    async def main() -> None:
        up = (
            Upstream(url=server.url)
            if server is not None
            else Upstream(command=[sys.executable, str(NOTIFIER), "modern"])
        )
        proxy = MCPProxy(upstreams={"up": up})
        async with (
            serving(proxy) as url,
            Client(url, mode="legacy", message_handler=seen.on_message) as client,
        ):
            assert proxy.status()["up"]["era"] == "2026-07-28"
            # Subscribing re-opens the proxy's subscriptions/listen upstream with the URI.
            await client.subscribe_resource("up+mem://greeting")
            result = await client.call_tool("up__changed", {})
            assert result.content[0].text == "announced"  # type: ignore[union-attr]
            await until(lambda: bool(seen.of(t.ToolListChangedNotification)), seen)
            await until(lambda: bool(seen.of(t.ResourceUpdatedNotification)), seen)
            [updated] = seen.of(t.ResourceUpdatedNotification)
            assert str(updated.params.uri) == "up+mem://greeting"
            # The list the client re-reads is merged again from the upstream.
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert "up__changed" in names

    try:
        run(main(), 60)
    finally:
        if server is not None:
            server.close()


def test_a_2026_clients_log_level_goes_upstream_with_its_call() -> None:
    """2026-07-28 logging is request-scoped (server/utilities/logging.mdx): the client's
    io.modelcontextprotocol/logLevel reaches the upstream in the forwarded call's _meta, and the
    upstream's messages come back on that call's stream, at or above the level; without the
    field none are sent."""
    conformance = ROOT / "examples" / "mcp" / "conformance_server.py"
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "up__test_tool_with_logging",
    }

    async def main(url: str) -> None:
        proxy = MCPProxy(upstreams={"up": Upstream(url=url)})
        async with serving(proxy) as front, httpx.AsyncClient(timeout=30) as http:

            async def logs(level: str | None) -> list[dict[str, Any]]:
                meta: dict[str, Any] = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
                if level is not None:
                    meta["io.modelcontextprotocol/logLevel"] = level
                params = {"name": "up__test_tool_with_logging", "arguments": {}, "_meta": meta}
                body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
                r = await http.post(front, json=body, headers=headers)
                assert r.status_code == 200, r.text
                lines = [ln[5:] for ln in r.text.splitlines() if ln.startswith("data:")]
                messages = [json.loads(x) for x in lines] if lines else [r.json()]
                assert messages[-1]["result"]["content"][0]["text"].endswith("successfully")
                return [m["params"] for m in messages if m.get("method") == "notifications/message"]

            got = await logs("info")
            assert [p["level"] for p in got] == ["info"] * 3, got
            assert got[0]["data"] == "Tool execution started"
            assert await logs("error") == []
            assert await logs(None) == []

    with HttpServerProcess(conformance, flag_args=True) as upstream:
        run(main(upstream.url), 60)
