"""req.json() / req.text() on a body that does not decode: 400 with a clear detail (as Flask
and DRF answer), not a 500; the error is still a ValueError for code that catches that."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from fasterapi import App, HTTPException
from fasterapi.testing import TestClient


def make_app() -> App:
    app = App()

    @app.post("/sync")
    def sync_json(req, res):
        return {"got": req.json()}

    @app.post("/async")
    async def async_json(req, res):
        return {"got": req.json()}

    @app.post("/suspended")
    async def suspended_json(req, res):
        await asyncio.sleep(0.01)  # answered by a Task, not eagerly
        return {"got": req.json()}

    @app.post("/text")
    def text(req, res):
        return {"got": req.text()}

    @app.post("/caught")
    def caught(req, res):
        try:
            return {"got": req.json()}
        except ValueError as e:
            return {"caught": type(e).__name__, "is_http": isinstance(e, HTTPException)}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


@pytest.mark.parametrize("route", ["/sync", "/async", "/suspended"])
@pytest.mark.parametrize("body", [b"{", b"[1,]", b"nul", b""])
def test_malformed_json_is_400(client: TestClient, route: str, body: bytes) -> None:
    r = client.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("Invalid JSON: "), detail


@pytest.mark.parametrize("route", ["/sync", "/async", "/suspended"])
def test_json_body_not_utf8_is_400(client: TestClient, route: str) -> None:
    r = client.post(route, content=b'{"a": "\xff\xfe"}')
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("Invalid JSON: ")
    assert "UTF-8" in r.json()["detail"]


def test_valid_json_still_parses(client: TestClient) -> None:
    r = client.post("/sync", content=b'{"a": [1, "\xc3\xa9"]}')
    assert r.json() == {"got": {"a": [1, "é"]}}


def test_text_not_utf8_is_400(client: TestClient) -> None:
    r = client.post("/text", content=b"caf\xe9")
    assert r.status_code == 400, r.text
    assert "UTF-8" in r.json()["detail"] or "utf-8" in r.json()["detail"]
    assert client.post("/text", content="café".encode()).json() == {"got": "café"}


def test_error_is_still_a_value_error(client: TestClient) -> None:
    r = client.post("/caught", content=b"{")
    assert r.json() == {"caught": "InvalidBodyError", "is_http": True}


def test_middleware_route_answers_400() -> None:
    app = make_app()

    @app.middleware("http")
    async def passthrough(request, call_next):
        return await call_next(request)

    with TestClient(app) as c:
        r = c.post("/sync", content=b"{")
        assert r.status_code == 400
        assert r.json()["detail"].startswith("Invalid JSON: ")


def test_client_has_host_and_port_like_starlette() -> None:
    app = App()

    @app.get("/peer")
    def peer(req, res):
        host, port = req.client
        return {
            "host": req.client.host,
            "port": req.client.port,
            "same": [host, port] == [req.client_address.host, req.client_address.port],
        }

    with TestClient(app) as c:
        body = c.get("/peer").json()
    assert body["host"] == "127.0.0.1"
    assert isinstance(body["port"], int) and body["port"] > 0
    assert body["same"] is True
