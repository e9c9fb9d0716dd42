"""The request's HTTP version as handlers see it: "2" on an HTTP/2 stream, "1.1"/"1.0"
otherwise — on `request.http_version`, Starlette's `request.scope`, and the scope a mounted
ASGI app receives (ASGI HTTP spec: http_version is one of "1.0", "1.1", "2")."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import raw_http, require_module

from fasterapi import App, Request
from fasterapi.testing import TestClient

require_module("h2")


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = scope["http_version"].encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def make_app() -> App:
    app = App()

    @app.get("/version")
    def version(request: Request) -> dict[str, str]:
        return {"http_version": request.http_version, "scope": request.scope["http_version"]}

    app.mount("/asgi", asgi_app)
    return app


@pytest.mark.parametrize(("http2", "expected"), [(True, "2"), (False, "1.1")])
def test_http_version_reaches_handlers(http2: bool, expected: str) -> None:
    with TestClient(make_app(), http1=not http2, http2=http2) as client:
        r = client.get("/version")
        assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        assert r.json() == {"http_version": expected, "scope": expected}
        assert client.get("/asgi/").text == expected


def test_http_1_0() -> None:
    with TestClient(make_app(), http1=True, http2=False) as client:
        out = raw_http(client.port, b"GET /version HTTP/1.0\r\nHost: x\r\n\r\n")
        assert out.endswith(b'{"http_version":"1.0","scope":"1.0"}')
