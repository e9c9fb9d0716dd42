"""FastAPI peer for the WebSocket echo benchmark (served by uvicorn or granian): the same
echo as examples/ws_echo.py, written the FastAPI way.

Run: uvicorn --ws websockets benchmarks.ws.apps.fastapi_ws_echo:app  (or granian --interface asgi)
"""

from __future__ import annotations

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is not None:
                await websocket.send_text(text)
            else:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        pass
