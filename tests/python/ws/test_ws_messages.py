"""Messages through the C++ WebSocket and the Python WebSocket API, with the `websockets`
package as the client: text, binary, JSON, the ASGI-style receive(), iterators, big
messages, with and without permessage-deflate."""

from __future__ import annotations

import json
import os

import pytest
from conftest import require_module
from ws_helpers import connect, serve

from fasterapi import App, WebSocket, WebSocketDisconnect

require_module("websockets")


def echo_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for item in websocket.iter_json():
            await websocket.send_json({"got": item})

    @app.websocket("/json-binary")
    async def json_binary(websocket: WebSocket) -> None:
        await websocket.accept()
        item = await websocket.receive_json(mode="binary")
        await websocket.send_json({"got": item}, mode="binary")

    @app.websocket("/kinds")
    async def kinds(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        data = await websocket.receive_bytes()
        await websocket.send_text(f"{type(text).__name__}:{text}")
        await websocket.send_text(f"{type(data).__name__}:{data.hex()}")
        try:
            await websocket.receive_text()  # a binary message here is the caller's mistake
        except TypeError as e:
            await websocket.send_text(f"TypeError:{e}")

    @app.websocket("/iter")
    async def iterate(websocket: WebSocket) -> None:
        await websocket.accept()
        seen = [text async for text in websocket.iter_text()]
        # The peer closed: iter_text ended without raising; nothing can be sent any more.
        assert websocket.client_state.name == "DISCONNECTED"
        websocket.app.state.iterated = seen

    return app


@pytest.mark.parametrize("compression", ["deflate", None])
def test_echo_text_and_binary(compression: str | None) -> None:
    with serve(echo_app()) as client, connect(client, "/echo", compression=compression) as ws:
        for text in ["hello", "", "héllo wörld ✓ 🎉", "x" * 70_000]:
            ws.send(text)
            assert ws.recv() == text
        for data in [b"\x00\x01\xff", b"", os.urandom(200_000)]:
            ws.send(data)
            got = ws.recv()
            assert isinstance(got, bytes) and got == data
        if compression:
            assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")


def test_empty_message_after_a_compressed_one() -> None:
    """Empty messages between compressed ones (context takeover): each arrives, and the next
    compressed message still inflates. (An empty message sent compressed must be the single
    byte 0x00, RFC 7692 §7.2.3.6; an empty RSV1 payload breaks the client's inflater with
    "invalid stored block lengths". The Python API sends empty messages uncompressed.)"""
    with serve(echo_app()) as client, connect(client, "/echo", compression="deflate") as ws:
        for text in ["a", "", "b", "", "", "c"]:
            ws.send(text)
            assert ws.recv() == text


def test_json_text_and_binary_modes() -> None:
    with serve(echo_app()) as client:
        with connect(client, "/json") as ws:
            for item in [{"a": 1}, [1, "two", None], "ü", 3.5]:
                ws.send(json.dumps(item))
                assert json.loads(ws.recv()) == {"got": item}
        with connect(client, "/json-binary") as ws:
            ws.send(json.dumps({"k": [1, 2]}).encode())
            got = ws.recv()
            assert isinstance(got, bytes)
            assert json.loads(got) == {"got": {"k": [1, 2]}}


def test_receive_text_and_bytes_types() -> None:
    with serve(echo_app()) as client, connect(client, "/kinds") as ws:
        ws.send("abc")
        ws.send(b"\x01\x02")
        assert ws.recv() == "str:abc"
        assert ws.recv() == "bytes:0102"
        ws.send(b"\x00")
        assert ws.recv().startswith("TypeError:expected a text message, got a binary message")


def test_iter_text_ends_on_disconnect() -> None:
    app = echo_app()
    with serve(app) as client:
        with connect(client, "/iter") as ws:
            for i in range(5):
                ws.send(f"m{i}")
        from ws_helpers import wait_until

        wait_until(lambda: getattr(app.state, "iterated", None), what="the handler to finish")
    assert app.state.iterated == [f"m{i}" for i in range(5)]


@pytest.mark.parametrize("compression", ["deflate", None])
def test_big_messages(compression: str | None) -> None:
    big_text = "ab✓" * (4 * 1024 * 1024 // 3)
    big_bin = os.urandom(8 * 1024 * 1024)
    with serve(echo_app()) as client, connect(client, "/echo", compression=compression) as ws:
        ws.send(big_text)
        assert ws.recv() == big_text
        ws.send(big_bin)
        assert ws.recv() == big_bin


def test_message_over_the_limit_closes_1009() -> None:
    from websockets.exceptions import ConnectionClosed

    with serve(echo_app()) as client, connect(client, "/echo", max_size=None) as ws:
        ws.send(b"x" * (16 * 1024 * 1024 + 1))  # the default max_message_bytes is 16 MiB
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_many_messages_in_order() -> None:
    with serve(echo_app()) as client, connect(client, "/echo") as ws:
        for i in range(2000):
            ws.send(f"n{i}")
        assert [ws.recv() for _ in range(2000)] == [f"n{i}" for i in range(2000)]


def test_websocket_disconnect_is_exported_like_fastapi() -> None:
    import fasterapi.websockets as mod

    e = WebSocketDisconnect(4000, "bye")
    assert (e.code, e.reason) == (4000, "bye")
    assert WebSocketDisconnect().code == 1000 and WebSocketDisconnect().reason == ""
    assert {s.name for s in mod.WebSocketState} == {
        "CONNECTING",
        "CONNECTED",
        "DISCONNECTED",
        "RESPONSE",
    }


def test_concurrent_receivers_each_get_a_message() -> None:
    import asyncio

    app = App()

    @app.websocket("/two")
    async def two(websocket: WebSocket) -> None:
        await websocket.accept()
        got = await asyncio.gather(websocket.receive_text(), websocket.receive_text())
        await websocket.send_text(",".join(sorted(got)))

    with serve(app) as client, connect(client, "/two") as ws:
        ws.send("a")
        ws.send("b")
        assert ws.recv(timeout=10) == "a,b"
