"""Resumable Streamable HTTP (2025-11-25 basic/transports.mdx "Resumability and
Redelivery", SEP-1699): SSE events carry ids, a closed POST stream is resumed by GET with
Last-Event-ID, and the GET stream's messages are replayed; the official SDK client resumes on
its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from conftest import require_module

mcp = require_module("mcp")

from mcp_helpers import run, serving  # noqa: E402

from fasterapi.mcp import Context, MCPServer  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(60)

ACCEPT = {"Accept": "application/json, text/event-stream"}


def make_server() -> MCPServer:
    server = MCPServer(name="resume")

    @server.tool()
    async def reconnect(ctx: Context) -> str:
        """Logs, closes its stream, logs again once the client is gone, returns."""
        await ctx.info("before")
        await ctx.close_sse_stream()
        await asyncio.sleep(0.2)
        await ctx.info("after")
        return "done"

    return server


def events(text: str) -> list[tuple[str, Any]]:
    """(id, message) of each SSE event with an id; message None for an empty data line."""
    out: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "id" in fields:
            data = fields.get("data", "")
            out.append((fields["id"], json.loads(data) if data.strip() else None))
    return out


async def open_session(http: httpx.AsyncClient, url: str) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}},
    }
    r = await http.post(url, json=init, headers=ACCEPT)
    headers = {**ACCEPT, "Mcp-Session-Id": r.headers["mcp-session-id"]}
    done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(url, json=done, headers=headers)).status_code == 202
    level = {"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "info"}}
    await http.post(url, json=level, headers=headers)
    return headers


def test_a_closed_post_stream_resumes_with_last_event_id() -> None:
    async def main() -> None:
        async with serving(make_server()) as url, httpx.AsyncClient(timeout=10) as http:
            headers = await open_session(http, url)
            call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                    "params": {"name": "reconnect", "arguments": {}}}
            first = events((await http.post(url, json=call, headers=headers)).text)
            # A priming event, then "before"; the server ended the response there.
            assert first[0][1] is None
            assert first[-1][1]["params"]["data"] == "before"
            last_id = first[-1][0]
            await asyncio.sleep(0.4)  # "after" and the result are sent while no one listens
            resumed = await http.get(url, headers={**headers, "Last-Event-ID": last_id})
            rest = events(resumed.text)
            assert [m["params"]["data"] for _, m in rest if "method" in m] == ["after"]
            assert rest[-1][1]["result"]["content"][0]["text"] == "done"
            # The same id again replays the same messages: ids name a stream and a place in it.
            again = await http.get(url, headers={**headers, "Last-Event-ID": last_id})
            assert events(again.text) == rest

    run(main())


def test_the_get_stream_is_replayed_from_its_last_event_id() -> None:
    server = make_server()

    async def first_events(http: httpx.AsyncClient, url: str, headers: dict[str, str],
                           notify: Any = None) -> list[tuple[str, Any]]:
        async with http.stream("GET", url, headers=headers) as stream:
            buf = ""
            async for chunk in stream.aiter_text():
                if notify is not None and ": stream open" in chunk:
                    notify()
                    notify = None
                buf += chunk
                if seen := events(buf):
                    return seen
        raise AssertionError("the stream ended")

    async def main() -> None:
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            headers = await open_session(http, url)
            seen = await first_events(http, url, headers, server.notify_tools_changed)
            assert [(i, m["method"]) for i, m in seen] == [
                ("0-1", "notifications/tools/list_changed")
            ]
            await asyncio.sleep(0.3)  # the server sees the stream gone
            server.notify_prompts_changed()  # kept for the client's return
            again = await first_events(http, url, {**headers, "Last-Event-ID": "0-1"})
            assert [(i, m["method"]) for i, m in again] == [
                ("0-2", "notifications/prompts/list_changed")
            ]
            # Messages for the GET stream are kept from the session's start: a session that
            # never opened one replays them from 0-0.
            fresh = await open_session(http, url)
            server.notify_resources_changed()
            early = await first_events(http, url, {**fresh, "Last-Event-ID": "0-0"})
            assert [(i, m["method"]) for i, m in early][:1] == [
                ("0-1", "notifications/resources/list_changed")
            ]

    run(main())


def test_the_official_client_resumes_a_closed_stream() -> None:
    async def main() -> None:
        logs: list[Any] = []

        async def on_log(params: Any) -> None:
            logs.append(params.data)

        async with serving(make_server()) as url, Client(
            url, mode="legacy", logging_callback=on_log, log_level="info"
        ) as client:
            result = await client.call_tool("reconnect", {})
            assert result.content[0].text == "done"
            assert logs == ["before", "after"]

    run(main())
