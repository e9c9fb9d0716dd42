"""A client that goes away in the middle of a large streamed response: the producer is told
(its generator is closed), nothing is logged as a server error, and the server keeps serving."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time

import pytest
from conftest import transport_specific

from fasterapi import App, Request
from fasterapi.responses import StreamingResponse
from fasterapi.testing import TestClient

pytestmark = transport_specific(
    "raw TCP sockets that leave (RST, half-close) mid-response",
    only=("tls",),
)


def test_client_gone_mid_stream_closes_the_generator(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    closed: list[int] = []
    chunk = b"z" * (1 << 20)

    @app.get("/big-stream")
    async def big_stream(req, res):
        async def parts():
            try:
                for _ in range(1000):  # 1 GB: far more than any socket buffer
                    yield chunk
                    await asyncio.sleep(0)
            finally:
                closed.append(1)

        return StreamingResponse(parts(), media_type="application/octet-stream")

    @app.get("/ok")
    def ok(req, res):
        return {"ok": True}

    with caplog.at_level(logging.ERROR, logger="fasterapi.error"), TestClient(app) as c:
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
                s.sendall(b"GET /big-stream HTTP/1.1\r\nHost: x\r\n\r\n")
                got = 0
                while got < 4 << 20:  # read some, then vanish with the rest unread
                    got += len(s.recv(1 << 16))
                # RST, not FIN: the server's next send fails inside write(), the case where
                # the producer then waits for a drain on a response that is already gone.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 10
        while len(closed) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get("/ok").json() == {"ok": True}
    assert len(closed) == 20
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_on_drain_of_a_finished_response_calls_back_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A producer that asks for a drain when its response is already over (the peer reset the
    connection inside write()) is woken at once — it used to get RuntimeError: bad_cast."""
    from fasterapi import _dispatch

    outcome: list[object] = []

    async def stream_then_ask_for_drain(iterator: object, responder: object) -> None:
        r: object = responder
        r.end()  # type: ignore[attr-defined]
        woke: list[bool] = []
        try:
            r.on_drain(lambda: woke.append(True))  # type: ignore[attr-defined]
        except Exception as e:
            outcome.append(e)
        else:
            outcome.append(woke)

    monkeypatch.setattr(_dispatch, "_stream", stream_then_ask_for_drain)
    app = App()

    @app.get("/s")
    def s(req, res):
        return StreamingResponse(iter([b"x"]))

    with TestClient(app) as c:
        assert c.get("/s").status_code == 200
    assert outcome == [[True]]


@pytest.mark.parametrize("path", ["/slow-stream", "/file"])
def test_half_closed_client_mid_stream_does_not_leak_the_connection(
    path: str, tmp_path: pytest.TempPathFactory
) -> None:
    """A client that sends FIN (shutdown of its write side) and stops reading in the middle of
    a stream: the producer stops and the server closes the connection (it stayed in
    CLOSE_WAIT forever, one fd each — found by the soak)."""
    from fasterapi.responses import FileResponse

    app = App()
    big = tmp_path / "big.bin"  # type: ignore[operator]
    big.write_bytes(b"f" * (64 << 20))

    @app.get("/slow-stream")
    async def slow_stream(req, res):
        async def parts():
            for _ in range(200):
                yield b"s" * 65536
                await asyncio.sleep(0.005)

        return StreamingResponse(parts())

    @app.get("/file")
    def file(req, res):
        return FileResponse(str(big))

    with TestClient(app) as c:
        server = None
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", c.port), timeout=10)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            s.shutdown(socket.SHUT_WR)  # FIN: the server sees the client go away
            time.sleep(0.3)  # reads nothing meanwhile; then drains what was sent
            server = s
            deadline = time.monotonic() + 10
            head = b""
            while time.monotonic() < deadline:  # the server closes: EOF (or a reset)
                try:
                    data = s.recv(1 << 20)
                except ConnectionResetError:
                    break
                if not data:
                    break
                head = head or data[:12]
            else:
                pytest.fail(f"{path}: the server kept the half-closed connection open")
            s.close()
            assert head == b"HTTP/1.1 200"
        assert server is not None
        assert c.get("/slow-stream").status_code == 200


def test_is_disconnected_turns_true_when_the_client_leaves() -> None:
    """`await request.is_disconnected()` (Starlette's): False while the client is there, True
    once it closed its side, so a handler that polls it stops working for nobody."""
    app = App()
    seen: list[bool] = []

    @app.get("/ok")
    def ok(req, res):
        return {"ok": True}

    @app.get("/wait")
    async def wait(request: Request):
        seen.append(await request.is_disconnected())
        for _ in range(1000):  # 10 s at most
            if await request.is_disconnected():
                seen.append(True)
                break
            await asyncio.sleep(0.01)
        return {"left": seen[-1]}

    with TestClient(app) as c:
        with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
            s.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            deadline = time.monotonic() + 10
            while not seen and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)
            s.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 10
            while len(seen) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert seen == [False, True]
        assert c.get("/ok").json() == {"ok": True}  # still serving


def test_hangup_callback_runs_when_the_client_half_closes() -> None:
    """Request.add_hangup_callback(fn): fn() runs once the client closes its side while the
    response is pending; the response still goes out to it (RFC 9112 §9.6). Registered on an
    exchange that is over, it says False."""
    app = App()
    late: list[bool] = []

    @app.get("/wait")
    async def wait(request: Request):
        left = asyncio.Event()
        assert request.add_hangup_callback(left.set) is True
        await asyncio.wait_for(left.wait(), 10)
        request.add_done_callback(lambda: late.append(request.add_hangup_callback(print)))
        return {"left": True}

    with TestClient(app) as c:
        with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
            s.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.1)
            s.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data
        assert data.endswith(b'{"left":true}'), data
        deadline = time.monotonic() + 5
        while not late and time.monotonic() < deadline:
            time.sleep(0.01)
        assert late == [False]
