"""The benchmark's `add` tool reached through MCPProxy: the proxy in front of
examples/mcp/bench_fasterapi.py (a stdio upstream), so the tool is `fa__add`.

    python3 examples/mcp/bench_proxy.py --transport stdio
    python3 examples/mcp/bench_proxy.py --transport http --port 8765   # http://127.0.0.1:8765/mcp

Driven by benchmarks/mcp/bench_mcp.py (the `proxy` server): compared with `fasterapi` (the same
upstream called directly), the proxy process's own CPU per call is the forwarding overhead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fasterapi.mcp import MCPProxy
from fasterapi.mcp.proxy import Upstream

UPSTREAM = Path(__file__).resolve().parent / "bench_fasterapi.py"


def main() -> None:
    parser = argparse.ArgumentParser(description="add(a, b) through MCPProxy")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    command = [sys.executable, str(UPSTREAM), "--transport", "stdio"]
    proxy = MCPProxy(upstreams={"fa": Upstream(command=command, era="2025-11-25")})
    if args.transport == "stdio":
        proxy.run(transport="stdio")
    else:
        proxy.run(transport="http", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
