"""The benchmark's `add` tool served by fasterapi.mcp (peer of bench_sdk.py).

    python3 examples/mcp/bench_fasterapi.py --transport stdio
    python3 examples/mcp/bench_fasterapi.py --transport http --port 8765   # http://127.0.0.1:8765/mcp

Driven by benchmarks/mcp/bench_mcp.py.
"""

from __future__ import annotations

import argparse

from fasterapi.mcp import MCPServer

server = MCPServer(name="bench-fasterapi")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


def main() -> None:
    parser = argparse.ArgumentParser(description="add(a, b) over MCP, fasterapi.mcp")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run(transport="stdio")
    else:
        server.run(transport="http", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
