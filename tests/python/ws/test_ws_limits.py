"""WebSocket limits from uvicorn's flags: `fasterapi run ... --ws-max-size --ws-ping-interval
--ws-ping-timeout --ws-per-message-deflate` (and the same names in Config / app.run)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import free_port, require_module, start_server
from ws_helpers import raw_connect

require_module("websockets")


def test_cli_ws_flags(serve_cmd: list[subprocess.Popen[bytes]]) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    port = free_port()
    start_server(
        ["run", "ws_echo:app", "--app-dir", "examples", "--port", str(port),
         "--ws-max-size", "1000", "--ws-per-message-deflate", "false",
         "--ws-ping-interval", "0", "--ws-ping-timeout", "5"],
        serve_cmd, port,
    )  # fmt: skip
    url = f"ws://127.0.0.1:{port}/ws"
    with connect(url, proxy=None, ping_interval=None) as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers  # deflate off
        ws.send("a" * 1000)
        assert ws.recv() == "a" * 1000
        ws.send("b" * 1001)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_cli_ws_ping_interval(serve_cmd: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    start_server(
        ["run", "ws_echo:app", "--app-dir", "examples", "--port", str(port),
         "--ws-ping-interval", "0.5"],
        serve_cmd, port,
    )  # fmt: skip
    # A silent client gets a ping (RFC 6455 §5.5.2) within the sweep's second of 0.5 s.
    sock = raw_connect(port, "/ws")
    sock.settimeout(5)
    try:
        head = sock.recv(2)
    finally:
        sock.close()
    assert head[0] == 0x89, head  # FIN + ping


def deflated_echo_size(port: int, message: bytes) -> int:
    """Offers permessage-deflate on a raw socket, sends `message` uncompressed (RSV1 clear is
    allowed, RFC 7692 §6) and returns the payload size of the compressed echo."""
    import base64
    import os
    import socket
    import struct

    from ws_helpers import raw_frame

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ).encode()
            + raw_frame(0x1, message)
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, data = data.partition(b"\r\n\r\n")
        assert b"permessage-deflate" in head, head
        while len(data) < 4:
            data += sock.recv(65536)
        assert data[0] == 0xC1, data[:2]  # FIN + RSV1 (compressed) + text
        n = data[1] & 0x7F
        return n if n < 126 else struct.unpack("!H", data[2:4])[0] if n == 126 else -1
    finally:
        sock.close()


def test_cli_ws_deflate_level(serve_cmd: list[subprocess.Popen[bytes]]) -> None:
    """--ws-deflate-level 0 stores (the echo is larger than the message), 9 compresses."""
    message = b"".join(b'{"id":%d,"name":"item"},' % i for i in range(300))
    sizes = {}
    for level in ("0", "9"):
        port = free_port()
        start_server(
            ["run", "ws_echo:app", "--app-dir", "examples", "--port", str(port),
             "--ws-deflate-level", level],
            serve_cmd, port,
        )  # fmt: skip
        sizes[level] = deflated_echo_size(port, message)
    assert sizes["0"] > len(message) > 4 * sizes["9"], sizes


def test_deflate_level_out_of_range_fails_fast() -> None:
    from fasterapi import _native

    server = _native.Server(host="127.0.0.1", port=0)
    with pytest.raises(ValueError, match="0 to 9"):
        server.add_websocket("/ws", lambda conn: None, deflate_level=10)
