"""FasterAPI app for the broadcast benchmark: WebSocket /sub joins the room; POST
/publish?count=K&size=S sends K text messages of S bytes to every member with
fasterapi.websockets.broadcast (encoded once per message) and answers how long it took.

Run: python3 benchmarks/ws/apps/fasterapi_ws_broadcast.py --port 8000
"""

from __future__ import annotations

import argparse
import time

from fasterapi import App, WebSocket
from fasterapi.websockets import broadcast

app = App()
room: set[WebSocket] = set()


@app.websocket("/sub")
async def sub(websocket: WebSocket) -> None:
    await websocket.accept()
    room.add(websocket)
    try:
        async for _ in websocket.iter_text():
            pass
    finally:
        room.discard(websocket)


@app.post("/publish")
async def publish(count: int, size: int) -> dict[str, float]:
    payload = "x" * size
    started = time.perf_counter()
    for _ in range(count):
        await broadcast(room, payload)
    return {"sockets": len(room), "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    app.run(port=parser.parse_args().port)
