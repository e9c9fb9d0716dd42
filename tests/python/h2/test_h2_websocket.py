"""WebSocket over HTTP/2 (RFC 8441): the `h2` package opens an extended CONNECT
(:protocol websocket) and speaks RFC 6455 frames in the stream's DATA, against the C++
hello_server's /ws echo and a Python @app.websocket route, over h2c and h2 (TLS, ALPN)."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import free_port
from h2_tools import hello_server_binary, start
from tls_certs import TestPki

pytest_plugins = ["h2_servers"]

ENABLE_CONNECT_PROTOCOL = 0x8  # RFC 8441 §3


class WsOverH2:
    """One HTTP/2 connection (cleartext or TLS) with WebSocket streams on it."""

    def __init__(self, port: int, ca: str | None = None, window: int | None = None) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection
        from h2.events import RemoteSettingsChanged
        from h2.settings import SettingCodes, Settings

        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        if ca is not None:
            ctx = ssl.create_default_context(cafile=ca)
            ctx.set_alpn_protocols(["h2"])
            self.sock: socket.socket = ctx.wrap_socket(raw, server_hostname="localhost")
            assert self.sock.selected_alpn_protocol() == "h2"  # type: ignore[attr-defined]
        else:
            self.sock = raw
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.read_data = True  # acknowledge DATA (reopen the server's window) as it arrives
        if window is not None:  # as the initial value: what initiate_connection() announces
            self.conn.local_settings = Settings(
                client=True, initial_values={SettingCodes.INITIAL_WINDOW_SIZE: window}
            )
        self.conn.initiate_connection()
        self.events: list[Any] = []
        self.data: dict[int, bytearray] = {}
        self.flush()
        self.read_until(lambda: any(isinstance(e, RemoteSettingsChanged) for e in self.events))
        self.settings = {
            int(k): v.new_value
            for e in self.events
            if isinstance(e, RemoteSettingsChanged)
            for k, v in e.changed_settings.items()
        }

    def flush(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def read_until(self, done: Callable[[], bool], timeout: float = 10) -> None:
        from h2.events import DataReceived

        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"events so far: {self.events}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"server closed the connection; events: {self.events}")
            for e in self.conn.receive_data(chunk):
                self.events.append(e)
                if isinstance(e, DataReceived):
                    self.data.setdefault(e.stream_id, bytearray()).extend(e.data)
                    if self.read_data:
                        self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            self.flush()

    def connect(
        self,
        path: str = "/ws",
        protocol: str = "websocket",
        extra: list[tuple[str, str]] | None = None,
    ) -> tuple[int, dict[str, str]]:
        """Extended CONNECT (RFC 8441 §4); returns the stream and the response fields."""
        from h2.events import ResponseReceived

        sid: int = self.conn.get_next_available_stream_id()
        fields = [
            (":method", "CONNECT"),
            (":protocol", protocol),
            (":scheme", "https"),
            (":path", path),
            (":authority", "localhost"),
        ]
        if extra is None:
            extra = [("sec-websocket-version", "13")]
        self.conn.send_headers(sid, fields + extra)
        self.flush()

        def answered() -> bool:
            return any(isinstance(e, ResponseReceived) and e.stream_id == sid for e in self.events)

        self.read_until(answered)
        resp = next(
            e for e in self.events if isinstance(e, ResponseReceived) and e.stream_id == sid
        )
        return sid, {str(k): str(v) for k, v in resp.headers}

    def send_frame(self, sid: int, opcode: int, payload: bytes, rsv1: bool = False) -> None:
        """Sends the frame as DATA within the stream's and the connection's window."""
        data = frame(opcode, payload, rsv1=rsv1)
        while data:
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room == 0:  # wait for WINDOW_UPDATE
                seen = len(self.events)
                self.read_until(lambda: len(self.events) > seen)  # noqa: B023 (used at once)
                continue
            self.conn.send_data(sid, data[:room])
            self.flush()
            data = data[room:]

    def next_frame(self, sid: int) -> tuple[int, bool, bytes]:
        """(opcode, rsv1, payload) of the next server frame on `sid` (unmasked, RFC 6455 §5.1)."""
        parsed: list[tuple[int, bool, bytes]] = []

        def have() -> bool:
            got = parse_frame(self.data.get(sid, bytearray()))
            if got is None:
                return False
            parsed.append(got[0])
            del self.data[sid][: got[1]]
            return True

        self.read_until(have)
        return parsed[0]

    def ended(self, sid: int) -> bool:
        from h2.events import StreamEnded, StreamReset

        return any(
            isinstance(e, (StreamEnded, StreamReset)) and e.stream_id == sid for e in self.events
        )

    def close(self) -> None:
        self.sock.close()


def frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    """A masked client frame (RFC 6455 §5.2-5.3)."""
    head = bytearray([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack("!H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", n)
    mask = os.urandom(4)
    return bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def parse_frame(buf: bytearray) -> tuple[tuple[int, bool, bytes], int] | None:
    if len(buf) < 2:
        return None
    assert buf[0] & 0x80, "fragmented server frame"
    assert not buf[1] & 0x80, "a server frame must not be masked (RFC 6455 §5.1)"
    n, at = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, at = struct.unpack("!H", bytes(buf[2:4]))[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, at = struct.unpack("!Q", bytes(buf[2:10]))[0], 10
    if len(buf) < at + n:
        return None
    return (buf[0] & 0x0F, bool(buf[0] & 0x40), bytes(buf[at : at + n])), at + n


@pytest.fixture(params=["h2c", "h2-tls"])
def transport(request: pytest.FixtureRequest, pki: TestPki) -> str | None:
    """The CA to verify against for TLS, None for h2c (prior knowledge)."""
    return str(pki.ca) if request.param == "h2-tls" else None


def tls_args(pki: TestPki, ca: str | None) -> list[str]:
    return [] if ca is None else ["--ssl-certfile", str(pki.cert), "--ssl-keyfile", str(pki.key)]


@pytest.fixture(params=["cpp", "python"])
def server(
    request: pytest.FixtureRequest,
    transport: str | None,
    pki: TestPki,
    procs: list[subprocess.Popen[bytes]],
    py_server: Any,
) -> Iterator[tuple[str, int, str | None]]:
    if request.param == "cpp":
        port = free_port()
        start(
            [str(hello_server_binary()), "--port", str(port), *tls_args(pki, transport)],
            procs,
            port,
        )
    else:
        settings = (
            {}
            if transport is None
            else {"ssl_certfile": str(pki.cert), "ssl_keyfile": str(pki.key)}
        )
        port, _ = py_server(**settings)
    yield request.param, port, transport


def test_settings_enable_connect_protocol(server: tuple[str, int, str | None]) -> None:
    _, port, ca = server
    c = WsOverH2(port, ca)
    assert c.settings.get(ENABLE_CONNECT_PROTOCOL) == 1
    c.close()


def test_echo_and_close_handshake(server: tuple[str, int, str | None]) -> None:
    _, port, ca = server
    c = WsOverH2(port, ca)
    sid, head = c.connect()
    assert head[":status"] == "200"
    assert "sec-websocket-accept" not in head  # RFC 8441 §5: no key, no accept
    assert "upgrade" not in head and "connection" not in head
    c.send_frame(sid, 0x1, "héllo over h2".encode())
    assert c.next_frame(sid) == (0x1, False, "héllo over h2".encode())
    big = os.urandom(200_000)  # many DATA frames, past the initial window
    c.send_frame(sid, 0x2, big)
    assert c.next_frame(sid) == (0x2, False, big)
    c.send_frame(sid, 0x9, b"p")  # ping → pong (RFC 6455 §5.5.2)
    assert c.next_frame(sid) == (0xA, False, b"p")
    # A second WebSocket on the same connection, interleaved.
    sid2, head2 = c.connect()
    assert head2[":status"] == "200"
    c.send_frame(sid2, 0x1, b"two")
    c.send_frame(sid, 0x1, b"one")
    assert c.next_frame(sid2) == (0x1, False, b"two")
    assert c.next_frame(sid) == (0x1, False, b"one")
    # Close handshake: our close frame is echoed, then the server ends its side of the stream.
    c.send_frame(sid, 0x8, struct.pack("!H", 1000) + b"bye")
    opcode, _, payload = c.next_frame(sid)
    assert (opcode, payload[:2]) == (0x8, struct.pack("!H", 1000))
    c.read_until(lambda: c.ended(sid))
    c.conn.end_stream(sid)
    c.flush()
    # The other WebSocket is untouched by the first one's end.
    c.send_frame(sid2, 0x1, b"still here")
    assert c.next_frame(sid2) == (0x1, False, b"still here")
    c.close()


def test_permessage_deflate(server: tuple[str, int, str | None]) -> None:
    _, port, ca = server
    c = WsOverH2(port, ca)
    sid, head = c.connect(
        extra=[("sec-websocket-version", "13"), ("sec-websocket-extensions", "permessage-deflate")]
    )
    assert head[":status"] == "200"
    assert head.get("sec-websocket-extensions", "").startswith("permessage-deflate")
    co = zlib.compressobj(wbits=-15)
    body = co.compress(b"squeeze " * 100) + co.flush(zlib.Z_SYNC_FLUSH)
    c.send_frame(sid, 0x1, body[:-4], rsv1=True)  # RFC 7692 §7.2.1: drop 00 00 ff ff
    opcode, rsv1, payload = c.next_frame(sid)
    assert (opcode, rsv1) == (0x1, True)
    assert (
        zlib.decompressobj(wbits=-15).decompress(payload + b"\x00\x00\xff\xff") == b"squeeze " * 100
    )
    c.close()


def test_subprotocol(server: tuple[str, int, str | None]) -> None:
    kind, port, ca = server
    c = WsOverH2(port, ca)
    _, head = c.connect(
        extra=[("sec-websocket-version", "13"), ("sec-websocket-protocol", "chat, superchat")]
    )
    assert head[":status"] == "200"
    if kind == "python":  # the app picks the first one offered
        assert head["sec-websocket-protocol"] == "chat"
    c.close()


def test_refusals(server: tuple[str, int, str | None]) -> None:
    kind, port, ca = server
    c = WsOverH2(port, ca)
    _, head = c.connect(extra=[])  # no Sec-WebSocket-Version
    assert head[":status"] == "426"
    assert head["sec-websocket-version"] == "13"
    _, head = c.connect(extra=[("sec-websocket-version", "8")])
    assert head[":status"] == "426"
    _, head = c.connect(
        extra=[("sec-websocket-version", "13"), ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")]
    )
    assert head[":status"] == "400"  # RFC 8441 §5: the key belongs to HTTP/1.1
    _, head = c.connect(protocol="not-websocket")
    assert head[":status"] == "501"
    _, head = c.connect(path="/no-such-socket")
    assert head[":status"] == "404"
    if kind == "python":
        _, head = c.connect(path="/ws-refuse")  # closed before accept: 403, as on HTTP/1.1
        assert head[":status"] == "403"
    # The connection still serves WebSockets after the refusals.
    sid, head = c.connect()
    assert head[":status"] == "200"
    c.send_frame(sid, 0x1, b"ok")
    assert c.next_frame(sid) == (0x1, False, b"ok")
    c.close()


def test_reset_by_client_and_peer_end_without_close(server: tuple[str, int, str | None]) -> None:
    _, port, ca = server
    c = WsOverH2(port, ca)
    sid, _ = c.connect()
    c.conn.reset_stream(sid)  # the client drops the WebSocket (a TCP reset's counterpart)
    c.flush()
    sid2, _ = c.connect()
    c.conn.end_stream(sid2)  # END_STREAM without a close frame: the server ends too (1006)
    c.flush()
    c.read_until(lambda: c.ended(sid2))
    sid3, _ = c.connect()
    c.send_frame(sid3, 0x1, b"alive")
    assert c.next_frame(sid3) == (0x1, False, b"alive")
    c.close()


def test_backpressure_through_the_stream_window(pki: TestPki, procs: list[Any]) -> None:
    """A client that does not read the echoes: the server's stream buffer passes its high-water
    mark, the WebSocket stops reading, and the stream's flow-control window (RFC 9113 §5.2)
    closes on the sender instead of the server buffering without bound. Reading again reopens
    it and every echo arrives."""
    port = free_port()
    start([str(hello_server_binary()), "--port", str(port)], procs, port)
    c = WsOverH2(port, window=65535)
    c.read_data = False
    sid, head = c.connect()
    assert head[":status"] == "200"
    msg = b"x" * 16_000
    sent = 0

    def room() -> bool:
        return bool(c.conn.local_flow_control_window(sid) >= len(msg) + 14)

    while sent < 1000:
        if room():
            c.conn.send_data(sid, frame(0x2, msg))
            c.flush()
            sent += 1
            continue
        try:  # a WINDOW_UPDATE within a second: the server still reads
            c.read_until(room, timeout=1.0)
        except TimeoutError:
            break  # shut, and it stays shut while we do not read
    # Shut well before the 1000 messages (16 MB): ~256 KB buffered + one 1 MB stream window.
    assert sent < 200, sent
    c.read_data = True
    got = 0
    for key in list(c.data):  # acknowledge what arrived meanwhile
        c.conn.acknowledge_received_data(len(c.data[key]), key)
    c.flush()
    while got < sent:
        assert c.next_frame(sid) == (0x2, False, msg)
        got += 1
    c.close()


def test_python_get_and_websocket_on_one_path(py_server: Any) -> None:
    """The combined GET + WebSocket route (Server.add_route_and_websocket, as FastAPI apps and
    mounted ASGI apps use it): an extended CONNECT reaches the WebSocket endpoint, a GET the
    HTTP one, on the same h2 connection."""
    from h2.events import StreamEnded

    port, _ = py_server()
    c = WsOverH2(port)
    sid, head = c.connect(path="/both")
    assert head[":status"] == "200"
    assert c.next_frame(sid) == (0x1, False, b"via websocket")
    opcode, _, payload = c.next_frame(sid)
    assert (opcode, payload[:2]) == (0x8, struct.pack("!H", 1000))
    get = c.conn.get_next_available_stream_id()
    c.conn.send_headers(
        get,
        [(":method", "GET"), (":path", "/both"), (":scheme", "http"), (":authority", "x")],
        end_stream=True,
    )
    c.flush()
    c.read_until(lambda: any(isinstance(e, StreamEnded) and e.stream_id == get for e in c.events))
    assert bytes(c.data[get]) == b'{"via":"http"}'
    c.close()
