"""Bare ASGI apps exercising the lifespan protocol's edges (ASGI lifespan spec 2.0)."""

from __future__ import annotations

from typing import Any


async def _hello(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"up"})


async def startup_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Refuses to start: the server must not serve."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
        return
    await _hello(send)


async def no_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raises on the lifespan scope (spec: the server then serves without lifespan)."""
    if scope["type"] != "http":
        raise RuntimeError("lifespan not supported")
    await _hello(send)
