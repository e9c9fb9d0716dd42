"""ASGI mode's websocket scope: `fasterapi run module:app` with an unchanged FastAPI app whose
routes include WebSockets, served on the engine's C++ WebSocket; the `websockets` package is
the client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import websockets
from serve_cli import CliServer
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def server() -> Iterator[CliServer]:
    s = CliServer("asgi_ws_app:app")
    yield s
    s.stop()


def ws_url(server: CliServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_echo_text_and_binary_and_client_close(server: CliServer) -> None:
    async def go() -> None:
        async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
            await ws.send("hi")
            assert await ws.recv() == "echo:hi"
            await ws.send(b"abc")
            assert await ws.recv() == b"cba"
            big = "x" * 300_000  # several frames' worth, one message
            await ws.send(big)
            assert await ws.recv() == "echo:" + big
            await ws.close(code=4321)

    run(go())
    with httpx.Client(base_url=server.url, timeout=10) as c:
        for _ in range(50):  # the app sees the disconnect after the close handshake
            if 4321 in c.get("/ws/closed").json():
                break
            asyncio.run(asyncio.sleep(0.05))
        assert 4321 in c.get("/ws/closed").json()


def test_http_get_on_the_same_path_is_still_http(server: CliServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.get("/ws/echo")
    assert (r.status_code, r.json()) == (200, {"http": "same path as the websocket route"})


def test_scope_params_subprotocol_state_and_close_code(server: CliServer) -> None:
    async def go() -> None:
        async with websockets.connect(
            ws_url(server, "/ws/info/lobby?token=t1"),
            subprotocols=["chat.v2"],  # type: ignore[list-item]
            additional_headers={"X-Test": "yes"},
        ) as ws:
            assert ws.subprotocol == "chat.v2"
            got = json.loads(await ws.recv())
            assert got == {
                "room": "lobby",
                "token": "t1",
                "path": "/ws/info/lobby",
                "header": "yes",
                "state": "hello from lifespan",
                "scheme": "ws",
            }
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "bye")

    run(go())


def test_refused_before_accept_is_403(server: CliServer) -> None:
    async def go() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(ws_url(server, "/ws/deny")):
                pass
        assert refused.value.response.status_code == 403

    run(go())


def test_unknown_websocket_path_is_refused(server: CliServer) -> None:
    async def go() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(ws_url(server, "/nowhere")):
                pass
        assert refused.value.response.status_code == 403  # Starlette closes: no route

    run(go())


def test_app_error_after_accept_closes_1011_and_server_keeps_serving(server: CliServer) -> None:
    async def go() -> None:
        async with websockets.connect(ws_url(server, "/ws/boom")) as ws:
            await ws.send("go")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
        async with websockets.connect(ws_url(server, "/ws/echo")) as ws:
            await ws.send("still")
            assert await ws.recv() == "echo:still"

    run(go())


def test_app_that_returns_closes_1000(server: CliServer) -> None:
    async def go() -> None:
        async with websockets.connect(ws_url(server, "/ws/done")) as ws:
            assert await ws.recv() == "one"
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000

    run(go())


def raw_get(server: CliServer, path: str, headers: str) -> bytes:
    """The head of the answer to a GET with these header lines."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data and (chunk := s.recv(65536)):
            data += chunk
        return data


def test_only_a_websocket_upgrade_leaves_the_http_route(server: CliServer) -> None:
    # Another protocol in Upgrade is plain HTTP for the app (RFC 9110 §7.8: may be ignored).
    r = raw_get(server, "/ws/echo", "Upgrade: h2c\r\nConnection: close\r\n")
    assert r.startswith(b"HTTP/1.1 200"), r
    # A websocket upgrade with a broken handshake gets the engine's answers (RFC 6455 §4.2.1):
    # no Sec-WebSocket-Key is 400, no Connection: upgrade is 426.
    r = raw_get(server, "/ws/echo", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Version: 13\r\n")
    assert r.startswith(b"HTTP/1.1 400"), r
    r = raw_get(server, "/ws/echo", "Upgrade: websocket\r\nConnection: close\r\n")
    assert r.startswith(b"HTTP/1.1 426"), r


def test_mounted_asgi_app_serves_websockets_under_its_prefix() -> None:
    import threading

    from asgi_ws_app import app as fastapi_app

    from fasterapi import App
    from fasterapi.testing import TestClient

    parent = App()
    parent.mount("/sub", fastapi_app)
    with TestClient(parent) as c:
        url = str(c.base_url).replace("http", "ws", 1) + "/sub/ws/echo"  # wss:// over TLS
        tls = {"ssl": c._ssl_context()} if url.startswith("wss:") else {}

        async def go() -> str:
            async with websockets.connect(url, **tls) as ws:
                await ws.send("mounted")
                return str(await ws.recv())

        got: list[str] = []
        t = threading.Thread(target=lambda: got.append(asyncio.run(go())))
        t.start()
        t.join(20)
    assert got == ["echo:mounted"]
