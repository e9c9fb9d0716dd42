"""Clients that leave: mid-stream (the app's generator is closed, the server keeps serving,
no error is logged) and before the answer (a waiting `receive()` gets http.disconnect)."""

from __future__ import annotations

import logging
import socket
import struct
import time
from typing import Any

import asgi_fastapi_app as fastapi_app
import pytest
from conftest import transport_specific

from fasterapi.asgi import serve_app
from fasterapi.testing import TestClient

pytestmark = [
    pytest.mark.timeout(60),
    transport_specific(
        "raw TCP sockets (RST via SO_LINGER) speaking HTTP/1.1 to the port",
        only=("tls",),
    ),
]


def _rst(s: socket.socket) -> None:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_client_gone_mid_stream(caplog: pytest.LogCaptureFixture) -> None:
    fastapi_app.stream_closed.clear()
    with caplog.at_level(logging.ERROR), TestClient(serve_app(fastapi_app.app)) as c:
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
                s.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
                got = 0
                while got < 2 << 20:  # read some of an endless body, then vanish
                    got += len(s.recv(1 << 16))
                _rst(s)
        deadline = time.monotonic() + 10
        while fastapi_app.stream_closed.count("endless") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get("/items/1").json() == {"item_id": 1, "q": None}
    assert fastapi_app.stream_closed.count("endless") == 5
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_waiting_receive_gets_disconnect() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        seen.append(await receive())
        seen.append(await receive())  # nothing more to read: waits for the client to leave
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"late"})
        except OSError as e:
            seen.append({"type": type(e).__name__})

    with TestClient(serve_app(app)) as c:
        with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            time.sleep(0.2)
            _rst(s)
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == [
            {"type": "http.request", "body": b"abc", "more_body": False},
            {"type": "http.disconnect"},
            {"type": "ClientDisconnected"},
        ]
        assert c.get("/").status_code == 204  # still serving
