"""The benchmark's `add` tool served by the official `mcp` SDK (peer of bench_fasterapi.py).

    python3 examples/mcp/bench_sdk.py --transport stdio
    python3 examples/mcp/bench_sdk.py --transport http --port 8765     # http://127.0.0.1:8765/mcp

Driven by benchmarks/mcp/bench_mcp.py; the SDK's defaults otherwise (stateful sessions, SSE
responses over Streamable HTTP), so the figures are the SDK as a user runs it.
"""

from __future__ import annotations

import argparse
import logging

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="bench-sdk", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


def main() -> None:
    parser = argparse.ArgumentParser(description="add(a, b) over MCP, official SDK")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json-response", action="store_true", help="JSON replies, not SSE")
    args = parser.parse_args()
    logging.getLogger("mcp").setLevel(logging.WARNING)  # no per-request INFO lines in the timing
    if args.transport == "stdio":
        server.run(transport="stdio")
    else:
        server.run(
            transport="streamable-http",
            host=args.host,
            port=args.port,
            json_response=args.json_response,
        )


if __name__ == "__main__":
    main()
