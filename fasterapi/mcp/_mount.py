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


#: How often (seconds) a pending mounted exchange asks the App's engine whether its client left,
#: where the engine cannot tell it (HTTP/2): the own listener's sweep ticks once a second too.
HANG_UP_POLL = 0.5


class _Sink:
    """Receives one exchange's answer from the native transport. The native exchange() gives
    it hang_up(): called once the App's engine reports the client gone, it cancels the pending
    call as a hang-up on our own listener does. HTTP/1.1: the engine calls back when the
    client closes its side (`req.add_hangup_callback`); HTTP/2: `req.client_gone` is polled
    while the answer is pending or the stream idle."""

    hang_up: Callable[[], None]

    def __init__(self, req: Any = None) -> None:
        self.req = req
        loop = asyncio.get_running_loop()
        self.head: asyncio.Future[Response] = loop.create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.ended = False
        # Set when the engine tells of the hang-up; None where it cannot (polling then).
        self.left: asyncio.Event | None = None
        if req is not None:
            left = asyncio.Event()
            if req.add_hangup_callback(left.set):
                self.left = left

    def send(self, status: int, content_type: str, headers: str, body: bytes) -> None:
        self.ended = True
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
        self.ended = True
        self.chunks.put_nowait(None)

    def _gone(self) -> bool:
        return self.req is not None and bool(self.req.client_gone)

    async def _until(self, waiter: asyncio.Future[Any]) -> bool:
        """Waits for `waiter`; False (waiter still pending) as soon as the client has left."""
        if self.left is not None:
            if not waiter.done():
                gone = asyncio.ensure_future(self.left.wait())
                try:
                    await asyncio.wait((waiter, gone), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    gone.cancel()
            return waiter.done()
        while not waiter.done():
            await asyncio.wait((waiter,), timeout=HANG_UP_POLL)
            if not waiter.done() and self._gone():
                return False
        return True

    async def answer(self) -> Response:
        """The exchange's Response, once the transport decided it. While it is pending the
        client is watched: if it leaves, the call is cancelled and an empty 499 goes nowhere."""
        if not await self._until(self.head):
            self.hang_up()
            return Response(b"", 499)
        return self.head.result()

    async def _stream(self) -> AsyncIterator[bytes]:
        try:
            while True:
                if self.chunks.empty() and self.req is not None:
                    waiter = asyncio.ensure_future(self.chunks.get())
                    if not await self._until(waiter):
                        waiter.cancel()
                        return
                    chunk = waiter.result()
                else:
                    chunk = await self.chunks.get()
                if chunk is None:
                    return
                yield chunk
        finally:
            # Left before the end (the client gone, or the engine stopped reading us): the
            # stream's call is cancelled, a GET stream closed for the session.
            if not self.ended:
                self.hang_up()


def make_endpoint(native: Any) -> Callable[[Any, Any], Coroutine[Any, Any, Response]]:
    async def mcp_endpoint(req: Any, res: Any) -> Response:
        sink = _Sink(req)
        native.exchange(req.method, req.header_list, req.body, sink)
        return await sink.answer()

    return mcp_endpoint


def make_metadata_endpoint(document: str) -> Callable[[Any, Any], Coroutine[Any, Any, Response]]:
    """GET of the Protected Resource Metadata (RFC 9728 §3) for an MCPServer with auth."""

    async def metadata(req: Any, res: Any) -> Response:
        headers = {"Cache-Control": "max-age=3600"}
        return Response(document, 200, headers, media_type="application/json")

    return metadata
