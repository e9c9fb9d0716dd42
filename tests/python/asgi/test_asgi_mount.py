"""App.mount() of ASGI apps: an unchanged FastAPI app, a Starlette app and the MCP SDK's
Streamable HTTP app under prefixes of a FasterAPI App, beside its own routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asgi_fastapi_app as fastapi_app
import asgi_mcp_app as mcp_app
import asgi_starlette_app as starlette_app
import pytest
from conftest import transport_specific

from fasterapi import App
from fasterapi.testing import TestClient

pytestmark = pytest.mark.timeout(60)


def make_app() -> App:
    app = App()

    @app.get("/native")
    def native(req, res):  # type: ignore[no-untyped-def]
        return {"native": True}

    app.mount("/fa", fastapi_app.app)
    app.mount("/st/", starlette_app.app)
    return app


def test_mounted_fastapi_and_starlette() -> None:
    with TestClient(make_app()) as c:
        assert c.get("/native").json() == {"native": True}
        r = c.get("/fa/items/3", params={"q": "z"})
        assert (r.status_code, r.json()) == (200, {"item_id": 3, "q": "z"})
        r = c.post("/fa/items", json={"name": "n", "price": 2})
        assert (r.status_code, r.json()) == (201, {"name": "n", "price": 2.0, "tags": []})
        assert c.get("/fa/boom").status_code == 500
        assert c.get("/fa/nowhere").json() == {"detail": "Not Found"}
        # The sub-app sees its mount point as root_path and the full path (ASGI 2.3).
        r = c.get("/st/hello/bo")
        assert (r.status_code, r.text) == (200, "hello bo")
        r = c.post("/st/echo", content=b"abc")
        assert r.json() == {"len": 3, "root_path": "/st", "method": "POST"}
        # FastAPI's docs page points at the openapi.json under the mount.
        assert "/fa/openapi.json" in c.get("/fa/docs").text
        with c.stream("GET", "/fa/stream", params={"n": 3}) as s:
            assert "".join(s.iter_text()) == "line 0\nline 1\nline 2\n"


@transport_specific("the MCP SDK client is given an http:// URL", only=("tls",))
def test_mounted_mcp_sdk_app_with_its_session_manager_in_the_lifespan() -> None:
    from mcp import Client

    @contextlib.asynccontextmanager
    async def lifespan(_: App) -> AsyncIterator[None]:
        async with mcp_app.server.session_manager.run():  # as the SDK says to when mounting
            yield

    app = App(lifespan=lifespan)
    app.mount("/tools", mcp_app.server.streamable_http_app(streamable_http_path="/"))

    async def main(url: str) -> None:
        async with Client(url) as client:
            result = await client.call_tool("add", {"a": 1, "b": 1})
            assert result.structured_content == {"result": 2}

    with TestClient(app) as c:
        asyncio.run(asyncio.wait_for(main(f"{c.base_url}/tools/"), 30))


def test_mount_refuses_what_it_cannot_serve() -> None:
    app = App()
    with pytest.raises(TypeError):
        app.mount("/x", object())
