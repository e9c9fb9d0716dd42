"""WebSocket: FastAPI's (Starlette's) WebSocket API on the engine's C++ WebSocket.

The C++ side (src/ws/, bindings/ws/) does the handshake, framing, masking, UTF-8 checks,
permessage-deflate, ping/pong and the close handshake. Whole messages arrive here already
decoded (str for text, bytes for binary) into a per-socket queue that `receive_*` awaits;
`send_*` is one C++ call that queues the frame and returns at once, and waits only when the
socket's output is over its high-water mark (backpressure: a peer that does not read slows
its sender instead of growing memory). In the other direction, an endpoint that lags behind
its peer pauses the engine's reads of the socket (READ_HIGH_WATER)."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from fasterapi import _native
from fasterapi._jsonio import json_dumps, json_loads
from fasterapi.datastructures import URL, Address, Headers, QueryParams, parse_cookies
from fasterapi.exceptions import RequestValidationError
from fasterapi.requests import cached

__all__ = [
    "Broadcast",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
    "WebSocketState",
    "broadcast",
]


class WebSocketState(enum.Enum):
    """Starlette's states, for `websocket.client_state` and `websocket.application_state`."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    """The peer closed the socket (or it dropped: code 1006). Raised by `receive_*` and by
    `send_*` on a socket that is gone."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class WebSocketException(Exception):
    """Raise it in a WebSocket endpoint or dependency to close with `code` and `reason`
    (before `accept()`: the handshake is refused with 403)."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class WebSocketRequestValidationError(RequestValidationError):
    """The handshake's path/query/header/cookie parameters failed validation: the
    handshake is refused (403), as FastAPI closes with 1008 before accept."""


class _Closed:
    """The peer's close, queued after the messages that came before it."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code, self.reason = code, reason


# Flow control toward the peer, as uvicorn + websockets do with max_queue: once the messages
# the endpoint has not read yet add up to READ_HIGH_WATER bytes, the engine stops reading the
# socket (the kernel's buffer fills and TCP flow control slows the client down); it reads again
# when the endpoint has drained them below READ_LOW_WATER. Each message counts
# _MESSAGE_OVERHEAD bytes beyond its length (its Python object and queue slot), so a flood of
# tiny messages is bounded too. Nothing is dropped and no close is sent.
READ_HIGH_WATER = 1024 * 1024
READ_LOW_WATER = 256 * 1024
_MESSAGE_OVERHEAD = 64
_log = logging.getLogger("fasterapi.error")

_NOT_ACCEPTED = 'WebSocket is not connected. Need to call "accept" first.'
_SENT_CLOSE = 'Cannot call "send" once a close message has been sent.'
_GOT_CLOSE = 'Cannot call "receive" once a disconnect message has been received.'


_CONNECTED = WebSocketState.CONNECTED
# Empty messages go out as pre-encoded uncompressed frames: there is nothing to compress, and
# RFC 7692 §6 lets any message be sent uncompressed. (It also sidesteps src/ws/deflater.cpp
# sending an empty RSV1 payload, which §7.2.3.6 says must be the single byte 0x00.)
_EMPTY_TEXT = _native.websocket_encode_frame("")
_EMPTY_BINARY = _native.websocket_encode_frame(b"")


