"""HTTP/2 in the engine (src/h2), judged by real clients — curl (--http2-prior-knowledge, and
--http2 over TLS with --cacert), nghttp, h2load, httpx with http2=True — against the C++
hello_server and the Python App (seed and FastAPI style, bodies, streams); then the limits and
attacks of RFC 9113 §10.5 with frames crafted byte by byte (raw_h2.py)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from typing import Any

import httpx
from conftest import free_port, require_module
from h2_tools import curl, hello_server_binary, start, tool
from raw_h2 import (
    COMPRESSION_ERROR,
    ENHANCE_YOUR_CALM,
    FLOW_CONTROL_ERROR,
    NO_ERROR,
    ContinuationFrame,
    DataFrame,
    HeadersFrame,
    RawH2,
    RstStreamFrame,
    WindowUpdateFrame,
)
from tls_certs import TestPki

pytest_plugins = ["h2_servers"]
require_module("h2")  # httpx's HTTP/2 support


# --- judges: real clients -------------------------------------------------------------------


def test_curl_prior_knowledge_cpp_handlers(cpp_server: int) -> None:
    base = f"http://127.0.0.1:{cpp_server}"
    out = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", base + "/").stdout
    assert out == '{"message":"Hello, World!"}\n2'
    assert (
        curl("--http2-prior-knowledge", base + "/users/42").stdout == '{"id":42,"name":"John Doe"}'
    )
    assert curl("--http2-prior-knowledge", "-d", "a body", base + "/echo").stdout == "a body"
    assert curl("--http2-prior-knowledge", base + "/stream").stdout.splitlines()[:2] == [
        "part 0",
        "part 1",
    ]
    code = curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope")
    assert code.stdout == "404"
    # HTTP/1.1 on the same port is unchanged.
    assert curl("--http1.1", "-w", " %{http_version}", base + "/").stdout.endswith(" 1.1")


def test_curl_tls_alpn_h2(pki: TestPki, procs: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    start(
        [
            str(hello_server_binary()),
            "--port",
            str(port),
            "--ssl-certfile",
            str(pki.cert),
            "--ssl-keyfile",
            str(pki.key),
        ],
        procs,
        port,
    )
    url = f"https://localhost:{port}/users/7"
    out = curl("--http2", "--cacert", str(pki.ca), "-w", " %{http_version}", url).stdout
    assert out == '{"id":7,"name":"John Doe"} 2'
    out = curl("--http1.1", "--cacert", str(pki.ca), "-w", " %{http_version}", url).stdout
    assert out == '{"id":7,"name":"John Doe"} 1.1'
    s_client = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-alpn",
            "h2,http/1.1",
            "-CAfile",
            str(pki.ca),
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "ALPN protocol: h2" in s_client.stdout


def test_nghttp_and_h2load(cpp_server: int) -> None:
    base = f"http://127.0.0.1:{cpp_server}"
    out = subprocess.run(
        [tool("nghttp"), "-v", base + "/users/5"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    assert ":status: 200" in out and '{"id":5,"name":"John Doe"}' in out
    load = subprocess.run(
        [tool("h2load"), "-n", "4000", "-c", "4", "-m", "16", base + "/"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "4000 succeeded, 0 failed, 0 errored" in load
    assert "status codes: 4000 2xx" in load


def test_httpx_python_app(py_server: Any) -> None:
    port, _ = py_server()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", http1=False, http2=True) as c:
        r = c.get("/")
        assert r.http_version == "HTTP/2"
        assert r.json() == {"message": "Hello, World!"}
        assert c.get("/users/9").json() == {"id": "9", "name": "John Doe"}
        assert c.get("/items/3", params={"q": "x"}).json() == {"item_id": 3, "q": "x"}
        assert c.get("/items/nope").status_code == 422
        assert c.post("/items", json={"name": "pen", "price": 1.5}).json() == {
            "name": "pen",
            "price": 1.5,
        }
        big = bytes(range(256)) * 12 * 1024  # 3 MiB: past the 1 MiB stream window, refilled
        assert c.post("/echo", content=big).content == big
        assert c.get("/headers", headers={"x-test": "yes"}).json() == {
            "host": f"127.0.0.1:{port}",
            "x-test": "yes",
        }
        r = c.get("/stream", params={"n": 300, "size": 1000})
        assert r.content == b"".join(str(i).encode() * 1000 for i in range(300))
        head = c.head("/")
        assert head.status_code == 200 and head.content == b""
        assert c.get("/missing").status_code == 404
        assert c.delete("/").status_code == 405


def test_httpx_python_app_over_tls(pki: TestPki, py_server: Any) -> None:
    import ssl

    port, _ = py_server(ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.key))
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    with httpx.Client(base_url=f"https://localhost:{port}", http2=True, verify=ctx) as c:
        r = c.get("/users/1")
        assert r.http_version == "HTTP/2"
        assert r.json() == {"id": "1", "name": "John Doe"}


def test_concurrent_streams_on_one_connection(py_server: Any) -> None:
    """Ten slow handlers on one connection run at once (not one after the other)."""
    import asyncio

    port, _ = py_server()

    async def go() -> float:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", http1=False, http2=True
        ) as c:
            await c.get("/")
            t0 = time.monotonic()
            rs = await asyncio.gather(*(c.get("/slow", params={"seconds": 0.5}) for _ in range(10)))
            assert all(r.json() == {"slept": 0.5} for r in rs)
            return time.monotonic() - t0

    assert asyncio.run(go()) < 2.5


def test_request_trailers_accepted(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    h.headers(1, "/echo", method="POST", end_stream=False, extra=[("te", "trailers")])
    d = DataFrame(1)
    d.data = b"with trailers"
    trailers = HeadersFrame(1)
    trailers.data = bytes(h.encoder.encode([("x-checksum", "abc")]))
    trailers.flags.add("END_HEADERS")
    trailers.flags.add("END_STREAM")
    h.send(d, trailers)
    h.read_until(lambda _: h.ended(1))
    assert h.status(1) == "200" and h.body(1) == b"with trailers"


# --- limits and attacks ---------------------------------------------------------------------


def still_serving(port: int) -> None:
    out = curl("--http2-prior-knowledge", f"http://127.0.0.1:{port}/users/1").stdout
    assert out == '{"id":1,"name":"John Doe"}'


def test_settings_announce_limits(cpp_server: int) -> None:
    from hyperframe.frame import SettingsFrame

    h = RawH2(cpp_server)
    frames = h.read_until(lambda fs: any(isinstance(f, SettingsFrame) for f in fs))
    settings = next(f for f in frames if isinstance(f, SettingsFrame)).settings
    assert settings[SettingsFrame.MAX_CONCURRENT_STREAMS] == 100
    assert settings[SettingsFrame.HEADER_TABLE_SIZE] == 4096
    assert settings[SettingsFrame.MAX_HEADER_LIST_SIZE] == 16 * 1024


def test_max_concurrent_streams_refused(py_server: Any) -> None:
    port, _ = py_server()
    h = RawH2(port)
    for i in range(110):  # sent before the server's SETTINGS are even read
        h.headers(1 + 2 * i, "/slow?seconds=0.5")
    h.read_until(lambda _: all(h.ended(1 + 2 * i) for i in range(110)), timeout=20)
    refused = [f for f in h.frames if isinstance(f, RstStreamFrame)]
    assert len(refused) == 10 and all(f.error_code == 7 for f in refused)  # REFUSED_STREAM
    assert sum(h.status(1 + 2 * i) == "200" for i in range(110)) == 100


def test_header_list_too_large_431(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    block = h.request_block("/", extra=[("x-big", "a" * 20000)])
    first = HeadersFrame(1)
    first.data = block[:16000]
    first.flags.add("END_STREAM")
    cont = ContinuationFrame(1)
    cont.data = block[16000:]
    cont.flags.add("END_HEADERS")
    h.send(first, cont)
    h.read_until(lambda _: h.ended(1))
    assert h.status(1) == "431"
    still_serving(cpp_server)


def test_hpack_table_size_over_setting(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    f = HeadersFrame(1)
    # RFC 7541 §6.3 dynamic table size update to 8192, past the 4096 we announced (§4.2).
    f.data = b"\x3f\xe1\x3f" + h.request_block("/")
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    h.send(f)
    h.read_until(lambda _: h.goaway() is not None)
    goaway = h.goaway()
    assert goaway is not None and goaway.error_code == COMPRESSION_ERROR
    still_serving(cpp_server)


def test_continuation_within_bounds_is_served(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    block = h.request_block("/users/3", extra=[("x-pad", "p" * 300)])
    first = HeadersFrame(1)
    first.data = block[:50]
    first.flags.add("END_STREAM")
    parts = [block[i : i + 50] for i in range(50, len(block), 50)]
    frames: list[Any] = [first]
    for i, part in enumerate(parts):
        c = ContinuationFrame(1)
        c.data = part
        if i == len(parts) - 1:
            c.flags.add("END_HEADERS")
        frames.append(c)
    h.send(*frames)
    h.read_until(lambda _: h.ended(1))
    assert h.status(1) == "200" and h.body(1) == b'{"id":3,"name":"John Doe"}'


def test_continuation_flood_goaway(cpp_server: int) -> None:
    """CVE-2024-27316: a header block that never ends is cut off after 32 CONTINUATION frames."""
    h = RawH2(cpp_server)
    block = h.request_block("/", extra=[("x-pad", "p" * 1000)])
    first = HeadersFrame(1)
    first.data = block[:20]
    frames: list[Any] = [first]
    for i in range(20, 20 + 200):
        c = ContinuationFrame(1)
        c.data = block[i : i + 1]
        frames.append(c)
    h.send(*frames)
    h.read_until(lambda _: h.goaway() is not None)
    goaway = h.goaway()
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM
    still_serving(cpp_server)


def test_rapid_reset_goaway(cpp_server: int) -> None:
    """CVE-2023-44487: streams opened and reset at once are paid from a token bucket."""
    h = RawH2(cpp_server)
    out = b""
    for i in range(1500):
        sid = 1 + 2 * i
        f = HeadersFrame(sid)
        f.data = h.request_block("/")
        f.flags.add("END_HEADERS")
        out += f.serialize() + RstStreamFrame(sid, error_code=8).serialize()  # CANCEL
    h.send_bytes(out)
    h.read_until(lambda _: h.goaway() is not None)
    goaway = h.goaway()
    assert goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM
    still_serving(cpp_server)


def test_a_few_resets_are_fine(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    for i in range(50):
        h.headers(1 + 2 * i, "/", end_stream=False)
        h.send(RstStreamFrame(1 + 2 * i, error_code=8))
    h.headers(201, "/users/8")
    h.read_until(lambda _: h.ended(201))
    assert h.status(201) == "200" and h.goaway() is None


def test_window_overflow_flow_control_error(cpp_server: int) -> None:
    h = RawH2(cpp_server)
    h.send(WindowUpdateFrame(0, window_increment=0x7FFFFFFF))  # 65535 + 2^31-1 > 2^31-1 (§6.9.1)
    h.read_until(lambda _: h.goaway() is not None)
    goaway = h.goaway()
    assert goaway is not None and goaway.error_code == FLOW_CONTROL_ERROR
    still_serving(cpp_server)


def flood(port: int, frame: bytes, count: int) -> RawH2:
    """Sends `count` copies of `frame` without reading a byte back (the answers pile up)."""
    h = RawH2(port)
    h.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    data = frame * 1000

    def push() -> None:
        try:
            for _ in range(count // 1000):
                h.sock.sendall(data)
        except OSError:
            pass  # the server gave up on us: what the test wants

    t = threading.Thread(target=push, daemon=True)
    t.start()
    t.join(timeout=30)
    assert not t.is_alive(), "the server kept reading a flood it could not answer"
    return h


def test_ping_flood_closed(cpp_server: int) -> None:
    from hyperframe.frame import PingFrame

    h = flood(cpp_server, PingFrame(0, opaque_data=b"12345678").serialize(), 2_000_000)
    h.read_until(lambda _: False, timeout=20)  # drains what was queued, then EOF
    assert h.closed
    still_serving(cpp_server)


def test_settings_flood_closed(cpp_server: int) -> None:
    from hyperframe.frame import SettingsFrame

    h = flood(cpp_server, SettingsFrame(0).serialize(), 2_000_000)
    h.read_until(lambda _: False, timeout=20)
    assert h.closed
    still_serving(cpp_server)


def test_stream_that_never_reads_does_not_block_others(py_server: Any) -> None:
    """A stream with no window holds only itself: its producer waits (flow control), the next
    stream on the connection is answered, and the first completes once the window opens."""
    port, _ = py_server()
    h = RawH2(port, settings={0x4: 0})  # SETTINGS_INITIAL_WINDOW_SIZE = 0
    h.headers(1, "/stream?n=2000&size=1000")  # 6.9 MB
    h.headers(3, "/users/4")
    h.send(WindowUpdateFrame(3, window_increment=1000))  # stream 3 alone may receive
    h.read_until(lambda _: h.ended(3))
    assert h.body(3) == b'{"id":"4","name":"John Doe"}'
    assert h.status(1) == "200" and h.body(1) == b""
    h.send(
        WindowUpdateFrame(1, window_increment=10_000_000),
        WindowUpdateFrame(0, window_increment=10_000_000),
    )
    h.read_until(lambda _: h.ended(1), timeout=30)
    assert h.body(1) == b"".join(str(i).encode() * 1000 for i in range(2000))


def test_graceful_shutdown_goaway_finishes_in_flight(py_server: Any) -> None:
    port, proc = py_server()
    h = RawH2(port)
    h.headers(1, "/slow?seconds=1")
    # Stream 3's answer proves stream 1 was dispatched (frames are read in order): a fixed
    # sleep let a loaded machine send SIGTERM before the request was in flight.
    h.headers(3, "/users/1")
    h.read_until(lambda _: h.ended(3), timeout=15)
    proc.send_signal(signal.SIGTERM)
    h.read_until(lambda _: h.ended(1), timeout=15)
    goaway = h.goaway()
    assert goaway is not None and goaway.error_code == NO_ERROR and goaway.last_stream_id == 3
    assert h.status(1) == "200" and json.loads(h.body(1)) == {"slept": 1.0}
    proc.wait(timeout=15)
