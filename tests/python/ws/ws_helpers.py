"""Helpers for the WebSocket tests: serve an App on a real port (TestClient's server thread)
and connect with the `websockets` package, the field's reference client."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from fasterapi import App
from fasterapi.testing import TestClient

TIMEOUT = 30.0  # seconds any single client operation may take before the test fails


@contextlib.contextmanager
def serve(app: App) -> Iterator[TestClient]:
    """The app served on 127.0.0.1:<port>; `client.port` is the port."""
    with TestClient(app) as client:
        yield client


def ws_url(client: TestClient, path: str) -> str:
    """ws:// URL of `path`, or wss:// when the client serves over TLS (the suite's TLS run)."""
    scheme = "wss" if client._scheme == "https" else "ws"
    return f"{scheme}://127.0.0.1:{client.port}{path}"


def tls_options(client: TestClient) -> dict[str, Any]:
    """`ssl=` for a `websockets` client to a client serving over TLS, else nothing."""
    return {"ssl": client._ssl_context()} if client._scheme == "https" else {}


def connect(client: TestClient, path: str, **options: Any) -> Any:
    """A sync `websockets` client connection (no proxy, 16 MiB messages allowed); over TLS
    with the CA the client verifies against, and the handshake request written before the
    client's reader thread starts (see `request_before_reader`)."""
    from websockets.sync.client import connect as ws_connect

    options.setdefault("max_size", 16 * 1024 * 1024)
    options.setdefault("open_timeout", TIMEOUT)
    options.setdefault("close_timeout", TIMEOUT)
    tls = tls_options(client)
    for key, value in tls.items():
        options.setdefault(key, value)
    if tls:
        options.setdefault("create_connection", request_before_reader())
    return ws_connect(ws_url(client, path), proxy=None, **options)


def request_before_reader() -> type:
    """A `websockets` sync ClientConnection whose reader thread waits until the handshake
    request is written.

    The sync client reads in a thread of its own while the caller writes the request, both
    on one `ssl.SSLSocket`, and an OpenSSL connection is not safe for use from two threads
    at once. Over TLS 1.3 the server's NewSessionTicket messages (RFC 8446 §4.6.1) arrive
    right after the handshake: when the reader processes them while the request is being
    written, the write can end up waiting for input that never comes, and the request never
    leaves (seen here about once in 100 connections: the server's socket had no bytes until
    its 10 s header timeout closed it). Any TLS 1.3 server triggers this, so the tests order
    the two: once the request is out, only the reader touches the socket until the 101."""
    import threading

    from websockets.sync.client import ClientConnection

    class RequestBeforeReader(ClientConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._request_written = threading.Event()
            super().__init__(*args, **kwargs)

        def recv_events(self) -> None:
            self._request_written.wait()
            super().recv_events()

        def send_data(self) -> None:
            try:
                super().send_data()
            finally:
                self._request_written.set()  # written, or failed: the reader may go on

        def close_socket(self) -> None:
            self._request_written.set()  # closed before any write: the reader sees the end
            super().close_socket()

    return RequestBeforeReader


def wait_until(cond: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """Poll `cond` until it is truthy (the server runs in another thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def raw_connect(port: int, path: str) -> Any:
    """A WebSocket opened by hand on a plain socket (for frames a library would not send).
    Returns the socket after the 101 (asserted)."""
    import base64
    import os

    from conftest import raw_socket

    sock = raw_socket(port, TIMEOUT)  # over TLS when `port` is a TestClient serving TLS
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, f"closed during the handshake: {head!r}"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def raw_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One masked client frame (RFC 6455 §5.2)."""
    import os
    import struct

    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
