"""FastAPI's request-side behaviours the tutorial relies on: the body is JSON only under a
JSON Content-Type (strict_content_type), custom Request classes built as
`MyRequest(request.scope, request.receive)` with their own body(), and Starlette's
`request.receive` / `request.stream()`; served over a real socket, FastAPI's answers taken
from its tutorial tests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

from conftest import transport_specific
from pydantic import BaseModel

from fasterapi import Body, FastAPI, Request, Response
from fasterapi.routing import APIRoute
from fasterapi.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


def item_app(**kwargs: Any) -> FastAPI:
    app = FastAPI(**kwargs)

    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item

    return app


DATA = '{"name": "Foo", "price": 50.5}'
NOT_A_DICT = {
    "type": "model_attributes_type",
    "loc": ["body"],
    "msg": "Input should be a valid dictionary or object to extract fields from",
    "input": DATA,
}


def test_json_body_needs_a_json_content_type() -> None:
    with TestClient(item_app()) as c:
        json_types = ("application/json", "application/geo+json", "Application/JSON; charset=x")
        for ctype in json_types:
            r = c.post("/items/", content=DATA, headers={"Content-Type": ctype})
            assert (r.status_code, r.json()) == (200, {"name": "Foo", "price": 50.5}), ctype
        for ctype in ("text/plain", "application/geo+json-seq"):
            r = c.post("/items/", content=DATA, headers={"Content-Type": ctype})
            assert (r.status_code, r.json()) == (422, {"detail": [NOT_A_DICT]}), ctype
        r = c.post("/items/", content=DATA)  # no Content-Type at all: strict by default
        assert r.status_code == 422
        r = c.post("/items/", data={"name": "Foo", "price": "50.5"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["input"] == "name=Foo&price=50.5"


def test_strict_content_type_false_parses_a_body_without_content_type() -> None:
    with TestClient(item_app(strict_content_type=False)) as c:
        r = c.post("/items/", content=DATA)
        assert (r.status_code, r.json()) == (200, {"name": "Foo", "price": 50.5})
        r = c.post("/items/", content=DATA, headers={"Content-Type": "text/plain"})
        assert r.status_code == 422  # a wrong Content-Type is still refused


class GzipRequest(Request):
    async def body(self) -> bytes:  # type: ignore[override]
        if not hasattr(self, "_body"):
            body = await super().body()
            if "gzip" in self.headers.getlist("Content-Encoding"):
                body = gzip.decompress(body)
            self._body = body
        return self._body


class GzipRoute(APIRoute):
    def get_route_handler(self) -> Callable[..., Any]:
        original_route_handler = super().get_route_handler()

        async def custom_route_handler(request: Request) -> Response:
            request = GzipRequest(request.scope, request.receive)
            return await original_route_handler(request)  # type: ignore[no-any-return]

        return custom_route_handler


def test_custom_request_class_with_its_own_body() -> None:
    app = FastAPI()
    app.router.route_class = GzipRoute

    @app.post("/sum")
    async def sum_numbers(numbers: list[int] = Body()) -> dict[str, int]:
        return {"sum": sum(numbers)}

    @app.post("/kind")
    async def kind(request: Request) -> dict[str, Any]:
        return {"class": type(request).__name__, "body": (await request.body()).decode()}

    data = json.dumps([1] * 1000).encode()
    with TestClient(app) as c:
        for compress in (True, False):
            headers = {"Content-Type": "application/json"}
            if compress:
                headers["Content-Encoding"] = "gzip"
            body = gzip.compress(data) if compress else data
            r = c.post("/sum", content=body, headers=headers)
            assert (r.status_code, r.json()) == (200, {"sum": 1000}), compress
        r = c.post("/kind", content=gzip.compress(b"[1]"), headers={"Content-Encoding": "gzip"})
        assert r.json() == {"class": "GzipRequest", "body": "[1]"}


def test_request_needs_a_request_being_served() -> None:
    try:
        Request({"type": "http"}, None)
    except TypeError as e:
        assert "request.receive" in str(e)
    else:
        raise AssertionError("Request(scope, receive) without a served request must fail")


def test_receive_and_stream() -> None:
    app = FastAPI()

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, Any]:
        chunks = [chunk async for chunk in request.stream()]
        message = await request.receive()
        return {"joined": b"".join(chunks).decode(), "last": chunks[-1].decode(),
                "message": [message["type"], message["body"].decode(), message["more_body"]]}

    with TestClient(app) as c:
        got = c.post("/stream", content=b"x" * 100_000).json()
        assert got["joined"] == "x" * 100_000
        assert got["last"] == ""
        # Past 64 KiB the body was streamed (the endpoint reads request.stream()): once the
        # stream is consumed, receive() gives the last, empty message (nothing is kept).
        assert got["message"] == ["http.request", "", False]
        got = c.post("/stream", content=b"x" * 1000).json()  # small: read whole, as before
        assert got["message"] == ["http.request", "x" * 1000, False]
        got = c.post("/stream", content=b"").json()
        assert got == {"joined": "", "last": "", "message": ["http.request", "", False]}


@transport_specific("raw TCP socket speaking HTTP/1.1 bytes to the port", only=("tls",))
def test_header_reads_one_field_from_the_stored_head() -> None:
    import socket

    app = FastAPI()

    @app.post("/h")
    def h(request: Request) -> dict[str, Any]:
        return {n: request.header(n) for n in ("content-type", "X-Spaced", "x-two", "absent")}

    with TestClient(app) as c:
        host, port = c.base_url.host, c.base_url.port
        with socket.create_connection((host, port)) as s:
            s.sendall(
                b"POST /h HTTP/1.1\r\nHost: x\r\nContent-TYPE:application/json\r\n"
                b"x-spaced: \t a b \t\r\nX-Two: 1\r\nx-two: 2\r\nx-twofold: no\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
            )
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    body = json.loads(data.partition(b"\r\n\r\n")[2])
    assert body == {"content-type": "application/json", "X-Spaced": "a b", "x-two": "1",
                    "absent": None}
