"""An unchanged FastAPI app (real fastapi imports), served by FasterAPI's ASGI mode in the
tests. On lifespan shutdown it writes the file named by FA_ASGI_SHUTDOWN_FILE, if set."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

stream_closed: list[str] = []  # filled when a streaming generator ends (in-process tests)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
    yield {"greeting": "hello from lifespan"}
    marker = os.environ.get("FA_ASGI_SHUTDOWN_FILE")
    if marker:
        with open(marker, "w") as f:
            f.write("shutdown")


app = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.get("/sync")
def sync_route() -> dict[str, bool]:
    return {"sync": True}


@app.get("/scope")
async def scope(request: Request) -> dict[str, object]:
    s = request.scope
    return {
        "greeting": request.state.greeting,
        "root_path": s["root_path"],
        "path": s["path"],
        "http_version": s["http_version"],
        "headers_are_bytes": all(isinstance(k, bytes) for k, _ in s["headers"]),
        "url": str(request.url),
        "echo": request.headers.get("x-echo"),
    }


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


@app.get("/missing")
async def missing() -> None:
    raise HTTPException(status_code=404, detail="no such thing", headers={"x-why": "test"})


@app.get("/cookie")
async def cookie() -> StreamingResponse:
    from fastapi.responses import JSONResponse

    r = JSONResponse({"ok": True})
    r.set_cookie("a", "1")
    r.set_cookie("b", "2")
    return r  # type: ignore[return-value]


@app.get("/stream")
async def stream(n: int = 5) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        try:
            for i in range(n):
                yield f"line {i}\n"
                await asyncio.sleep(0)
        finally:
            stream_closed.append("lines")

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/endless")
async def endless() -> StreamingResponse:
    chunk = b"z" * (1 << 16)

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield chunk
                await asyncio.sleep(0)
        finally:
            stream_closed.append("endless")

    return StreamingResponse(forever(), media_type="application/octet-stream")
