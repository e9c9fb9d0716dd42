"""APIRouter, include_router, path patterns, mounts and lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from fasterapi import APIRouter, App
from fasterapi.staticfiles import StaticFiles
from fasterapi.testing import TestClient


class Item(BaseModel):
    name: str


def test_include_router_with_prefix_and_tags() -> None:
    app = App()
    users = APIRouter(prefix="/users", tags=["users"])

    @users.get("/{uid}")
    def get_user(uid: int):
        return {"uid": uid}

    @users.post("/")
    def create_user(req, res):
        res.status_code = 201
        return req.json()

    app.include_router(users, prefix="/v1", tags=["v1"])
    route = next(r for r in app.routes if r.name == "get_user")
    assert route.path == "/v1/users/{uid}"
    assert route.tags == ["v1", "users"]
    with TestClient(app) as client:
        assert client.get("/v1/users/3").json() == {"uid": 3}
        r = client.post("/v1/users/", json={"n": 1})
        assert (r.status_code, r.json()) == (201, {"n": 1})
        assert client.get("/users/3").status_code == 404


def test_path_patterns() -> None:
    app = App()

    @app.get("/files/{rest:path}")
    def files(req, res):
        return req.path_params["rest"]

    @app.get("/n/{n:int}")
    def number(req, res):
        return req.path_params["n"]

    @app.get("/s/{name}/x")
    def segment(req, res):
        return req.path_params["name"]

    with TestClient(app) as client:
        assert client.get("/files/a/b/c.txt").text == "a/b/c.txt"
        assert client.get("/n/12").text == "12"
        assert client.get("/n/abc").status_code == 404
        assert client.get("/s/caf%C3%A9/x").text == "café"
        assert client.get("/s/a/b/x").status_code == 404


def test_router_misconfiguration_fails_fast() -> None:
    with pytest.raises(ValueError, match="prefix"):
        APIRouter(prefix="users/")
    app = App()
    with pytest.raises(ValueError, match="prefix"):
        app.include_router(APIRouter(), prefix="/x/")
    with pytest.raises(ValueError, match="workers"):
        App(workers=0)
    with pytest.raises(ValueError, match="startup"):
        app.on_event("boot")

    class AsgiApp:
        async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
            pass

    class AsgiMiddleware:
        def __init__(self, app, allow_origins=()):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(TypeError, match="endpoint\\(req, res\\)"):
        app.mount("/sub", lambda x: x)  # neither ASGI nor an endpoint(req, res)
    other = App()  # an ASGI app is served through the ASGI adapter (tests/python/asgi)
    other.mount("/sub", AsgiApp())
    assert [r.path for r in other.routes] == ["/sub/{path:path}"]
    with pytest.raises(TypeError, match="looks like ASGI middleware"):
        app.add_middleware(AsgiMiddleware, allow_origins=["*"])
    assert app.routes == []
    with pytest.raises(TypeError, match=r"@app.get\('/path'\)"):
        app.get(lambda req, res: None)  # type: ignore[arg-type]
    app.get("/dup")(lambda req, res: 1)
    with pytest.raises(ValueError, match="already handled"):
        app.route("/dup", methods=["POST", "GET"])(lambda req, res: 2)


def test_static_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello static")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.css").write_text("body{}")
    (tmp_path.parent / "secret.txt").write_text("nope")
    app = App()
    app.mount("/static", StaticFiles(directory=tmp_path))
    with TestClient(app) as client:
        r = client.get("/static/a.txt")
        assert (r.status_code, r.text) == (200, "hello static")
        assert r.headers["content-type"].startswith("text/plain")
        # Files go out with their length, not chunked.
        assert r.headers["content-length"] == str(len("hello static"))
        assert "transfer-encoding" not in r.headers
        assert client.get("/static/sub/b.css").headers["content-type"].startswith("text/css")
        assert client.get("/static/nope.txt").status_code == 404
        assert client.get("/static/..%2Fsecret.txt").status_code == 404
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")


def test_lifespan_and_events() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        events.append("lifespan-start")
        yield {"db": "connected"}
        events.append("lifespan-end")

    app = App(lifespan=lifespan)

    @app.on_event("startup")
    async def start() -> None:
        events.append("startup")

    @app.on_event("shutdown")
    def stop() -> None:
        events.append("shutdown")

    @app.get("/")
    def state(req, res):
        assert req.app is app
        return req.app.state.db

    with TestClient(app) as client:
        assert events == ["startup", "lifespan-start"]
        assert client.get("/").text == "connected"
    assert events == ["startup", "lifespan-start", "shutdown", "lifespan-end"]


def test_openapi_and_docs() -> None:
    app = App(title="Shop", version="2.0")

    @app.post("/items/{item_id:int}", status_code=201, tags=["items"], response_model=Item)
    def create(item_id: int, item: Item, q: str | None = None):
        """Create an item."""
        return item

    @app.get("/hidden", include_in_schema=False)
    def hidden(req, res):
        return None

    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
        assert spec["openapi"] == "3.1.0"
        assert spec["info"] == {"title": "Shop", "version": "2.0"}
        assert list(spec["paths"]) == ["/items/{item_id}"]
        op = spec["paths"]["/items/{item_id}"]["post"]
        assert op["tags"] == ["items"] and op["description"] == "Create an item."
        params = {p["name"]: p for p in op["parameters"]}
        assert params["item_id"]["in"] == "path" and params["item_id"]["required"] is True
        assert params["item_id"]["schema"] == {"type": "integer", "title": "Item Id"}  # as FastAPI
        assert params["q"]["required"] is False
        assert op["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Item"
        }
        assert "201" in op["responses"] and "422" in op["responses"]
        assert "Item" in spec["components"]["schemas"]
        docs = client.get("/docs")
        assert docs.headers["content-type"].startswith("text/html")
        assert "/openapi.json" in docs.text


def test_trailing_slash_redirects() -> None:
    app = App()

    @app.get("/items/")
    def items(req, res):
        return "items"

    @app.get("/users/{uid}")
    def user(uid: int):
        return uid

    @app.get("/both")
    def both(req, res):
        return "no slash"

    @app.get("/both/")
    def both_slash(req, res):
        return "slash"

    with TestClient(app) as client:
        r = client.get("/items?x=1", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "/items/?x=1")
        assert client.get("/items").text == "items"
        r = client.get("/users/5/", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "/users/5")
        assert (client.get("/both").text, client.get("/both/").text) == ("no slash", "slash")
        assert client.post("/items").status_code == 405
    plain = App(redirect_slashes=False)
    plain.get("/a/")(lambda req, res: "a")
    with TestClient(plain) as client:
        assert client.get("/a", follow_redirects=False).status_code == 404


def test_large_file_response_streams_exactly(tmp_path: Path) -> None:
    from fasterapi import FileResponse

    data = bytes(range(256)) * 40_000  # 10 MB: many chunks, backpressure on the way
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    app = App()

    @app.get("/big")
    def big(req, res):
        return FileResponse(path)

    with TestClient(app) as client:
        r = client.get("/big")
        assert r.status_code == 200
        assert r.headers["content-length"] == str(len(data))
        assert r.content == data
        assert client.get("/big").content == data  # the connection's framing held
