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
    with the CA the client verifies against."""
    from websockets.sync.client import connect as ws_connect

    options.setdefault("max_size", 16 * 1024 * 1024)
    options.setdefault("open_timeout", TIMEOUT)
    options.setdefault("close_timeout", TIMEOUT)
    for key, value in tls_options(client).items():
        options.setdefault(key, value)
    return ws_connect(ws_url(client, path), proxy=None, **options)


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
