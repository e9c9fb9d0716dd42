"""TestClient.websocket_connect: FastAPI's testing API, over a real WebSocket."""

from __future__ import annotations

import pytest
from conftest import require_module

from fasterapi import App, WebSocket, WebSocketDisconnect
from fasterapi.testing import TestClient

require_module("websockets")


def make_app() -> App:
    app = App()

    @app.websocket("/ws/{name}")
    async def hello(websocket: WebSocket, name: str) -> None:
        await websocket.accept(
            subprotocol=websocket.subprotocols[0] if websocket.subprotocols else None,
            headers=[(b"x-hello", name.encode())],
        )
        await websocket.send_text(f"hello {name}")
        data = await websocket.receive_json()
        await websocket.send_json({"echo": data, "token": websocket.headers.get("x-token")})
        raw = await websocket.receive_bytes()
        await websocket.send_bytes(raw[::-1])
        await websocket.close(code=4100, reason="done")

    @app.websocket("/denied")
    async def denied(websocket: WebSocket) -> None:
        await websocket.close()

    return app


def test_websocket_connect_round_trip() -> None:
    with TestClient(make_app()) as client:
        with client.websocket_connect(
            "/ws/ann", subprotocols=["p1"], headers={"x-token": "t"}
        ) as ws:
            assert ws.accepted_subprotocol == "p1"
            assert (b"x-hello", b"ann") in ws.extra_headers
            assert ws.receive_text() == "hello ann"
            ws.send_json({"a": [1, 2]})
            assert ws.receive_json() == {"echo": {"a": [1, 2]}, "token": "t"}
            ws.send_bytes(b"abc")
            assert ws.receive_bytes() == b"cba"
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_text()
            assert (info.value.code, info.value.reason) == (4100, "done")


def test_websocket_connect_refused_raises_disconnect() -> None:
    with TestClient(make_app()) as client:
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/denied"):
                pass
        assert info.value.status_code == 403  # type: ignore[attr-defined]
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/missing"):
                pass
