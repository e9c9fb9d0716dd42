"""Query parameters are read from the raw query string by name (Request.query_value and
query_values, bindings/py_request.cpp), without building QueryParams; the values, the last-one
rule for scalars, lists, decoding and the 422s must be FastAPI's, and a query or a name that
is not ASCII goes through QueryParams as before."""

# No `from __future__ import annotations`: the apps' annotations name the framework module.
import json
from typing import Annotated, Any

import pytest
from conftest import raw_http
from fastapi_parity import answer, both

import fasterapi
from fasterapi.datastructures import QueryParams
from fasterapi.testing import TestClient

TARGETS = [
    "/q", "/q?", "/q?q=a", "/q?q=a&q=b", "/q?q=a&&q=&", "/q?q", "/q?q=a&q", "/q?=x&q=y",
    "/q?q=a+b%20c", "/q?q=%2B%26%3D", "/q?q=%zz%4", "/q?q=50%", "/q?%71=by+escaped+name",
    "/q?q%2B=x&q+=y", "/q?qq=x&q=y&Q=z", "/q?q=%C3%A9t%C3%A9", "/q?q=%C3", "/q?q=%E2%82x",
    "/q?q=%ED%A0%80", "/q?q=a=b=c", "/q?n=1", "/q?n=1&n=x", "/q?n=x&n=2", "/q?n=%31%32",
    "/q?n=", "/q?n=+3", "/q?n=-4", "/q?n=99999999999999999999999", "/q?flag=true&flag=0",
    "/q?flag=yes", "/q?flag=No", "/q?tags=a&tags=b+c&tags=", "/q?tags", "/q?item-query=x",
    "/q?item-query=x&item_query=y", "/q?%D0%BA%D0%BB=%D1%8E", "/q?ids=1&ids=2&ids=x",
    "/q?ids=3", "/q?q=a;q=b", "/q?q=%00%1F",
]  # fmt: skip


def make_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/q")
    async def read(
        q: str | None = None,
        n: int = 0,
        flag: bool = False,
        tags: list[str] = fw.Query([]),
        ids: Annotated[list[int] | None, fw.Query()] = None,
        item: Annotated[str | None, fw.Query(alias="item-query")] = None,
        word: Annotated[str | None, fw.Query(alias="кл")] = None,
    ) -> Any:
        return {"q": q, "n": n, "flag": flag, "tags": tags, "ids": ids, "item": item, "w": word}

    @app.get("/required")
    async def required(n: int, q: str, tags: list[str] = fw.Query()) -> Any:
        return [n, q, tags]

    return app


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(make_app) as pair:
        yield pair


@pytest.mark.parametrize("target", TARGETS)
def test_values_and_errors_match_fastapi(clients: Any, target: str) -> None:
    ref, ours = clients
    assert answer(ours.get(target)) == answer(ref.get(target)), target
    required = target.replace("/q", "/required", 1)
    assert answer(ours.get(required)) == answer(ref.get(required)), required


def raw_get(port: int, target: bytes) -> bytes:
    """The body of GET `target` sent byte for byte (httpx would percent-encode it)."""
    data = raw_http(port, b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


@pytest.mark.parametrize(
    "query",
    [
        b"q=caf\xc3\xa9", b"q=\xe9&q=x", b"x=\xff&q=%C3%A9", b"q=%C3\xa9", b"q=a&q=b+%zz",
        b"\xd0\xba\xd0\xbb=v&tags=\xe9&tags=b",
    ],
)  # fmt: skip
def test_raw_query_bytes_are_read_as_query_params_reads_them(clients: Any, query: bytes) -> None:
    """Bytes >= 0x80 (which the parser lets through in a request-target) are Latin-1 to
    Starlette's QueryParams: that path answers for them (NotImplemented from query_value)."""
    _, ours = clients
    got = json.loads(raw_get(ours.port, b"/q?" + query))
    qp = QueryParams(query)
    assert got["q"] == qp.get("q")
    assert got["tags"] == qp.getlist("tags")
    assert got["w"] == qp.get("кл")


def test_query_value_answers_like_query_params() -> None:
    """The native lookup itself, on requests the engine made, against QueryParams."""
    seen: list[tuple[bytes, str, Any, Any]] = []
    errors: list[str] = []
    names = ["q", "tags", "", "a b", "x+", "é", "missing"]
    app = fasterapi.FastAPI()

    @app.get("/probe")
    async def probe(request: fasterapi.Request) -> Any:
        for name in names:
            seen.append(
                (request.query_string, name, request.query_value(name), request.query_values(name))
            )
        try:
            request.query_value(1)
        except TypeError as e:
            errors.append(str(e))
        return {}

    queries = [b"q=1&q=2&tags=a&tags=b", b"=e&&=f", b"a+b=1&a%20b=2&x%2B=3", b"q=\xe9", b""]
    with TestClient(app) as client:
        for query in queries:
            raw_get(client.port, b"/probe?" + query if query else b"/probe")
    assert len(seen) == len(queries) * len(names) and len(errors) == len(queries)
    for query, name, got, many in seen:
        if query.isascii() and name.isascii():
            qp = QueryParams(query)
            assert (got, many) == (qp.get(name), qp.getlist(name)), (query, name)
        else:
            assert got is NotImplemented and many is NotImplemented, (query, name)


def test_websocket_parameters_read_query_params() -> None:
    """A WebSocket endpoint's parameters are solved on the WebSocket (no engine request and
    no query_value): the same values through its query_params."""
    app = fasterapi.FastAPI()

    @app.websocket("/ws")
    async def ws(
        websocket: fasterapi.WebSocket, q: str, n: int = 0, tags: list[str] = fasterapi.Query([])
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"q": q, "n": n, "tags": tags})
        await websocket.close()

    with TestClient(app) as client:
        with client.websocket_connect("/ws?q=a+b&q=c%21&n=2&tags=x&tags=y+z") as session:
            assert session.receive_json() == {"q": "c!", "n": 2, "tags": ["x", "y z"]}
