"""A real browser as the client: headless Chromium (Debian's `chromium`) loads a page from the
App, talks to it with `new WebSocket(...)` (text, binary, JSON, a 1 MiB message, a close with a
code) and POSTs what it received back to the App. scripts/test.sh sets
FASTERAPI_REQUIRE_BROWSER=1: there a missing chromium fails instead of skipping."""

from __future__ import annotations

import json
import threading
from typing import Any

from browser import find_chromium, open_page
from conftest import transport_specific
from ws_helpers import TIMEOUT, serve

from fasterapi import App, Request, WebSocket
from fasterapi.responses import HTMLResponse

pytestmark = transport_specific(
    "headless Chromium: HTTP/1.1 to http:// URLs (no h2c); does not trust the suite CA",
)

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ws</title>
<script>
const report = (data) => fetch("/report", {method: "POST", body: JSON.stringify(data)});
const got = [];
const ws = new WebSocket(`ws://${location.host}/ws/lobby?name=chromium`, ["chat.v1"]);
ws.binaryType = "arraybuffer";
ws.onopen = () => {
  ws.send("hello ✓");
  ws.send(new Uint8Array([1, 2, 3, 255]).buffer);
  ws.send(JSON.stringify({n: 42}));
  ws.send("x".repeat(1 << 20));
  ws.send("close please");
};
ws.onmessage = (e) => {
  if (typeof e.data === "string") got.push(e.data.length > 100 ? `len:${e.data.length}` : e.data);
  else got.push(`bin:${Array.from(new Uint8Array(e.data)).join(",")}`);
};
ws.onclose = (e) => report({got, code: e.code, reason: e.reason, protocol: ws.protocol,
                            extensions: ws.extensions});
ws.onerror = () => report({error: true});
</script>
"""


def test_chromium_websocket_round_trip() -> None:
    find_chromium()  # before the app: a missing browser fails in CI, skips elsewhere

    app = App()
    reported: dict[str, Any] = {}
    done = threading.Event()

    @app.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.post("/report")
    def report(req: Request) -> dict[str, bool]:
        reported.update(json.loads(req.body))
        done.set()
        return {"ok": True}

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str, name: str) -> None:
        await websocket.accept(subprotocol="chat.v1")
        await websocket.send_text(f"welcome {name} to {room}")
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"][::-1])
            elif message["text"] == "close please":
                await websocket.close(code=4321, reason="bye browser")
                return
            elif message["text"].startswith("{"):
                await websocket.send_json({"doubled": json.loads(message["text"])["n"] * 2})
            else:
                await websocket.send_text(message["text"])

    with serve(app) as client:
        open_page(f"http://127.0.0.1:{client.port}/", done, TIMEOUT * 2)

    assert reported == {
        "got": [
            "welcome chromium to lobby",
            "hello ✓",
            "bin:255,3,2,1",
            '{"doubled":84}',
            f"len:{1 << 20}",
        ],
        "code": 4321,
        "reason": "bye browser",
        "protocol": "chat.v1",
        "extensions": reported["extensions"],
    }
    assert "permessage-deflate" in reported["extensions"]  # Chromium offers it; we accept
