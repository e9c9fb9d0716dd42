"""An MCP server mounted into a FasterAPI App: the App serves its routes and, at /mcp, the MCP
Streamable HTTP endpoint. Run: python examples/mcp/mounted_app.py http PORT."""

import sys

from fasterapi import App
from fasterapi.mcp import Context, MCPServer

app = App()
mcp = MCPServer(name="Mounted Tools", version="1.0.0")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two numbers"""
    return a + b


@mcp.tool()
async def count(n: int, ctx: Context) -> str:
    """Counts to n, reporting progress"""
    for i in range(n):
        await ctx.report_progress(i + 1, n)
    return f"counted to {n}"


@app.get("/")
def hello(req, res):
    return {"message": "Hello, World!"}


app.mount("/mcp", mcp)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]) if len(sys.argv) > 2 else 8000)
