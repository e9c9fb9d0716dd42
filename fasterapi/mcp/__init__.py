"""MCP (Model Context Protocol) servers on FasterAPI's C++ core: `MCPServer` with the official
SDK's decorators (`@server.tool`, `@server.resource`, `@server.prompt`), served over stdio or
Streamable HTTP. See docs/mcp/README.md."""

from fasterapi.mcp.client import MCPClient, MCPError
from fasterapi.mcp.content import Audio, Image
from fasterapi.mcp.context import Context
from fasterapi.mcp.errors import InvalidParams, McpError, ResourceNotFound, ToolError
from fasterapi.mcp.input_required import InputRequiredResult
from fasterapi.mcp.proxy import MCPProxy
from fasterapi.mcp.server import MCPServer
from fasterapi.mcp.tasks import (
    TASK_FORBIDDEN,
    TASK_OPTIONAL,
    TASK_REQUIRED,
    CreateTaskResult,
    ServerTaskContext,
    ToolExecution,
)

FastMCP = MCPServer  # the official SDK's former name

__all__ = [
    "TASK_FORBIDDEN",
    "TASK_OPTIONAL",
    "TASK_REQUIRED",
    "Audio",
    "Context",
    "CreateTaskResult",
    "FastMCP",
    "Image",
    "InputRequiredResult",
    "InvalidParams",
    "MCPClient",
    "MCPError",
    "MCPProxy",
    "MCPServer",
    "McpError",
    "ResourceNotFound",
    "ServerTaskContext",
    "ToolError",
    "ToolExecution",
]
