"""Pipelined requests behind every kind of response: each is answered, in order, by its own
handler in its own context — also when the response before it was finished later by a Task
(an awaiting handler, a streamed body, a file)."""

from __future__ import annotations

import asyncio
import contextvars
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import transport_specific

from fasterapi import App
from fasterapi.responses import FileResponse, StreamingResponse
from fasterapi.testing import TestClient

pytestmark = transport_specific("HTTP/1.1 pipelining written on raw TCP sockets", only=("tls",))

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="fresh")


def make_app(tmp: Path) -> App:
    app = App()
    file = tmp / "file.txt"
    file.write_bytes(b"F" * 100_000)

    @app.get("/fast")
    def fast(req, res):
        return {"fast": seen.get()}

    @app.get("/afast")
    async def afast(req, res):
        return {"afast": seen.get()}

    @app.get("/slow")
    async def slow(req, res):
        seen.set("slow-leaked")
        await asyncio.sleep(0.01)
        return {"slow": True}

    @app.get("/stream")
    async def stream(req, res):
        seen.set("stream-leaked")

        async def parts():
            for i in range(5):
                await asyncio.sleep(0.001)
                yield f"{i};"

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/sync-stream")
    def sync_stream(req, res):
        return StreamingResponse(iter([b"a", b"b", b"c"]), media_type="text/plain")

    @app.get("/file")
    def get_file(req, res):
        return FileResponse(str(file))

    return app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path_factory.mktemp("pipe"))) as c:
        yield c


def read_responses(sock: socket.socket, n: int) -> list[tuple[int, bytes]]:
    """Reads n responses (Content-Length or chunked) from sock."""
    buf = b""
    out: list[tuple[int, bytes]] = []

    def fill() -> None:
        nonlocal buf
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(out)} responses: {buf[:200]!r}"
        buf += chunk

    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            fill()
        head, buf = buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ")[1])
        headers = dict(
            (k.strip().lower(), v.strip())
            for k, v in (line.split(b":", 1) for line in head.split(b"\r\n")[1:])
        )
        if b"content-length" in headers:
            size = int(headers[b"content-length"])
            while len(buf) < size:
                fill()
            body, buf = buf[:size], buf[size:]
        else:
            assert headers.get(b"transfer-encoding") == b"chunked", head
            body = b""
            while True:
                while b"\r\n" not in buf:
                    fill()
                line, rest = buf.split(b"\r\n", 1)
                size = int(line, 16)
                while len(rest) < size + 2:
                    fill()
                    line, rest = buf.split(b"\r\n", 1)
                body += rest[:size]
                buf = rest[size + 2 :]
                if size == 0:
                    break
        out.append((status, body))
    return out


@pytest.mark.parametrize("first", ["/slow", "/stream", "/sync-stream", "/file"])
@pytest.mark.parametrize("then", ["/fast", "/afast"])
def test_request_pipelined_behind_deferred_response(
    client: TestClient, first: str, then: str
) -> None:
    paths = [first, then, first, then]
    data = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths)
    with socket.create_connection(("127.0.0.1", client.port), timeout=10) as s:
        s.sendall(data)
        got = read_responses(s, len(paths))
    assert [status for status, _ in got] == [200] * len(paths)
    key = then.lstrip("/")
    # Each pipelined handler sees a fresh context: nothing leaks from the one before it.
    assert got[1][1] == b'{"%s":"fresh"}' % key.encode()
    assert got[3][1] == got[1][1]
    if first == "/stream":
        assert got[0][1] == b"0;1;2;3;4;"
    if first == "/file":
        assert got[0][1] == b"F" * 100_000


def test_many_pipelined_behind_streams_in_order(client: TestClient) -> None:
    paths = ["/stream", "/fast", "/slow", "/afast", "/sync-stream"] * 10
    data = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths)
    with socket.create_connection(("127.0.0.1", client.port), timeout=10) as s:
        s.sendall(data)
        got = read_responses(s, len(paths))
    expected = {
        "/stream": b"0;1;2;3;4;",
        "/fast": b'{"fast":"fresh"}',
        "/slow": b'{"slow":true}',
        "/afast": b'{"afast":"fresh"}',
        "/sync-stream": b"abc",
    }
    assert [body for _, body in got] == [expected[p] for p in paths]