class WebSocket:
    """One WebSocket connection, handed to `@app.websocket` endpoints as `websocket:
    WebSocket`. Created by the engine's upgrade hook (fasterapi._ws_endpoint)."""

    app: Any = None  # the App serving it (set on a per-app subclass)

    def __init__(self, conn: Any) -> None:
        self._conn = conn  # _native.WebSocketConnection
        self._queue: deque[str | bytes | _Closed] = deque()
        self._unread = 0  # bytes of messages in _queue (+ _MESSAGE_OVERHEAD each)
        # Reading pauses above _pause_above and resumes below _resume_below; each is set to a
        # value it can never cross while in the other state, so the hot path has one compare.
        self._pause_above = READ_HIGH_WATER
        self._resume_below = -1
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._closed: _Closed | None = None  # the peer's close, once it arrived
        self._done: list[Callable[[], Any]] = []
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # set by accept
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    # -- what the handshake request carried (same names as Request) ----------------------
    @property
    def path(self) -> str:
        return self._conn.path  # type: ignore[no-any-return]

    @property
    def path_params(self) -> dict[str, Any]:
        return self._conn.path_params  # type: ignore[no-any-return]

    @property
    def raw_path(self) -> bytes:
        return self._conn.raw_path  # type: ignore[no-any-return]

    @property
    def query_string(self) -> bytes:
        return self._conn.query_string  # type: ignore[no-any-return]

    @cached
    def query_params(self) -> QueryParams:
        return QueryParams(self._conn.query_string)

    @cached
    def headers(self) -> Headers:
        return Headers(self._conn.header_list)

    @cached
    def cookies(self) -> dict[str, str]:
        return parse_cookies(self.headers.getlist("cookie"))

    @cached
    def client(self) -> Address:
        return Address(self._conn.client)

    @cached
    def url(self) -> URL:
        host = self.headers.get("host") or "{}:{}".format(*self.client)
        scheme = "wss" if self._conn.secure else "ws"
        path, query = self.raw_path.decode("latin-1"), self.query_string.decode("latin-1")
        return URL(scheme, host, path, query)

    @cached
    def state(self) -> SimpleNamespace:
        """Per-connection scratch space for dependencies (`websocket.state.user = u`)."""
        return SimpleNamespace()

    @property
    def subprotocols(self) -> list[str]:
        """What the client offered in Sec-WebSocket-Protocol, in its order."""
        return self._conn.subprotocols  # type: ignore[no-any-return]

    @property
    def scope(self) -> dict[str, Any]:
        """An ASGI-like scope, for code that reads `websocket.scope[...]`."""
        return {
            "type": "websocket",
            "scheme": "wss" if self._conn.secure else "ws",
            "path": self.path,
            "raw_path": self.raw_path,
            "query_string": self.query_string,
            "headers": [(k.encode(), v.encode("latin-1")) for k, v in self._conn.header_list],
            "client": tuple(self.client),
            "path_params": self.path_params,
            "subprotocols": self.subprotocols,
            "app": self.app,
            "state": self.state,
        }

    # -- the handshake --------------------------------------------------------------------
    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes | str, bytes | str]] | None = None,
    ) -> None:
        """Answer the handshake with 101 (choosing `subprotocol`, adding `headers`).
        RuntimeError if already accepted or closed."""
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError('Cannot call "accept" twice, or after "close".')
        accepted = self._conn.accept(
            subprotocol,
            list(headers) if headers is not None else None,
            self._on_message,
            self._on_close,
            self._on_drain,
        )
        self._loop = asyncio.get_running_loop()
        self.client_state = WebSocketState.CONNECTED
        self.application_state = WebSocketState.CONNECTED
        if not accepted:  # the client left while the handshake waited
            self._peer_closed(_Closed(1006, ""))
            raise WebSocketDisconnect(1006)

    # -- engine callbacks (on the loop thread, inside Server.poll) -------------------------
    def _on_message(self, data: str | bytes) -> None:
        self._queue.append(data)
        self._unread += len(data) + _MESSAGE_OVERHEAD
        if self._unread > self._pause_above:
            self._pause()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _pause(self) -> None:
        """The endpoint lags READ_HIGH_WATER behind: stop reading the peer."""
        self._conn.pause_reading()
        self._pause_above = 1 << 62
        self._resume_below = READ_LOW_WATER

    def _resume(self) -> None:
        """The endpoint caught up below READ_LOW_WATER: read the peer again."""
        self._pause_above = READ_HIGH_WATER
        self._resume_below = -1
        self._conn.resume_reading()

    def _on_close(self, code: int, reason: str) -> None:
        self._queue.append(_Closed(code, reason))
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._on_drain()  # a sender waiting for drain must not wait forever

    def _on_drain(self) -> None:
        drain = self._drain
        if drain is not None:
            self._drain = None
            if not drain.done():
                drain.set_result(None)

    # -- receiving ---------------------------------------------------------------------------
    # The hot path: a message that already arrived is returned without suspending; otherwise
    # one future is awaited, set by _on_message. No helper coroutines in between (each level
    # costs a frame per message).
    async def receive(self) -> dict[str, Any]:
        """The next event as an ASGI message: websocket.connect (before accept),
        websocket.receive with "text" or "bytes", websocket.disconnect with "code" and
        "reason"."""
        if self.client_state is not _CONNECTED:
            if self.client_state is WebSocketState.CONNECTING:
                self.client_state = _CONNECTED
                return {"type": "websocket.connect"}
            raise RuntimeError(_GOT_CLOSE)
        if self._loop is None:  # never accepted
            raise RuntimeError(_NOT_ACCEPTED)
        queue = self._queue
        while not queue:
            waiter = self._waiter
            if waiter is None or waiter.done():  # concurrent receivers share one future
                waiter = self._waiter = self._loop.create_future()
            await waiter
        item = queue.popleft()
        kind = type(item)
        if kind is str or kind is bytes:
            self._unread -= len(item) + _MESSAGE_OVERHEAD  # type: ignore[arg-type]
            if self._unread < self._resume_below:
                self._resume()
            if kind is str:
                return {"type": "websocket.receive", "text": item}
            return {"type": "websocket.receive", "bytes": item}
        assert isinstance(item, _Closed)
        self._peer_closed(item)
        return {"type": "websocket.disconnect", "code": item.code, "reason": item.reason}

    def _peer_closed(self, item: _Closed) -> None:
        self._closed = item
        self.client_state = WebSocketState.DISCONNECTED
        # The engine answered the peer's close (RFC 6455 §5.5.1): nothing more may be sent.
        self.application_state = WebSocketState.DISCONNECTED

    def _not_receiving(self) -> None:
        """receive_* while not connected: WebSocketDisconnect after the peer's close, else
        RuntimeError (not accepted yet, or closed by the application)."""
        if self._closed is not None:
            raise WebSocketDisconnect(self._closed.code, self._closed.reason)
        raise RuntimeError(_NOT_ACCEPTED)

    def _unexpected(self, item: bytes | str | _Closed, want: type) -> Any:
        """receive_text got bytes (or the reverse), or the peer's close: raise."""
        if isinstance(item, _Closed):
            self._peer_closed(item)
            raise WebSocketDisconnect(item.code, item.reason)
        self._unread -= len(item) + _MESSAGE_OVERHEAD
        if self._unread < self._resume_below:
            self._resume()
        got = "a text" if type(item) is str else "a binary"
        raise TypeError(
            f"expected a {'text' if want is str else 'binary'} message, got {got} message; "
            "use receive() to accept both"
        )

    async def receive_text(self) -> str:
        """The next text message; WebSocketDisconnect when the peer has closed."""
        if self.application_state is not _CONNECTED:
            self._not_receiving()
        queue = self._queue
        while not queue:
            waiter = self._waiter
            if waiter is None or waiter.done():  # concurrent receivers share one future
                waiter = self._waiter = self._loop.create_future()
            await waiter
        item = queue.popleft()
        if type(item) is str:
            self._unread -= len(item) + _MESSAGE_OVERHEAD
            if self._unread < self._resume_below:
                self._resume()
            return item
        return self._unexpected(item, str)  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        """The next binary message; WebSocketDisconnect when the peer has closed."""
        if self.application_state is not _CONNECTED:
            self._not_receiving()
        queue = self._queue
        while not queue:
            waiter = self._waiter
            if waiter is None or waiter.done():  # concurrent receivers share one future
                waiter = self._waiter = self._loop.create_future()
            await waiter
        item = queue.popleft()
        if type(item) is bytes:
            self._unread -= len(item) + _MESSAGE_OVERHEAD
            if self._unread < self._resume_below:
                self._resume()
            return item
        return self._unexpected(item, bytes)  # type: ignore[no-any-return]

    async def receive_json(self, mode: str = "text") -> Any:
        """The next message parsed as JSON (mode "text": a text message; "binary": a binary
        one). WebSocketDisconnect when the peer has closed; ValueError for bad JSON."""
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        data = await (self.receive_text() if mode == "text" else self.receive_bytes())
        return json_loads(data)

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the peer closes."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the peer closes."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """Text messages parsed as JSON until the peer closes."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    # -- sending -----------------------------------------------------------------------------
    def _not_sending(self) -> None:
        """send_* while not connected: WebSocketDisconnect after the peer's close, else
        RuntimeError (not accepted yet, or already closed by the application)."""
        if self._closed is not None:
            raise WebSocketDisconnect(self._closed.code, self._closed.reason)
        raise RuntimeError(
            _NOT_ACCEPTED if self.application_state is WebSocketState.CONNECTING else _SENT_CLOSE
        )

    def _peek_close(self) -> _Closed:
        for item in self._queue:
            if isinstance(item, _Closed):
                return item
        return _Closed(1006, "")

    async def _blocked(self) -> None:
        """A send returned False: the socket is gone (WebSocketDisconnect), or the frame was
        queued past the high-water mark: wait until output drains, so a slow reader slows
        this sender down."""
        if not self._conn.open:  # closed or dropped; its close may not be read yet
            closed = self._closed or self._peek_close()
            raise WebSocketDisconnect(closed.code, closed.reason)
        drain = self._drain
        if drain is None:  # several senders may wait on one socket: they share the future
            drain = self._drain = self._loop.create_future()
        await drain

    async def _wait_drain(self) -> None:
        if self._conn.open:
            await self._blocked()

    async def send_text(self, data: str) -> None:
        """Send a text message. WebSocketDisconnect if the peer is gone."""
        if self.application_state is not _CONNECTED:
            self._not_sending()
        if type(data) is not str:
            raise TypeError(f"send_text takes a str, not {type(data).__name__}; use send_bytes")
        ok = self._conn.send_text(data) if data else self._conn.send_frame(_EMPTY_TEXT)
        if not ok:
            await self._blocked()

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message. WebSocketDisconnect if the peer is gone."""
        if self.application_state is not _CONNECTED:
            self._not_sending()
        ok = self._conn.send_bytes(data) if len(data) else self._conn.send_frame(_EMPTY_BINARY)
        if not ok:
            await self._blocked()

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send `data` as JSON (compact, UTF-8) in a text ("text") or binary ("binary") message."""
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        body = json_dumps(data)  # UTF-8, compact
        if self.application_state is not _CONNECTED:
            self._not_sending()
        ok = self._conn.send_text(body) if mode == "text" else self._conn.send_bytes(body)
        if not ok:
            await self._blocked()

    async def send(self, message: Mapping[str, Any]) -> None:
        """ASGI-style send: websocket.accept, websocket.send ("text" or "bytes"),
        websocket.close ("code", "reason")."""
        kind = message.get("type")
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"), message.get("headers"))
        elif kind == "websocket.send":
            if message.get("text") is not None:
                await self.send_text(message["text"])
            elif message.get("bytes") is not None:
                await self.send_bytes(message["bytes"])
            else:
                raise RuntimeError('websocket.send needs "text" or "bytes"')
        elif kind == "websocket.close":
            await self.close(message.get("code", 1000), message.get("reason"))
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r}")

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with `code` and `reason` (RFC 6455 §7.4). Before accept(): refuse the
        handshake with 403. RuntimeError if already closed by the application."""
        if self.application_state is WebSocketState.DISCONNECTED:
            if self._closed is not None:
                return  # the peer closed first; the engine already answered its close
            raise RuntimeError(_SENT_CLOSE)
        if self.application_state is WebSocketState.CONNECTING:
            self._conn.reject(403)
        else:
            self._conn.close(code, reason or "")
        self.application_state = WebSocketState.DISCONNECTED

    # -- connection end --------------------------------------------------------------------
    def add_done_callback(self, fn: Callable[[], Any]) -> None:
        """Call fn() when the endpoint has finished with this socket."""
        self._done.append(fn)

    def _run_done_callbacks(self) -> None:
        done, self._done = self._done, []
        for fn in done:
            fn()

    def __repr__(self) -> str:
        return f"<WebSocket {self.path} {self.application_state.name}>"


