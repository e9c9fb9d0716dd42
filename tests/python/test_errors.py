"""@app.exception_handler, validation-error handlers and error logging details."""

from __future__ import annotations

import asyncio

from fasterapi import App, JSONResponse, PlainTextResponse, RequestValidationError
from fasterapi.testing import TestClient


class OutOfStock(Exception):
    def __init__(self, item: str) -> None:
        self.item = item


class Special(OutOfStock):
    pass


def test_custom_exception_handlers_sync_and_async() -> None:
    app = App()

    @app.exception_handler(OutOfStock)
    def out_of_stock(request, exc):
        return JSONResponse({"missing": exc.item, "path": request.path}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def validation(request, exc):
        await asyncio.sleep(0)
        return PlainTextResponse(f"{len(exc.errors())} error(s)", status_code=400)

    @app.get("/buy/{item}")
    def buy(req, res):
        raise OutOfStock(req.path_params["item"])

    @app.get("/special")
    async def special(req, res):
        await asyncio.sleep(0)
        raise Special("gold")

    @app.get("/num/{n}")
    def num(n: int):
        return n

    with TestClient(app) as client:
        r = client.get("/buy/milk")
        assert (r.status_code, r.json()) == (409, {"missing": "milk", "path": "/buy/milk"})
        r = client.get("/special")  # handled through the base class
        assert (r.status_code, r.json()["missing"]) == (409, "gold")
        r = client.get("/num/x")
        assert (r.status_code, r.text) == (400, "1 error(s)")
        assert client.get("/num/4").json() == 4


def test_debug_mode_shows_the_traceback() -> None:
    app = App(debug=True)

    @app.get("/boom")
    def boom(req, res):
        raise ValueError("visible in debug")

    with TestClient(app) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert "ValueError: visible in debug" in r.text and "Traceback" in r.text
