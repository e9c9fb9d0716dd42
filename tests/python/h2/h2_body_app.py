"""The app of test_h2_body_stream.py: `python h2_body_app.py PORT`. Endpoints that read the
request body as it arrives (`request.stream()`, and a raw ASGI app's `receive()` mounted at
/asgi), over HTTP/2 as over HTTP/1.1."""

from __future__ import annotations

import sys
import zlib
from typing import Any

from fasterapi import App, Request
from fasterapi.requests import ClientDisconnect

app = App(max_body_bytes=64 * 1024 * 1024)
STATE: dict[str, Any] = {}


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


@app.post("/stream")
async def stream(request: Request) -> dict[str, Any]:
    n = chunks = crc = largest = 0
    async for chunk in request.stream():
        if chunk:
            n += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
            crc = zlib.crc32(chunk, crc)
    return {
        "n": n,
        "crc": crc,
        "chunks": chunks,
        "largest": largest,
        "streamed": request.body_streamed,
        "version": request.http_version,
    }


@app.post("/first")
async def first(request: Request) -> dict[str, Any]:
    """Answers after the first chunk: proof that the body is handed over as it comes."""
    async for chunk in request.stream():
        return {"first": len(chunk), "streamed": request.body_streamed}
    return {"first": 0, "streamed": request.body_streamed}


@app.post("/leave")
async def leave(request: Request) -> dict[str, Any]:
    n = 0
    try:
        async for chunk in request.stream():
            n += len(chunk)
    except ClientDisconnect as e:
        STATE["left"] = {"n": n, "reason": str(e)}
    return {}


@app.post("/whole")
async def whole(request: Request) -> dict[str, Any]:
    """Reads the body whole (request.body() only: not a streaming route), for comparison."""
    body = await request.body()
    return {"n": len(body), "crc": zlib.crc32(body), "streamed": request.body_streamed}


@app.get("/state")
def state() -> dict[str, Any]:
    return {**STATE, "peak_rss_kib": peak_rss_kib()}


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app: counts the http.request messages of the body, answers after the first
    one when the path ends in /first."""
    messages = more = n = 0
    crc = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            STATE["asgi_disconnect"] = n
            return
        messages += 1
        more += bool(message.get("more_body"))
        n += len(message["body"])
        crc = zlib.crc32(message["body"], crc)
        if not message.get("more_body") or scope["path"].endswith("/first"):
            break
    body = (
        f'{{"messages": {messages}, "more_body": {more}, "n": {n}, "crc": {crc}, '
        f'"version": "{scope["http_version"]}"}}'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


app.mount("/asgi", asgi_app)


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]))
