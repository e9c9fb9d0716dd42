"""The official MCP SDK's Streamable HTTP app (mcp 2.x MCPServer), unchanged."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("asgi-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


app = server.streamable_http_app()
