"""@app.middleware("http"), CORSMiddleware and GZipMiddleware."""

from __future__ import annotations

from fasterapi import App, HTTPException
from fasterapi.middleware import CORSMiddleware, GZipMiddleware
from fasterapi.testing import TestClient


def test_http_middleware_order_and_headers() -> None:
    app = App()
    order: list[str] = []

    @app.middleware("http")
    async def inner(request, call_next):
        order.append("inner-in")
        response = await call_next(request)
        order.append("inner-out")
        response.headers["X-Inner"] = "1"
        return response

    @app.middleware("http")
    async def outer(request, call_next):
        order.append("outer-in")
        request.state.user = "from-middleware"
        if request.headers.get("x-block"):
            from fasterapi import JSONResponse

            return JSONResponse({"blocked": True}, status_code=403)
        response = await call_next(request)
        response.headers["X-Outer"] = str(response.status_code)
        return response

    @app.get("/")
    def hello(req, res):
        order.append("handler")
        res.set_cookie("c", "1")
        return {"hello": req.state.user}

    @app.get("/missing")
    def missing(req, res):
        raise HTTPException(404, "nope")

    with TestClient(app) as client:
        r = client.get("/")
        assert r.json() == {"hello": "from-middleware"}
        assert (r.headers["x-inner"], r.headers["x-outer"]) == ("1", "200")
        assert r.headers["set-cookie"].startswith("c=1")
        assert order == ["outer-in", "inner-in", "handler", "inner-out"]
        r = client.get("/missing")
        assert (r.status_code, r.headers["x-outer"], r.json()) == (404, "404", {"detail": "nope"})
        r = client.get("/", headers={"X-Block": "1"})
        assert (r.status_code, r.json()) == (403, {"blocked": True})


def test_cors_simple_and_preflight() -> None:
    app = App()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://a.example"],
        allow_methods=["GET", "POST"],
        allow_headers=["x-token"],
    )

    @app.post("/data")
    def data(req, res):
        return {"ok": True}

    with TestClient(app) as client:
        r = client.post("/data", headers={"Origin": "https://a.example"})
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        r = client.post("/data", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        r = client.options(
            "/data",
            headers={
                "Origin": "https://a.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-Token",
            },
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        assert "POST" in r.headers["access-control-allow-methods"]
        assert r.headers["access-control-allow-headers"] == "X-Token"
        r = client.options(
            "/data",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"},
        )
        assert r.status_code == 400
        assert client.options("/data").status_code == 405


def test_cors_rejects_credentials_with_wildcard() -> None:
    import pytest

    with pytest.raises(ValueError, match="allow_credentials"):
        CORSMiddleware(allow_origins=["*"], allow_credentials=True)


def test_gzip() -> None:
    app = App()
    app.add_middleware(GZipMiddleware, minimum_size=100)

    @app.get("/big")
    def big(req, res):
        return "x" * 5000

    @app.get("/small")
    def small(req, res):
        return "tiny"

    with TestClient(app) as client:
        r = client.get("/big", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.text == "x" * 5000  # httpx decompresses
        assert int(r.headers["content-length"]) < 5000
        raw = client.get("/big", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert (
            client.get("/small", headers={"Accept-Encoding": "gzip"}).headers.get(
                "content-encoding"
            )
            is None
        )