class Broadcast:
    """One message encoded once into one uncompressed frame (valid on every connection, with
    or without permessage-deflate) and queued to many sockets:
    `await Broadcast("hello").send(sockets)`."""

    __slots__ = ("_frame",)

    def __init__(self, message: str | bytes | bytearray | memoryview) -> None:
        self._frame = _native.websocket_encode_frame(message)

    def send_nowait(self, sockets: Iterable[WebSocket]) -> list[WebSocket]:
        """Queue the frame on every connected socket; returns the ones over their high-water
        mark (their frame is queued; wait for them or skip them next time). Sockets that
        are closed are skipped."""
        slow: list[WebSocket] = []
        frame = self._frame
        for ws in sockets:
            if ws.application_state is not _CONNECTED:
                continue
            conn = ws._conn
            if not conn.send_frame(frame) and conn.open:  # False: closed, or over high water
                slow.append(ws)
        return slow

    async def send(self, sockets: Iterable[WebSocket]) -> int:
        """Queue the frame on every connected socket, then wait for the slow ones to drain.
        Returns how many sockets it was sent to."""
        sockets = list(sockets)
        slow = self.send_nowait(sockets)
        for ws in slow:
            await ws._wait_drain()
        return sum(1 for ws in sockets if ws.application_state is WebSocketState.CONNECTED)


async def broadcast(sockets: Iterable[WebSocket], message: str | bytes) -> int:
    """Send `message` (str: text, bytes: binary) to every connected socket in `sockets`,
    encoded once. Waits for sockets over their high-water mark to drain; closed sockets are
    skipped. Returns how many connected sockets it was queued to."""
    return await Broadcast(message).send(sockets)
