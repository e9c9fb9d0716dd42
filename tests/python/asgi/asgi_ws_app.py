"""An unchanged FastAPI app with WebSocket routes (real fastapi imports), served by
FasterAPI's ASGI mode in tests/python/asgi/test_asgi_websocket.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket, WebSocketDisconnect, WebSocketException, status

closed: list[int] = []  # disconnect codes seen by /ws/echo (reported by /ws/closed)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
    yield {"greeting": "hello from lifespan"}


app = FastAPI(lifespan=lifespan)


@app.get("/ws/echo")
async def plain_get() -> dict[str, str]:
    return {"http": "same path as the websocket route"}


@app.get("/ws/closed")
async def closed_codes() -> list[int]:
    return closed


@app.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                closed.append(message["code"])
                return
            if message.get("text") is not None:
                await websocket.send_text("echo:" + message["text"])
            else:
                await websocket.send_bytes(message["bytes"][::-1])
    except WebSocketDisconnect as e:
        closed.append(e.code)


@app.websocket("/ws/info/{room}")
async def info(websocket: WebSocket, room: str, token: str | None = None) -> None:
    await websocket.accept(subprotocol=(websocket.scope["subprotocols"] or [None])[0])
    await websocket.send_json(
        {
            "room": room,
            "token": token,
            "path": websocket.url.path,
            "header": websocket.headers.get("x-test"),
            "state": websocket.state.greeting,
            "scheme": websocket.url.scheme,
        }
    )
    await websocket.close(code=4001, reason="bye")


@app.websocket("/ws/deny")
async def deny(websocket: WebSocket) -> None:
    raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)


@app.websocket("/ws/boom")
async def boom(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    raise RuntimeError("boom after accept")


@app.websocket("/ws/done")
async def done(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("one")
