"""WebSocket echo: every text or binary message comes back as it was sent.

Run: python3 examples/ws_echo.py [--port 8000], then connect to ws://127.0.0.1:8000/ws
(Autobahn's fuzzing client and benchmarks/ws/bench_ws_echo.py use this app)."""

from __future__ import annotations

import argparse

from fasterapi import App, WebSocket

app = App()


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is not None:
            await websocket.send_text(text)
        else:
            await websocket.send_bytes(message["bytes"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port)
