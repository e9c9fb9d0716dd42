"""Streamed request bodies (issue 12): `async for chunk in request.stream()` on a route that
takes only the Request gets the body as it arrives, with the connection paused while the
handler does not read. A real server in a child process, raw sockets as clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from conftest import require_module

from fasterapi import Request
from fasterapi._body_stream import streams_body
from fasterapi.params import Body, Depends, Query
from fasterapi.routing import Route

pytestmark = pytest.mark.timeout(120)

APPS = Path(__file__).resolve().parent / "stream_apps"
ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, spec: str) -> None:
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(APPS)])}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fasterapi",
                "run",
                spec,
                "--app-dir",
                str(APPS),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{spec} did not start: {self.proc.stderr.read()!r}")  # type: ignore[union-attr]

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server("stream_app:app")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def starlette_server() -> Iterator[Server]:
    require_module("starlette")
    s = Server("starlette_stream_app:app")
    yield s
    s.stop()


class Reader:
    """Reads Content-Length or chunked responses off one socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        if status == 100:
            return self.response()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return status, headers, body
        body = b""
        while True:  # chunked
            while b"\r\n" not in self.buf:
                self._fill()
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(rest) < size + 2:
                self._fill()
                size_line, rest = self.buf.split(b"\r\n", 1)
            body += rest[:size]
            self.buf = rest[size + 2 :]
            if size == 0:
                return status, headers, body


def block(i: int, size: int = MiB) -> bytes:
    return bytes([(i * 7 + 1) % 251]) * size


def post_streamed(
    sock: socket.socket, path: str, blocks: int, *, chunked: bool, size: int = MiB
) -> int:
    """Sends `blocks` blocks as the body; returns the crc32 of what was sent."""
    if chunked:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    else:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {blocks * size}\r\n\r\n"
    sock.sendall(head.encode())
    crc = 0
    for i in range(blocks):
        b = block(i, size)
        crc = zlib.crc32(b, crc)
        sock.sendall(b"%x\r\n%s\r\n" % (len(b), b) if chunked else b)
    if chunked:
        sock.sendall(b"0\r\n\r\n")
    return crc


def get_json(server: Server, path: str) -> Any:
    import json

    with server.connect() as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, _, body = Reader(s).response()
        assert status == 200
        return json.loads(body)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_200_mb_upload_is_streamed_with_bounded_memory(server: Server, chunked: bool) -> None:
    import json

    before = get_json(server, "/state")["peak_rss_kib"]
    with server.connect() as s:
        crc = post_streamed(s, "/stream", 200, chunked=chunked)
        status, _, body = Reader(s).response()
    assert status == 200, body
    got = json.loads(body)
    assert got["n"] == 200 * MiB
    assert got["crc"] == crc
    assert got["streamed"] is True
    assert got["chunks"] > 10  # arrived in pieces, not as one buffer
    after = get_json(server, "/state")["peak_rss_kib"]
    assert after - before < 64 * 1024, f"peak RSS grew {after - before} KiB"


def test_await_body_collects_a_streamed_body(server: Server) -> None:
    import json

    with server.connect() as s:
        crc = post_streamed(s, "/collect", 3, chunked=True)
        status, _, body = Reader(s).response()
    assert status == 200
    assert json.loads(body) == {
        "n": 3 * MiB,
        "crc": crc,
        "streamed": True,
        "again": True,
        "json_len": 0,
    }
    doc = b'{"a": "' + b"x" * (200 * 1024) + b'"}'
    with server.connect() as s:  # request.json() after the body was collected
        s.sendall(
            b"POST /collect?json=1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (len(doc), doc)
        )
        status, _, body = Reader(s).response()
    assert status == 200, body
    assert json.loads(body)["json_len"] == 1 and json.loads(body)["streamed"] is True


def test_small_body_is_one_chunk_as_before(server: Server) -> None:
    import json

    with server.connect() as s:
        s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        status, _, body = Reader(s).response()
    assert status == 200
    assert json.loads(body) == {"n": 5, "crc": zlib.crc32(b"hello"), "chunks": 1, "streamed": False}


