"""A stdio MCP upstream in raw JSON lines for test_proxy_levels.py and
test_proxy_subscriptions.py: it records every message the proxy sends it and hands the record
back through its tool `seen`, so a test observes the upstream's side of the proxy.

    proxy_recording_upstream.py legacy        2025-11-25, declares `logging`, starts at "warning"
    proxy_recording_upstream.py legacy-quiet  2025-11-25, declares no `logging`
    proxy_recording_upstream.py modern        2026-07-28 (answers server/discover)

Tools: `seen` (the record so far, as JSON text: [{"method", "params", "id"}...], its own calls
and pings left out) and `emit`. A 2025-11-25 `emit` answers, then logs one message per level at
or above the level logging/setLevel set (the server's own default before that), outside any
call. A 2026-07-28 `emit` logs inside the call, at or above the request's
io.modelcontextprotocol/logLevel, and not at all without it (2026-07-28
server/utilities/logging.mdx). A 2026-07-28 subscriptions/listen is acknowledged and left open
until notifications/cancelled names it."""

from __future__ import annotations

import json
import sys
from typing import Any

LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
MODERN = "2026-07-28"


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def notify(method: str, params: dict[str, Any]) -> None:
    send({"jsonrpc": "2.0", "method": method, "params": params})


def logs_from(level: str) -> None:
    for name in LEVELS[LEVELS.index(level) :]:
        notify("notifications/message", {"level": name, "logger": "rec", "data": name})


def main(mode: str) -> None:
    modern = mode == "modern"
    record: list[dict[str, Any]] = []
    level = "warning"  # a 2025-11-25 server's default: nothing below it until told
    done = {"resultType": "complete"} if modern else {}
    for line in sys.stdin:
        msg = json.loads(line)
        method, rid, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
        if method is None:
            continue  # answers to what we never ask
        is_seen = method == "tools/call" and params.get("name") == "seen"
        if method != "ping" and not is_seen:
            record.append({"method": method, "params": params, "id": rid})
        if rid is None:
            continue  # notifications (initialized, cancelled): recorded only
        result: dict[str, Any] | None = None
        if method == "server/discover" and modern:
            result = {
                "supportedVersions": [MODERN],
                "capabilities": {"tools": {}, "resources": {"subscribe": True}, "logging": {}},
                "serverInfo": {"name": "recorder", "version": "1"},
            }
        elif method == "initialize" and not modern:
            caps: dict[str, Any] = {"tools": {}, "resources": {"subscribe": True}}
            if mode == "legacy":
                caps["logging"] = {}
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": caps,
                "serverInfo": {"name": "recorder", "version": "1"},
            }
        elif method == "tools/list":
            schema = {"type": "object"}
            result = {
                "tools": [
                    {"name": "seen", "inputSchema": schema},
                    {"name": "emit", "inputSchema": schema},
                ]
            }
        elif method == "subscriptions/listen" and modern:
            notify(
                "notifications/subscriptions/acknowledged",
                {
                    "_meta": {"io.modelcontextprotocol/subscriptionId": rid},
                    "notifications": params.get("notifications", {}),
                },
            )
            continue  # open until cancelled
        elif method in ("resources/subscribe", "resources/unsubscribe", "ping") and not modern:
            result = {}
        elif method == "logging/setLevel" and mode == "legacy":
            level = params["level"]
            result = {}
        elif is_seen:
            result = {"content": [{"type": "text", "text": json.dumps(record)}]}
        elif method == "tools/call" and params.get("name") == "emit":
            asked = params.get("_meta", {}).get("io.modelcontextprotocol/logLevel")
            if modern and asked in LEVELS:
                logs_from(asked)
            answer = {"content": [{"type": "text", "text": "emitted"}]}
            send({"jsonrpc": "2.0", "id": rid, "result": {**answer, **done}})
            if not modern:
                logs_from(level)
            continue
        if result is None:
            error = {"code": -32601, "message": "Method not found"}
            send({"jsonrpc": "2.0", "id": rid, "error": error})
        else:
            send({"jsonrpc": "2.0", "id": rid, "result": {**result, **done}})


if __name__ == "__main__":
    main(sys.argv[1])
