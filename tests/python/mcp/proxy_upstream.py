"""An upstream for the proxy tests, written with our MCPServer: add, slow_count (progress), hang,
die (the process exits mid-call), confirm (asks the client through elicitation). stdio by
default; `http PORT` for Streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import sys

from fasterapi.mcp import Context, MCPServer

server = MCPServer(name="proxy-test-upstream")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
async def slow_count(n: int, ctx: Context) -> str:
    """Counts to n with a progress notification per step."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n)
        await asyncio.sleep(0.01)
    return f"counted to {n}"


@server.tool()
async def hang() -> str:
    """Never finishes."""
    await asyncio.sleep(3600)
    return "never"


@server.tool()
def die() -> str:
    """The server process exits while the call is in flight."""
    os._exit(7)


@server.tool()
async def confirm(item: str, ctx: Context) -> str:
    """Asks the user to confirm (elicitation/create) and says what they answered."""
    answer = await ctx.elicit(
        f"Delete {item}?", {"type": "object", "properties": {"sure": {"type": "boolean"}}}
    )
    return f"{answer.action}: {answer.content}"


@server.resource("mem://greeting")
def greeting() -> str:
    return "hello"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run(transport="http", port=int(sys.argv[2]))
    else:
        server.run(transport="stdio")