def test_past_max_body_is_413(server: Server) -> None:
    with server.connect() as s:
        s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (600 * MiB))
        status, _, _ = Reader(s).response()
    assert status == 413
    with server.connect() as s:  # chunked: found out mid-stream
        s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for i in range(600):
                b = block(i)
                s.sendall(b"%x\r\n%s\r\n" % (len(b), b))
        except OSError:
            pass  # the server answered and closed
        status, _, body = Reader(s).response()
    assert status == 413, body


def test_client_leaving_mid_body_raises_client_disconnect(server: Server) -> None:
    with server.connect() as s:
        s.sendall(b"POST /leave HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (50 * MiB))
        s.sendall(block(0, 2 * MiB))
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = get_json(server, "/state").get("left")
        if left:
            break
        time.sleep(0.05)
    assert left, "the handler did not see ClientDisconnect"
    assert 0 < left["n"] <= 2 * MiB
    assert "disconnected" in left["reason"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_pipelined_requests_after_a_streamed_one(server: Server, chunked: bool) -> None:
    import json

    body = block(3, 300 * 1024)
    if chunked:
        first = b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        first += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        first = b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
            len(body),
            body,
        )
    batch = (
        first
        + b"GET /state HTTP/1.1\r\nHost: x\r\n\r\n"
        + (b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    )
    with server.connect() as s:
        s.sendall(batch)
        r = Reader(s)
        status, _, got = r.response()
        assert status == 200
        assert json.loads(got)["n"] == len(body)
        assert json.loads(got)["crc"] == zlib.crc32(body)
        status, _, got = r.response()
        assert status == 200 and "peak_rss_kib" in json.loads(got)
        status, _, got = r.response()
        assert status == 200 and json.loads(got)["n"] == 3


def test_streaming_mark() -> None:
    async def only_request(request: Request) -> None:
        request.stream()

    async def with_query(request: Request, q: str = "", n: int = 0) -> None:
        request.stream()

    async def with_body(request: Request, item: dict) -> None:  # type: ignore[type-arg]
        request.stream()

    async def with_body_param(request: Request, x: int = Body()) -> None:
        request.stream()

    async def with_dep(request: Request, d: int = Depends(lambda: 1)) -> None:
        request.stream()

    async def no_request(q: str = "") -> None:
        pass

    async def annotated_body(request: Request, x: Annotated[int, Body()]) -> None:
        request.stream()

    async def annotated_query(request: Request, x: Annotated[int, Query()] = 0) -> None:
        request.stream()

    async def reads_json(request: Request) -> None:  # needs the whole body: stays buffered
        request.json()

    def mark(fn: Any) -> bool:
        return streams_body(Route("/x", fn, methods=["POST"]))

    assert mark(only_request) and mark(with_query)
    assert not mark(with_body) and not mark(with_body_param)
    assert not mark(with_dep) and not mark(no_request)
    assert not mark(annotated_body) and mark(annotated_query)
    assert not mark(reads_json)


def test_starlette_app_reads_request_stream(starlette_server: Server) -> None:
    import json

    with starlette_server.connect() as s:
        crc = post_streamed(s, "/upload", 8, chunked=False)
        status, _, body = Reader(s).response()
        assert status == 200, body
        got = json.loads(body)
        assert got["n"] == 8 * MiB and got["crc"] == crc and got["chunks"] > 1
        crc = post_streamed(s, "/upload", 8, chunked=True)
        status, _, body = Reader(s).response()
        assert status == 200, body
        assert json.loads(body)["crc"] == crc


def test_asgi_more_body_messages(starlette_server: Server) -> None:
    import json

    with starlette_server.connect() as s:
        post_streamed(s, "/messages", 4, chunked=True)
        status, _, body = Reader(s).response()
    assert status == 200, body
    got = json.loads(body)
    assert got["more_body_count"] >= 2
    assert got["messages"] == got["more_body_count"] + 1
