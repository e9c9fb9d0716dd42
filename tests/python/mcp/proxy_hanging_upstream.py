"""A stdio MCP upstream (2025-11-25, raw JSON lines) for test_proxy_hangup.py: its tool `hang`
never answers, and every message the proxy sends it is appended, one JSON line each, to the
file named by argv[1], so a test sees whether notifications/cancelled arrived and for which
request.

    proxy_hanging_upstream.py RECORD_PATH"""

from __future__ import annotations

import json
import sys
from typing import Any


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(record_path: str) -> None:
    with open(record_path, "a", encoding="utf-8") as record:
        for line in sys.stdin:
            msg = json.loads(line)
            record.write(json.dumps(msg) + "\n")
            record.flush()
            method, rid = msg.get("method"), msg.get("id")
            if method is None or rid is None:
                continue  # answers to what we never ask; notifications: recorded only
            result: dict[str, Any] | None = None
            if method == "initialize":
                result = {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "hanging", "version": "1"},
                }
            elif method == "tools/list":
                result = {"tools": [{"name": "hang", "inputSchema": {"type": "object"}}]}
            elif method == "ping":
                result = {}
            elif method == "tools/call":
                continue  # never answered: open until cancelled
            if result is None:
                error = {"code": -32601, "message": "Method not found"}
                send({"jsonrpc": "2.0", "id": rid, "error": error})
            else:
                send({"jsonrpc": "2.0", "id": rid, "result": result})


if __name__ == "__main__":
    main(sys.argv[1])
