"""An unchanged Starlette app reading request.stream(), served in ASGI mode."""

from __future__ import annotations

import zlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def upload(request: Request) -> JSONResponse:
    n = chunks = crc = 0
    async for chunk in request.stream():
        if chunk:
            n += len(chunk)
            chunks += 1
            crc = zlib.crc32(chunk, crc)
    return JSONResponse({"n": n, "crc": crc, "chunks": chunks})


async def messages(request: Request) -> JSONResponse:
    more = []
    while True:
        message = await request.receive()
        more.append(message.get("more_body", False))
        if not message.get("more_body"):
            break
    return JSONResponse({"messages": len(more), "more_body_count": sum(more)})


app = Starlette(
    routes=[
        Route("/upload", upload, methods=["POST"]),
        Route("/messages", messages, methods=["POST"]),
    ]
)
