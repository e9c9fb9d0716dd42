"""Upstreams for test_proxy_notifications.py that send notifications outside any call.

`raw`: a 2025-11-25 stdio server in JSON lines (no SDK, so nothing decides for it when to
log): after answering tools/call `emit` it sends two log messages (info and error), a
tools/list_changed and a resources/updated for mem://x, none of them tied to a request.
`modern` (or `http PORT`): our MCPServer over stdio (or Streamable HTTP; 2026-07-28 for a client
that probes server/discover), whose
tool `changed` announces a tools list change and an update of mem://greeting: a 2026-07-28
server sends these only on subscriptions/listen streams."""

from __future__ import annotations

import json
import sys
from typing import Any

from fasterapi.mcp import Context, MCPServer


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def notify(method: str, params: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "method": method, "params": params})


def raw() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        method, rid = msg.get("method"), msg.get("id")
        if rid is None or method is None:
            continue  # notifications, and answers to requests we never send
        result: dict[str, Any] | None = None
        if method == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {
                    "tools": {"listChanged": True},
                    "resources": {"subscribe": True},
                    "logging": {},
                },
                "serverInfo": {"name": "raw-notifier", "version": "1"},
            }
        elif method == "tools/list":
            result = {"tools": [{"name": "emit", "inputSchema": {"type": "object"}}]}
        elif method in ("resources/subscribe", "resources/unsubscribe", "ping"):
            result = {}
        elif method == "tools/call":
            send(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "result": {"content": [{"type": "text", "text": "ok"}]},
                }
            )
            notify("notifications/message", {"level": "info", "logger": "bg", "data": "quiet"})
            notify("notifications/message", {"level": "error", "logger": "bg", "data": {"x": 1}})
            notify("notifications/tools/list_changed", {})
            notify("notifications/resources/updated", {"uri": "mem://x"})
            continue
        if result is None:
            send(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": -32601, "message": "Method not found"},
                }
            )
        else:
            send({"jsonrpc": "2.0", "id": rid, "result": result})


def modern() -> None:
    server = MCPServer(name="modern-notifier")

    @server.tool()
    async def changed(ctx: Context) -> str:
        """Announces a tools list change and an update of mem://greeting."""
        await ctx.notify_tools_changed()
        await ctx.notify_resource_updated("mem://greeting")
        return "announced"

    @server.resource("mem://greeting")
    def greeting() -> str:
        return "hello"

    if sys.argv[1] == "http":
        server.run(transport="http", port=int(sys.argv[2]))
    else:
        server.run(transport="stdio")


if __name__ == "__main__":
    raw() if sys.argv[1:] == ["raw"] else modern()
