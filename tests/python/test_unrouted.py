"""Requests no route answers (404, 405) pass the app's middleware, exception handlers and
access log, as in FastAPI; without any of those the engine answers them alone."""

from __future__ import annotations

import logging

import pytest
from conftest import raw_socket
from starlette.exceptions import HTTPException as StarletteHTTPException

from fasterapi import App, HTTPException
from fasterapi.middleware import CORSMiddleware
from fasterapi.responses import JSONResponse, PlainTextResponse
from fasterapi.testing import TestClient


def routes(app: App) -> None:
    @app.get("/items")
    def items(req, res):
        return []

    @app.post("/items")
    def create(req, res):
        return {}


def test_plain_app_keeps_engine_answers() -> None:
    app = App()
    routes(app)
    with TestClient(app) as c:
        r = c.get("/nope")
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
        r = c.delete("/items")
        assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"})
        assert r.headers["allow"] == "GET, HEAD, POST"


def test_cors_headers_on_404_and_405() -> None:
    app = App()
    routes(app)
    app.add_middleware(CORSMiddleware, allow_origins=["https://a.example"])
    with TestClient(app) as c:
        r = c.get("/nope", headers={"Origin": "https://a.example"})
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        r = c.delete("/items", headers={"Origin": "https://a.example"})
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"  # OPTIONS: CORS preflight
        assert r.headers["access-control-allow-origin"] == "https://a.example"


def test_http_middleware_sees_404() -> None:
    app = App()
    routes(app)
    seen: list[tuple[str, int]] = []

    @app.middleware("http")
    async def record(request, call_next):
        response = await call_next(request)
        seen.append((request.url.path, response.status_code))
        response.headers["x-mw"] = "1"
        return response

    with TestClient(app) as c:
        r = c.get("/missing/page")
        assert (r.status_code, r.headers["x-mw"]) == (404, "1")
        assert c.get("/items").status_code == 200
    assert seen == [("/missing/page", 404), ("/items", 200)]


def test_exception_handler_for_status_code() -> None:
    app = App()
    routes(app)

    @app.exception_handler(404)
    async def not_found(request, exc):
        return JSONResponse({"missing": request.url.path}, status_code=404)

    @app.get("/raises-404")
    def raises(req, res):
        raise HTTPException(404, "gone")

    @app.get("/raises-409")
    def conflict(req, res):
        raise HTTPException(409, "conflict")

    with TestClient(app) as c:
        assert c.get("/nope").json() == {"missing": "/nope"}
        assert c.get("/raises-404").json() == {"missing": "/raises-404"}
        r = c.get("/raises-409")  # other statuses keep the default answer
        assert (r.status_code, r.json()) == (409, {"detail": "conflict"})
        r = c.delete("/items")
        assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"})


def test_starlette_http_exception_handler_catches_404_and_405() -> None:
    app = App()
    routes(app)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request, exc):
        return PlainTextResponse(f"{exc.status_code}: {exc.detail}", status_code=exc.status_code)

    with TestClient(app) as c:
        r = c.get("/nope")
        assert (r.status_code, r.text) == (404, "404: Not Found")
        r = c.put("/items")
        assert (r.status_code, r.text) == (405, "405: Method Not Allowed")


def test_access_log_has_404(caplog: pytest.LogCaptureFixture) -> None:
    app = App(access_log=True)
    routes(app)
    with caplog.at_level(logging.INFO, logger="fasterapi.access"), TestClient(app) as c:
        r = c.get("/nope?x=1")
        assert r.status_code == 404
        assert c.delete("/items").status_code == 405
    version = r.http_version  # HTTP/2 under FASTERAPI_TEST_TRANSPORT=h2c
    lines = [r.getMessage() for r in caplog.records if r.name == "fasterapi.access"]
    assert any(f'"GET /nope?x=1 {version}" 404' in line for line in lines), lines
    assert any(f'"DELETE /items {version}" 405' in line for line in lines), lines


def test_access_log_has_engine_errors(caplog: pytest.LogCaptureFixture) -> None:
    app = App(access_log=True, max_body_bytes=1000)
    routes(app)
    with caplog.at_level(logging.INFO, logger="fasterapi.access"), TestClient(app) as c:
        with raw_socket(c.port, 10) as s:  # HTTP/1.1 bytes (over TLS in the suite's TLS run)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
        r = c.post("/items", content=b"x" * 2000)
        assert r.status_code == 413
        assert c.get("/items").status_code == 200  # still serving
    lines = [r.getMessage() for r in caplog.records if r.name == "fasterapi.access"]
    assert any('"-" 400' in line for line in lines), lines
    assert any(" 413 " in line for line in lines), lines
