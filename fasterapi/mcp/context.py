"""Context: what a tool, resource or prompt can do besides returning — report progress and send
log messages tied to its request (server/utilities/progress.mdx, server/utilities/logging.mdx).
Declare a parameter annotated `Context` to receive one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fasterapi.mcp.server import MCPServer

LogLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


class Context:
    """Per-request handle. Its methods are coroutines, as in the official SDK."""

    def __init__(self, reply: Any, server: MCPServer | None = None) -> None:
        self._reply = reply
        self._server = server

    def __class_getitem__(cls, _params: Any) -> type[Context]:
        return cls  # `Context[ServerSession, None]` annotations from SDK code keep working

    @property
    def request_id(self) -> str:
        """The request's JSON-RPC id as a string (`"7"` for the id 7, `"abc"` for "abc")."""
        raw = str(self._reply.request_id)
        return str(json.loads(raw)) if raw.startswith('"') else raw

    @property
    def cancelled(self) -> bool:
        """True once the client cancelled the request (or went away)."""
        return not self._reply.active

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Sends notifications/progress if the client asked for progress (a progressToken)."""
        self._reply.progress(float(progress), None if total is None else float(total), message)

    async def log(
        self, level: LogLevel, message: Any, *, logger_name: str | None = None
    ) -> None:
        """Sends notifications/message at `level` (filtered by the client's logging/setLevel)."""
        self._reply.log(level, message, logger_name)

    async def debug(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("debug", message, logger_name=logger_name)

    async def info(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("info", message, logger_name=logger_name)

    async def warning(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("warning", message, logger_name=logger_name)

    async def error(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("error", message, logger_name=logger_name)

    async def read_resource(self, uri: str) -> Any:
        """Reads one of this server's resources: the value its function returns."""
        if self._server is None:
            raise RuntimeError("Context.read_resource: no server")
        return await self._server._read_resource_value(uri)
