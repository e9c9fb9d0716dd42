"""An MCPProxy serving several upstream MCP servers behind one endpoint.

    python3 examples/mcp/proxy_server.py calc="python3 examples/mcp/tools_server.py" \\
        web=http://127.0.0.1:9001/mcp                        # stdio
    python3 examples/mcp/proxy_server.py --http 8000 calc="python3 examples/mcp/tools_server.py"

Each argument is name=URL (Streamable HTTP) or name="command args" (stdio). The upstream's tools
appear as name__tool, its resources as name+uri. See docs/mcp/proxy.md.
"""

from __future__ import annotations

import argparse
import shlex

from fasterapi.mcp import MCPProxy
from fasterapi.mcp.proxy import Breaker, RateLimit, UpstreamSpec


def main() -> None:
    parser = argparse.ArgumentParser(description="MCP proxy (fasterapi.mcp.MCPProxy)")
    parser.add_argument("upstreams", nargs="+", help="name=URL or name='command args'")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve Streamable HTTP")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s per client")
    parser.add_argument("--burst", type=float, default=0.0)
    parser.add_argument("--failures", type=int, default=5, help="breaker failure threshold")
    parser.add_argument("--cooldown", type=float, default=30.0, help="breaker cool-down (s)")
    args = parser.parse_args()
    upstreams: dict[str, UpstreamSpec] = {}
    for item in args.upstreams:
        name, _, spec = item.partition("=")
        upstreams[name] = spec if spec.startswith("http://") else shlex.split(spec)
    proxy = MCPProxy(
        upstreams=upstreams,
        rate_limit=RateLimit(args.rate, args.burst) if args.rate else None,
        breaker=Breaker(failure_threshold=args.failures, cooldown=args.cooldown),
    )
    if args.http is not None:
        proxy.run(transport="http", port=args.http)
    else:
        proxy.run(transport="stdio")


if __name__ == "__main__":
    main()
