"""The event loop's backend (epoll or io_uring) chosen by App(loop=...), `--loop` and
FASTERAPI_LOOP, and HTTP served on each: scripts/test.sh runs the HTTP-focused files again with
FASTERAPI_LOOP=uring, and test_the_suite_loop_is_in_effect fails if that run was not on the ring.
This machine's kernel allows io_uring: a request for it that silently gives epoll fails here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from conftest import transport_specific

from fasterapi import App, Request, _native
from fasterapi._loops import native_loop
from fasterapi.responses import Response
from fasterapi.testing import TestClient

SUITE_LOOP = os.environ.get("FASTERAPI_LOOP", "epoll")


def engine_on_ring(client: TestClient) -> bool:
    """Whether the client's server runs on an io_uring ring: its own Loop's fd, not a count of
    the process's rings (another test's objects may still hold one until the collector runs)."""
    engine_loop = native_loop(client._loop)
    ring = os.readlink(f"/proc/self/fd/{engine_loop.fileno()}") == "anon_inode:[io_uring]"
    assert ring == (engine_loop.backend == "uring")
    return ring


def make_app(loop: str | None) -> App:
    app = App(loop=loop)

    @app.get("/users/{uid}")
    def user(uid: int) -> dict[str, int]:
        return {"id": uid}

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    return app


def test_native_server_reports_its_backend() -> None:
    assert _native.Server("127.0.0.1", 0, loop="epoll").loop == "epoll"
    assert _native.Server("127.0.0.1", 0, loop="uring").loop == "uring"
    assert _native.Server("127.0.0.1", 0, loop="auto").loop == "uring"
    with pytest.raises(ValueError, match="loop must be"):
        _native.Server("127.0.0.1", 0, loop="kqueue")


def test_the_suite_loop_is_in_effect() -> None:
    """FASTERAPI_LOOP reaches the engine when nothing else chooses."""
    assert _native.Server("127.0.0.1", 0).loop == ("uring" if SUITE_LOOP == "uring" else "epoll")
    with TestClient(make_app(None)) as client:
        assert client.get("/users/1").json() == {"id": 1}
        assert engine_on_ring(client) == (SUITE_LOOP == "uring")


def test_app_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="loop is"):
        App(loop="poll")


@pytest.mark.parametrize("loop", ["epoll", "uring"])
@transport_specific("HTTP/1.1 pipelining written on a raw TCP socket", only=("tls",))
def test_app_serves_pipelined_and_large_bodies(loop: str) -> None:
    with TestClient(make_app(loop)) as client:
        assert engine_on_ring(client) == (loop == "uring")
        # 32 pipelined requests in one write, answered in order.
        with socket.create_connection(("127.0.0.1", client.port)) as s:
            s.sendall(b"".join(b"GET /users/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(32)))
            data = b""
            while data.count(b"HTTP/1.1 200") < 32 or not data.endswith(b'{"id":31}'):
                chunk = s.recv(65536)
                assert chunk, "connection closed early"
                data += chunk
            bodies = [part.split(b"\r\n\r\n", 1)[1][: len(b'{"id":%d}' % i)] for i, part in
                      enumerate(data.split(b"HTTP/1.1 200 OK\r\n")[1:])]  # fmt: skip
            assert bodies == [b'{"id":%d}' % i for i in range(32)]
        body = os.urandom(3 * 1024 * 1024)
        r = client.post("/echo", content=body)
        assert r.status_code == 200
        assert r.content == body


def test_cli_names_the_flag() -> None:
    cmd = [sys.executable, "-m", "fasterapi", "run", "--help"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "--loop {auto,epoll,uring}" in out
