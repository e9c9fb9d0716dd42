"""Streamed request bodies over HTTP/2 (src/h2/body_stream.cpp): `request.stream()` and an ASGI
app's `receive()` get the body as the client sends it, one stream window (1 MiB) at most
buffered by the server, the window reopened only as the handler reads (RFC 9113 §5.2); a
client reset mid-body reaches the handler as ClientDisconnect. Clients: the `h2` package
(frame-level control of what is sent when) and httpx with http2=True."""

from __future__ import annotations

import json
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, require_module
from h2_client import H2Client
from h2_tools import start

pytest_plugins = ["h2_servers"]
require_module("h2")

pytestmark = pytest.mark.timeout(120)

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
WINDOW = MiB  # the server's SETTINGS_INITIAL_WINDOW_SIZE (src/h2/h2_protocol.h)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    procs: list[Any] = []
    p = free_port()
    start([sys.executable, str(HERE / "h2_body_app.py"), str(p)], procs, p)
    yield p
    for proc in procs:
        proc.kill()
        proc.wait()


def client(port: int) -> H2Client:
    return H2Client(port, window=65535)  # responses flow; we pace only our uploads


def post(c: H2Client, path: str) -> int:
    sid: int = c.conn.get_next_available_stream_id()
    fields = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", "x")]
    c.conn.send_headers(sid, fields, end_stream=False)
    c.flush()
    return sid


def send_body(c: H2Client, sid: int, data: bytes, *, end: bool) -> None:
    """Sends `data` on `sid` as the server's windows allow (waiting for WINDOW_UPDATE)."""
    view = memoryview(data)
    off = 0
    while off < len(data):
        room = min(c.conn.local_flow_control_window(sid), c.conn.max_outbound_frame_size)
        if room <= 0:
            c.read_until(lambda: c.conn.local_flow_control_window(sid) > 0, timeout=30)
            continue
        n = min(room, len(data) - off)
        c.conn.send_data(sid, bytes(view[off : off + n]))
        c.flush()
        off += n
    if end:
        c.conn.end_stream(sid)
        c.flush()


def response(c: H2Client, sid: int, timeout: float = 30) -> tuple[int, Any]:
    from h2.events import ResponseReceived

    c.read_until(lambda: c.ended(sid), timeout=timeout)
    head = next(e for e in c.events if isinstance(e, ResponseReceived) and e.stream_id == sid)
    status = int(dict(head.headers)[":status"])
    return status, json.loads(c.body(sid)) if status == 200 else c.body(sid)


def pattern(n: int) -> bytes:
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def state(port: int) -> dict[str, Any]:
    c = client(port)
    sid = c.get("/state")
    status, body = response(c, sid)
    c.sock.close()
    assert status == 200
    return dict(body)


@pytest.mark.parametrize("path", ["/first", "/asgi/first"])
def test_handler_gets_the_first_chunk_while_the_client_holds_the_rest(port: int, path: str) -> None:
    c = client(port)
    sid = post(c, path)
    # No content-length and no END_STREAM: 60 KiB (within the first connection window), and
    # the rest is never sent: only a handler that reads as the bytes come can answer.
    send_body(c, sid, pattern(60 * 1024), end=False)
    status, got = response(c, sid, timeout=10)
    assert status == 200
    if path == "/first":
        assert got["streamed"] is True
        assert 0 < got["first"] <= 60 * 1024
    else:
        assert got["messages"] == 1 and got["more_body"] == 1
        assert 0 < got["n"] <= 60 * 1024
        assert got["version"] == "2"
    c.sock.close()


def test_10_mb_upload_is_streamed_with_bounded_memory(port: int) -> None:
    body = pattern(10 * MiB)
    state(port)  # warm up: the first requests allocate what every request will reuse
    before = state(port)["peak_rss_kib"]
    c = client(port)
    sid = post(c, "/stream")
    send_body(c, sid, body, end=True)
    status, got = response(c, sid)
    assert status == 200
    assert got["n"] == len(body) and got["crc"] == zlib.crc32(body)
    assert got["streamed"] is True and got["version"] == "2"
    assert got["chunks"] > 5
    assert got["largest"] <= WINDOW  # never more than one window held for the handler
    c.sock.close()
    grew = state(port)["peak_rss_kib"] - before
    assert grew < 6 * 1024, f"peak RSS grew {grew} KiB"
    # The control: the same upload to a route that reads the body whole (request.body())
    # moves the peak by more than the body's size, so the measure above can see buffering.
    c = client(port)
    sid = post(c, "/whole")
    send_body(c, sid, body, end=True)
    status, got = response(c, sid)
    assert status == 200 and got["n"] == len(body) and got["streamed"] is False
    c.sock.close()
    grew_whole = state(port)["peak_rss_kib"] - before
    assert grew_whole > 10 * 1024, f"peak RSS grew {grew_whole} KiB reading the body whole"


def test_asgi_receive_gets_more_body_messages(port: int) -> None:
    body = pattern(3 * MiB + 7)
    c = client(port)
    sid = post(c, "/asgi/upload")
    send_body(c, sid, body, end=True)
    status, got = response(c, sid)
    assert status == 200
    assert got["n"] == len(body) and got["crc"] == zlib.crc32(body)
    assert got["messages"] > 2
    assert got["more_body"] == got["messages"] - 1  # the last message ends the body
    c.sock.close()


def test_client_reset_mid_body_is_a_client_disconnect(port: int) -> None:
    c = client(port)
    sid = post(c, "/leave")
    send_body(c, sid, pattern(200 * 1024), end=False)
    time.sleep(0.2)  # the handler has read what came and waits for more
    c.conn.reset_stream(sid)
    c.flush()
    deadline = time.monotonic() + 10
    while "left" not in (s := state(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s["left"]["n"] == 200 * 1024
    assert "disconnected" in s["left"]["reason"]
    # The connection goes on.
    sid2 = c.get("/state")
    assert response(c, sid2)[0] == 200
    c.sock.close()


def test_httpx_http2_upload_and_small_body(port: int) -> None:
    import httpx

    body = pattern(2 * MiB)

    def parts() -> Iterator[bytes]:
        for i in range(0, len(body), 100_000):
            yield body[i : i + 100_000]

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", http1=False, http2=True) as h:
        r = h.post("/stream", content=parts())
        assert r.http_version == "HTTP/2"
        got = r.json()
        assert got["n"] == len(body) and got["crc"] == zlib.crc32(body)
        assert got["streamed"] is True
        # A small body, complete with its HEADERS: handed over whole, as before.
        small = h.post("/stream", content=b"0123456789").json()
        assert small["n"] == 10 and small["chunks"] == 1 and small["streamed"] is False
