"""A fuller MCP server for tests and as an example: sync and async tools, Context progress and
logging, a tool that raises, one that hangs until cancelled, resources, a template, a prompt.
Run: python examples/mcp/tools_server.py [stdio | http PORT]."""

import asyncio
import sys

from pydantic import BaseModel

from fasterapi.mcp import Context, MCPServer, ToolError

server = MCPServer(name="Test Tools", version="0.1.0", instructions="Tools for tests")


class Point(BaseModel):
    x: float
    y: float


@server.tool("calculate")
def calculate(operation: str, a: float, b: float) -> float:
    """Perform basic calculations"""
    ops = {"add": a + b, "multiply": a * b, "subtract": a - b}
    return ops[operation]


@server.tool()
def echo(text: str) -> str:
    """Echo the text back"""
    return text


@server.tool()
def midpoint(p: Point, q: Point) -> Point:
    """Midpoint of two points"""
    return Point(x=(p.x + q.x) / 2, y=(p.y + q.y) / 2)


@server.tool()
def fail(message: str) -> str:
    """Always fails"""
    raise ToolError(message)


@server.tool()
def crash() -> str:
    """Raises an unexpected exception"""
    raise RuntimeError("boom")


@server.tool()
async def slow_count(n: int, ctx: Context) -> str:
    """Counts to n, reporting progress and logging"""
    for i in range(n):
        await ctx.report_progress(i + 1, n, f"step {i + 1}")
        await ctx.info(f"counted {i + 1}")
        await asyncio.sleep(0.01)
    return f"counted to {n}"


cancelled_hangs = 0


@server.tool()
async def hang() -> str:
    """Never finishes unless cancelled"""
    global cancelled_hangs
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        cancelled_hangs += 1
        raise
    return "unreachable"


@server.tool()
def cancelled_count() -> int:
    """How many hang calls were cancelled"""
    return cancelled_hangs


@server.resource("config://settings")
def get_settings() -> dict:
    """Get application settings"""
    return {"max_retries": 3, "timeout": 30}


@server.resource("users://{user_id}/profile")
def user_profile(user_id: int) -> dict:
    """A user's profile"""
    return {"id": user_id, "name": f"user {user_id}"}


@server.prompt()
def review(code: str, language: str = "python") -> str:
    """Ask for a code review"""
    return f"Please review this {language} code:\n{code}"


@server.completion()
def complete(ref: dict, argument: dict, context: dict | None) -> list[str]:
    """Completes the review prompt's language argument"""
    if argument["name"] == "language":
        return [lang for lang in ("python", "rust", "go") if lang.startswith(argument["value"])]
    return []


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run(transport="http", port=int(sys.argv[2]))
    else:
        server.run(transport="stdio")
