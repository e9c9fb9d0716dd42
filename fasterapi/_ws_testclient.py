"""TestClient.websocket_connect: Starlette's WebSocketTestSession API over a real WebSocket
(the `websockets` package's sync client) to the app the TestClient serves."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fasterapi.websockets import WebSocketDisconnect

_NORMAL = 1000


def _client() -> Any:
    try:
        from websockets.sync import client
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise ImportError(
            "TestClient.websocket_connect needs the `websockets` package: "
            "pip install 'websockets>=13' (it is in fasterapi's [test] extra)"
        ) from e
    return client


class WebSocketTestSession:
    """`with client.websocket_connect("/ws") as ws:` — the handshake happens on enter; a
    refused handshake (403, 404 ...) raises WebSocketDisconnect there. receive_* raise
    WebSocketDisconnect(code, reason) once the server has closed."""

    __test__ = False

    def __init__(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_size: int | None = 16 * 1024 * 1024,
        timeout: float = 30.0,
        ssl: Any = None,  # an ssl.SSLContext for wss://
    ) -> None:
        self.url = url
        self._ssl = ssl
        self._subprotocols = list(subprotocols or [])
        self._headers = dict(headers or {})
        self._max_size = max_size
        self._timeout = timeout
        self._ws: Any = None
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self.status_code: int | None = None  # the HTTP status of a refused handshake

    def __enter__(self) -> WebSocketTestSession:
        client = _client()
        from websockets.exceptions import InvalidStatus

        try:
            self._ws = client.connect(
                self.url,
                subprotocols=self._subprotocols or None,  # type: ignore[arg-type]
                additional_headers=self._headers or None,
                max_size=self._max_size,
                open_timeout=self._timeout,
                proxy=None,
                **({"ssl": self._ssl} if self._ssl is not None else {}),
            ).__enter__()  # a context manager since websockets 17.1
        except InvalidStatus as e:
            # Over a real socket a refusal is an HTTP answer; FastAPI's TestClient raises
            # WebSocketDisconnect for a close before accept, so the same exception, with the
            # status in the reason and in .status_code.
            self.status_code = e.response.status_code
            disconnect = WebSocketDisconnect(_NORMAL, f"HTTP {e.response.status_code}")
            disconnect.status_code = e.response.status_code  # type: ignore[attr-defined]
            raise disconnect from e
        self.accepted_subprotocol = self._ws.subprotocol
        self.extra_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self._ws.response.headers.raw_items()
        ]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(_NORMAL)

    # -- sending -------------------------------------------------------------------------
    def send(self, message: Mapping[str, Any]) -> None:
        """ASGI-style: {"type": "websocket.receive", "text" or "bytes": ...} or
        {"type": "websocket.disconnect", "code": ...}."""
        if message.get("type") == "websocket.disconnect":
            self.close(message.get("code", _NORMAL), message.get("reason"))
        elif message.get("text") is not None:
            self.send_text(message["text"])
        else:
            self.send_bytes(message["bytes"])

    def send_text(self, data: str) -> None:
        self._ws.send(data)

    def send_bytes(self, data: bytes) -> None:
        self._ws.send(bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        self._ws.send(text if mode == "text" else text.encode())

    # -- receiving -----------------------------------------------------------------------
    def receive(self) -> dict[str, Any]:
        """{"type": "websocket.send", "text" | "bytes": ...}, or {"type": "websocket.close",
        "code", "reason"} once the server has closed."""
        from websockets.exceptions import ConnectionClosed

        try:
            data = self._ws.recv(timeout=self._timeout)
        except ConnectionClosed as e:
            close = e.rcvd
            code = close.code if close is not None else 1006
            reason = close.reason if close is not None else ""
            return {"type": "websocket.close", "code": code, "reason": reason}
        if isinstance(data, str):
            return {"type": "websocket.send", "text": data}
        return {"type": "websocket.send", "bytes": data}

    def _data(self, key: str) -> Any:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message["code"], message["reason"])
        if key not in message:
            other = "bytes" if key == "text" else "text"
            raise TypeError(f"expected a {key} message, got {other}")
        return message[key]

    def receive_text(self) -> str:
        return self._data("text")  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        return self._data("bytes")  # type: ignore[no-any-return]

    def receive_json(self, mode: str = "text") -> Any:
        return json.loads(self._data("text" if mode == "text" else "bytes"))

    def close(self, code: int = _NORMAL, reason: str | None = None) -> None:
        """Send a close frame and wait for the server's (or the close timeout)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close(code, reason or "")
            ws.__exit__(None, None, None)
