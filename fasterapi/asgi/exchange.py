"""One HTTP request served to an ASGI app: `receive` and `send` (ASGI HTTP spec 2.3,
"Request - receive event" .. "Disconnected Client - send exception").

A body up to 64 KiB is read whole before the app runs, so the first `receive` returns at
once; a larger or chunked one arrives chunk by chunk (`more_body`), each `receive` waiting
for the next and the connection pausing between them (fasterapi/_body_stream.py). `send`
calls that only buffer return at once: an app that never waits on the network finishes in
its first step. A response sent in one `http.response.body` goes out as one engine response;
one sent with `more_body` is streamed through the engine's chunked writer, and `send` then
waits until the writer took the chunk (backpressure)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fasterapi._body_stream import next_chunk

# Framing is the engine's: it writes Content-Length or chunked itself (RFC 9112 §6.1:
# a sender must not send both), so the app's own framing headers are dropped.
_FRAMING = (b"content-length", b"transfer-encoding", b"connection")


class ClientDisconnected(OSError):
    """Raised by `send` once the client is gone (spec: "send ... should raise a
    server-specific subclass of OSError")."""


class AppFailedMidStream(RuntimeError):
    """The app raised after its response started: the connection is aborted."""


class Exchange:
    """receive/send of one request plus what the endpoint answers with."""

    __slots__ = (
        "_body_sent",
        "_disconnect",
        "body",
        "chunks",
        "complete",
        "error",
        "failed",
        "gone",
        "head",
        "headers",
        "req",
        "status",
        "streaming",
        "taken",
    )

    def __init__(self, req: Any) -> None:
        self.req = req
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.head: asyncio.Future[None] | None = None  # set when the endpoint can answer
        self.chunks: asyncio.Queue[bytes | None] | None = None
        self.taken: asyncio.Future[None] | None = None
        self.complete = False  # the app sent its last body chunk
        self.gone = False  # the client left or the response ended
        self.streaming = False
        self.failed = False
        self.error: BaseException | None = None  # what the app raised after suspending
        self._body_sent = False
        self._disconnect: asyncio.Future[None] | None = None

    # -- receive -------------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if not self._body_sent:
            if self.req.body_streamed:
                # A large or chunked body, read as it arrives (fasterapi/_body_stream.py):
                # one message per chunk with more_body, the last one empty (spec 2.3).
                data, _status = await next_chunk(self.req)
                if data:
                    return {"type": "http.request", "body": data, "more_body": True}
                self._body_sent = True
                if data is not None:
                    return {"type": "http.request", "body": b"", "more_body": False}
                self.gone = True  # the client left mid-body: http.disconnect below
                return {"type": "http.disconnect"}
            self._body_sent = True
            return {"type": "http.request", "body": self.req.body, "more_body": False}
        # Nothing more to read: wait for the end of the exchange (the spec's disconnect).
        if not self.gone:
            if self._disconnect is None:
                fut = self._disconnect = asyncio.get_running_loop().create_future()
                self.req.add_done_callback(lambda: self._left(fut))
            await self._disconnect
        return {"type": "http.disconnect"}

    def _left(self, fut: asyncio.Future[None]) -> None:
        if not self.complete:
            self.gone = True
        if not fut.done():
            fut.set_result(None)

    # -- send ----------------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.gone:
            raise ClientDisconnected("the client disconnected")
        if kind == "http.response.start":
            if self.status:
                raise RuntimeError("ASGI: http.response.start sent twice")
            self.status = int(message["status"])
            headers = self.headers
            for k, v in message.get("headers", ()):
                name = k.lower() if type(k) is bytes else bytes(k).lower()
                if name not in _FRAMING:
                    headers.append((name, v if type(v) is bytes else bytes(v)))
            return
        if kind == "http.response.push":
            # ASGI "HTTP/2 Server Push" extension (offered on h2 streams only): the promised
            # request is GET path with the engine's copy of the request's negotiation fields;
            # the message's own headers are not used. Ignored when push cannot go, as the
            # extension allows.
            if not self.complete:
                self.req.push_promise(str(message["path"]))
            return
        if kind != "http.response.body":
            if kind.startswith("http.response."):  # trailers, pathsend...: not offered
                raise RuntimeError(f"ASGI: unsupported message {kind!r}")
            raise RuntimeError(f"ASGI: unexpected message {kind!r} on an HTTP connection")
        if not self.status:
            raise RuntimeError("ASGI: http.response.body before http.response.start")
        if self.complete:
            raise RuntimeError("ASGI: http.response.body after the last body message")
        chunk = message.get("body", b"")
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        more = bool(message.get("more_body", False))
        if not self.streaming:
            if chunk:
                self.body.append(chunk)
            if not more:
                self.complete = True
                self._wake()
                return
            if not self.body:  # an empty first chunk: stay buffered until data arrives
                return
            self.streaming = True
            self.chunks = asyncio.Queue()
            for part in self.body:
                self.chunks.put_nowait(part)
            self.body = []
            self._wake()
        elif chunk:
            assert self.chunks is not None
            self.chunks.put_nowait(chunk)
        if not more:
            self.complete = True
            assert self.chunks is not None
            self.chunks.put_nowait(None)
            return
        # Backpressure: wait until the writer took everything queued so far.
        assert self.chunks is not None
        while not self.chunks.empty() and not self.gone:
            self.taken = asyncio.get_running_loop().create_future()
            await self.taken
        if self.gone:
            raise ClientDisconnected("the client disconnected")

    def _wake(self) -> None:
        if self.head is not None and not self.head.done():
            self.head.set_result(None)

    # -- the streamed body, read by the engine's writer ------------------------------------
    async def stream(self) -> AsyncIterator[bytes]:
        assert self.chunks is not None
        try:
            while True:
                if self.chunks.empty():
                    self._took()
                chunk = await self.chunks.get()
                if chunk is None:
                    if self.failed and not self.gone:  # abort: a clean end claims a whole body
                        raise AppFailedMidStream("the ASGI app raised while streaming")
                    return
                yield chunk
        finally:  # the writer closes us when it is done or the client went away
            if not self.complete:
                self.gone = True
            self._took()

    def _took(self) -> None:
        if self.taken is not None and not self.taken.done():
            self.taken.set_result(None)

    def fail(self) -> None:
        """The app raised: wake a waiting endpoint and end any stream."""
        self.failed = True
        if self.streaming and not self.complete:
            self.complete = True
            assert self.chunks is not None
            self.chunks.put_nowait(None)
        self._wake()
