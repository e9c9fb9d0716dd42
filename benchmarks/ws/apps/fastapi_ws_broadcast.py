"""FastAPI peer for the broadcast benchmark (served by uvicorn): the same room, sending to
each member in turn, as FastAPI's docs' ConnectionManager does.

Run: uvicorn --ws websockets benchmarks.ws.apps.fastapi_ws_broadcast:app
"""

from __future__ import annotations

import time

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
room: set[WebSocket] = set()


@app.websocket("/sub")
async def sub(websocket: WebSocket) -> None:
    await websocket.accept()
    room.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        room.discard(websocket)


@app.post("/publish")
async def publish(count: int, size: int) -> dict[str, float]:
    payload = "x" * size
    started = time.perf_counter()
    for _ in range(count):
        for ws in list(room):
            await ws.send_text(payload)
    return {"sockets": len(room), "seconds": time.perf_counter() - started}
