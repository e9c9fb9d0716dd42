"""The app the HTTP/2 tests serve: `python h2_app.py PORT '{app.run settings}'`. Seed-style
(req, res) handlers, FastAPI-style typed handlers, a request body, a stream and a slow async
handler (to hold streams open), as any HTTP/1.1 client would use them."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator

from pydantic import BaseModel

from fasterapi import App, Request, StreamingResponse, WebSocket

app = App()
late_pushes: list[bool] = []  # send_push_promise after the response (/pushing-streamed)
finished_streams = 0  # /stream generators closed (done, or their stream went away)


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
def hello(req, res):  # type: ignore[no-untyped-def]  # the seed's style, verbatim
    return {"message": "Hello, World!"}


@app.get("/users/{user_id}")
async def get_user(req, res):  # type: ignore[no-untyped-def]
    return {"id": req.path_params["user_id"], "name": "John Doe"}


@app.get("/items/{item_id}")
def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@app.post("/items")
def create_item(item: Item) -> Item:
    return item


@app.post("/echo")
def echo(request: Request) -> bytes:
    return bytes(request.body)


@app.get("/headers")
def headers(request: Request) -> dict[str, str | None]:
    return {"host": request.headers.get("host"), "x-test": request.headers.get("x-test")}


@app.get("/stream")
def stream(n: int = 5, size: int = 10) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        global finished_streams
        try:
            for i in range(n):
                yield str(i).encode() * size
                await asyncio.sleep(0)
        finally:
            finished_streams += 1

    return StreamingResponse(parts(), media_type="text/plain")


@app.get("/hinted")
async def hinted(request: Request) -> dict[str, bool]:
    """103 Early Hints while the answer is being made (RFC 8297)."""
    sent = request.send_early_hints(
        "</style.css>; rel=preload; as=style", "<https://cdn.example>; rel=preconnect"
    )
    await asyncio.sleep(0.05)
    return {"sent": sent}


@app.get("/hinted-late")
def hinted_late(request: Request) -> StreamingResponse:
    """Hints after the response has started are refused."""

    async def parts() -> AsyncIterator[bytes]:
        yield str(request.send_early_hints("</late.css>; rel=preload")).encode()

    return StreamingResponse(parts(), media_type="text/plain")


@app.get("/pushing")
async def pushing(request: Request) -> dict[str, list[bool]]:
    """HTTP/2 server push (RFC 9113 §8.4): Starlette's awaited spelling and a plain call."""
    first = await request.send_push_promise("/items/7?q=pushed")
    second = request.send_push_promise("/pushed-request")
    await asyncio.sleep(0.01)
    return {"sent": [bool(first), bool(second)]}


@app.get("/pushing-slow")
def pushing_slow(request: Request) -> dict[str, bool]:
    """Pushes a response that takes a while (for a client that refuses it)."""
    return {"sent": bool(request.send_push_promise("/slow?seconds=0.5"))}


@app.get("/pushed-request")
def pushed_request(request: Request) -> dict[str, str | None]:
    """What a promised request carries: the fields copied from the one that pushed it."""
    names = ("host", "user-agent", "accept-encoding", "cookie")
    return {n: request.headers.get(n) for n in names} | {"version": request.http_version}


@app.get("/pushing-streamed")
def pushing_streamed(request: Request) -> StreamingResponse:
    """A push while the response streams goes (its stream is still open, §8.4); one after the
    response was sent is refused (recorded for /late-push)."""

    def after() -> None:
        late_pushes.append(bool(request.send_push_promise("/items/9")))

    request.add_done_callback(after)

    async def parts() -> AsyncIterator[bytes]:
        yield str(bool(request.send_push_promise("/items/8"))).encode()

    return StreamingResponse(parts(), media_type="text/plain")


@app.get("/late-push")
def late_push() -> dict[str, list[bool]]:
    return {"sent": late_pushes}


@app.get("/finished-streams")
def finished() -> dict[str, int]:
    return {"count": finished_streams}


@app.get("/slow")
async def slow(seconds: float = 0.5) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    """Each message back as it came (WebSocket over h2: RFC 8441)."""
    offered = websocket.subprotocols
    await websocket.accept(subprotocol=offered[0] if offered else None)
    while True:
        msg = await websocket.receive()
        if msg["type"] == "websocket.disconnect":
            return
        if msg.get("text") is not None:
            await websocket.send_text(msg["text"])
        else:
            await websocket.send_bytes(msg["bytes"])


@app.get("/both")
def both_http() -> dict[str, str]:
    return {"via": "http"}


@app.websocket("/both")
async def both_ws(websocket: WebSocket) -> None:
    """A GET and a WebSocket route on one path (one combined engine route)."""
    await websocket.accept()
    await websocket.send_text("via websocket")
    await websocket.close()


@app.websocket("/ws-refuse")
async def ws_refuse(websocket: WebSocket) -> None:
    await websocket.close()  # before accept: 403


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), **json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))
