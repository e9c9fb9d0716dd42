"""The benchmark's app, unchanged FastAPI: a typed path + query route returning JSON. Also
`raw`, a bare ASGI app answering the same JSON with no framework: what the server alone
costs per request (the server's share of the FastAPI figure)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


_BODY = b'{"item_id":1,"q":"x"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"21")]


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
