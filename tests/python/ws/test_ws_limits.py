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
