"""A FasterAPI app whose endpoints read the body with request.stream() (a streaming route),
for tests/python/test_request_stream.py."""

from __future__ import annotations

import zlib
from typing import Any

from fasterapi import App, Request
from fasterapi.requests import ClientDisconnect

app = App(max_body_bytes=512 * 1024 * 1024)
STATE: dict[str, Any] = {}


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


@app.post("/stream")
async def stream(request: Request) -> dict[str, Any]:
    n = chunks = 0
    crc = 0
    async for chunk in request.stream():
        if chunk:
            n += len(chunk)
            chunks += 1
            crc = zlib.crc32(chunk, crc)
    return {"n": n, "crc": crc, "chunks": chunks, "streamed": request.body_streamed}


@app.post("/collect")
async def collect(request: Request) -> dict[str, Any]:
    body = await request.body()
    again = b"".join([chunk async for chunk in request.stream()])  # the collected body
    return {
        "n": len(body),
        "crc": zlib.crc32(body),
        "streamed": request.body_streamed,
        "again": again == body,
        "json_len": len(request.json()) if request.query_params.get("json") else 0,
    }


@app.post("/leave")
async def leave(request: Request) -> dict[str, Any]:
    n = 0
    try:
        async for chunk in request.stream():
            n += len(chunk)
    except ClientDisconnect as e:
        STATE["left"] = {"n": n, "reason": str(e)}
    return {}


@app.get("/state")
def state() -> dict[str, Any]:
    return {**STATE, "peak_rss_kib": peak_rss_kib()}
