"""Records the requests ASGI mode's native path for FastAPI routes hands to the route's own
FastAPI handler (fasterapi/asgi/fastapi_native.fall_back). A handed-over request answers as
FastAPI does, so comparing answers alone cannot tell one the native path mishandled."""

from __future__ import annotations

from typing import Any

import pytest

from fasterapi.asgi import fastapi_native


def record_hand_overs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, every handed-over request's "path?query" is appended to the list."""
    handed_over: list[str] = []
    fall_back = fastapi_native.fall_back

    async def recording(original: Any, scope: Any, receive: Any, send: Any) -> None:
        handed_over.append(scope["path"] + "?" + scope["query_string"].decode())
        await fall_back(original, scope, receive, send)

    monkeypatch.setattr(fastapi_native, "fall_back", recording)
    return handed_over
