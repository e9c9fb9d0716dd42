"""The official MCP conformance suite's client scenarios, run with fasterapi.mcp.MCPClient.

The suite starts a mock server per scenario and runs `python3 conformance_client.py <url>` with
MCP_CONFORMANCE_SCENARIO set; see tests/python/mcp/conformance/README.md. Exits 0 when the
scenario's steps ran, 1 on an error (the suite's checks judge the rest).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from fasterapi.mcp import MCPClient, MCPError


async def accept(params: dict[str, Any]) -> dict[str, Any]:
    """Accepts every elicitation with no fields filled in: MCPClient adds the schema's defaults
    (SEP-1034)."""
    return {"action": "accept", "content": {}}


async def run(url: str, scenario: str) -> None:
    client = MCPClient.http(
        url,
        client_info={"name": "fasterapi-conformance-client", "version": "1.0.0"},
        elicitation_callback=accept,
        read_timeout=20,
        protocol="auto",
    )
    async with client as c:
        tools = (await c.list_tools())["tools"]
        names = [t["name"] for t in tools]
        if scenario == "initialize":
            return
        if scenario == "tools_call" or "add_numbers" in names:
            result = await c.call_tool("add_numbers", {"a": 5, "b": 3})
            print(result["content"][0]["text"])
            return
        # elicitation-sep1034-client-defaults, sse-retry, and any other: call what is offered.
        for name in names:
            result = await c.call_tool(name, {})
            print(name, "->", result.get("content"))


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: conformance_client.py <server-url>", file=sys.stderr)
        return 2
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    try:
        asyncio.run(run(sys.argv[1], scenario))
    except MCPError as e:
        print(f"{scenario}: {e!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
