"""One HTTP/2 stream ending — answered, HEAD, reset by the client, abandoned by the handler —
leaves the connection and its other streams alone (RFC 9113 §5.1, §8.1)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from conftest import require_module
from h2_client import H2Client
from raw_h2 import RawH2, RstStreamFrame, WindowUpdateFrame

pytest_plugins = ["h2_servers"]
require_module("h2")


def test_head_then_get_on_a_streaming_route(py_server: Any) -> None:
    """HEAD ends the stream with the response head; the handler's generator then sees its
    exchange gone. That must end the stream only: it used to close the whole connection
    (the GET after it failed with "Broken pipe")."""
    port, _ = py_server()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", http1=False, http2=True) as c:
        head = c.head("/stream", params={"n": 3})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith("text/plain")
        r = c.get("/stream", params={"n": 3})
        assert r.http_version == "HTTP/2" and r.content == b"0" * 10 + b"1" * 10 + b"2" * 10
        assert c.head("/").status_code == 200
        assert c.get("/users/5").json() == {"id": "5", "name": "John Doe"}


def test_client_reset_of_a_stream_keeps_the_connection(py_server: Any) -> None:
    """A client cancelling one streamed response (RST_STREAM CANCEL, what a browser does for an
    aborted fetch) costs that stream only: the next request on the connection is answered."""
    port, _ = py_server()
    h = RawH2(port, settings={0x4: 0})  # no window: the stream's producer waits
    h.headers(1, "/stream?n=2000&size=1000")
    h.read_until(lambda _: h.status(1) is not None)
    h.send(RstStreamFrame(1, error_code=0x8))  # CANCEL
    h.headers(3, "/users/4")
    h.send(WindowUpdateFrame(3, window_increment=1000))
    h.read_until(lambda _: h.ended(3))
    assert h.status(3) == "200" and h.body(3) == b'{"id":"4","name":"John Doe"}'
    assert not h.closed and h.goaway() is None


def test_stream_whose_window_never_opens_is_reset(py_server: Any) -> None:
    """The server's send timeout applies per stream: a stream whose window stays shut is reset
    with CANCEL once timeout_send passes, its buffered bytes freed and its producer (the
    handler's generator) closed; the connection and its other streams go on."""
    from h2.errors import ErrorCodes

    port, _ = py_server(timeout_send=1.0)
    c = H2Client(port)
    stuck = c.get("/stream?n=2000&size=1000")  # 6.9 MB that will never be read
    t0 = time.monotonic()
    c.read_until(lambda: c.reset(stuck) is not None, timeout=10)
    waited = time.monotonic() - t0
    assert c.reset(stuck).error_code == ErrorCodes.CANCEL
    assert 0.9 <= waited < 4.0, waited
    for _ in range(20):  # the generator is closed on the producer's next turn
        served = c.get("/finished-streams")
        c.open_window(served, 1000)
        c.read_until(lambda sid=served: c.ended(sid), timeout=10)
        if json.loads(c.body(served)) == {"count": 1}:
            break
        time.sleep(0.1)
    assert json.loads(c.body(served)) == {"count": 1}


def test_slow_but_moving_stream_is_not_reset(py_server: Any) -> None:
    """Progress restarts the clock: a window opened a little at a time, more slowly in total
    than timeout_send, is a slow reader, not a stalled one."""
    port, _ = py_server(timeout_send=1.0)
    c = H2Client(port)
    sid = c.get("/stream?n=30&size=1000")
    c.conn.increment_flow_control_window(10_000_000)  # the connection's window: not the limit
    for _ in range(6):  # 3 s in all, 0.5 s between updates
        c.open_window(sid, 1000)
        time.sleep(0.5)
    c.open_window(sid, 100_000)
    c.read_until(lambda: c.ended(sid), timeout=10)
    assert c.reset(sid) is None
    assert c.body(sid) == b"".join(str(i).encode() * 1000 for i in range(30))
