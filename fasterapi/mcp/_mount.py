"""An MCP server's Streamable HTTP endpoint on an App's routes: the App's engine carries the
request, the C++ MCP transport (the same one `run(transport="http")` uses) decides the answer,
and this module turns that answer into a Response or a StreamingResponse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fasterapi.responses import Response, StreamingResponse


def _headers(lines: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines.split("\r\n"):
        if line:
            name, _, value = line.partition(":")
            out[name.strip()] = value.strip()
    return out


class _Sink:
    """Receives one exchange's answer from the native transport."""

    def __init__(self) -> None:
        self.head: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()

    def send(self, status: int, content_type: str, headers: str, body: bytes) -> None:
        if not self.head.done():
            self.head.set_result(
                Response(body, status, _headers(headers), media_type=content_type or None)
            )

    def start(self, status: int, content_type: str, headers: str) -> None:
        if not self.head.done():
            stream = StreamingResponse(
                self._stream(), status, _headers(headers), media_type=content_type
            )
            self.head.set_result(stream)

    def write(self, chunk: bytes) -> None:
        self.chunks.put_nowait(chunk)

    def end(self) -> None:
        self.chunks.put_nowait(None)

    async def _stream(self) -> AsyncIterator[bytes]:
        while (chunk := await self.chunks.get()) is not None:
            yield chunk


def make_endpoint(native: Any) -> Callable[[Any, Any], Coroutine[Any, Any, Response]]:
    async def mcp_endpoint(req: Any, res: Any) -> Response:
        sink = _Sink()
        native.exchange(req.method, req.header_list, req.body, sink)
        return await sink.head

    return mcp_endpoint


def make_metadata_endpoint(document: str) -> Callable[[Any, Any], Coroutine[Any, Any, Response]]:
    """GET of the Protected Resource Metadata (RFC 9728 §3) for an MCPServer with auth."""

    async def metadata(req: Any, res: Any) -> Response:
        headers = {"Cache-Control": "max-age=3600"}
        return Response(document, 200, headers, media_type="application/json")

    return metadata
