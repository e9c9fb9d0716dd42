"""Errors an MCP handler can raise. `McpError` (and subclasses) become JSON-RPC errors with
their code; any other exception raised by a tool becomes an `isError: true` tool result."""

from __future__ import annotations

from typing import Any

# JSON-RPC 2.0 codes as MCP uses them (basic/index.mdx), plus resources.mdx's -32002.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002


class McpError(Exception):
    """A protocol error answered as a JSON-RPC error object."""

    mcp_code: int = INTERNAL_ERROR

    def __init__(self, message: str, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        if code is not None:
            self.mcp_code = code
        self.mcp_data = data


class InvalidParams(McpError):
    mcp_code = INVALID_PARAMS


class ResourceNotFound(McpError):
    mcp_code = RESOURCE_NOT_FOUND

    def __init__(self, uri: str) -> None:
        super().__init__("Resource not found", data={"uri": uri})


class ToolError(Exception):
    """Raise from a tool to report a failure to the model (`isError: true`) with this text."""
