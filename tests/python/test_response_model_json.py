"""A response model's body is what FastAPI sends byte for byte: with no response class set,
FastAPI serializes the validated value with pydantic's dump_json (fastapi/routing.py,
`use_dump_json`), and so do we (fasterapi/_endpoint.py) — float spelling, non-ASCII text,
aliases, include/exclude, exclude_unset/defaults/none and the error answers included."""

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
from fastapi_parity import both
from pydantic import BaseModel, Field

from fasterapi import App
from fasterapi.testing import TestClient


class Item(BaseModel):
    name: str
    price: float
    quantity: int = 1
    note: str | None = None
    tags: list[str] = Field(default_factory=list)


class Aliased(BaseModel):
    item_name: str = Field(alias="itemName")
    price: float = 0.0


class Rich(BaseModel):
    when: dt.datetime
    day: dt.date
    amount: decimal.Decimal
    ident: uuid.UUID
    scores: dict[int, float]


ROWS: list[dict[str, Any]] = [
    {"name": f"ítem {i} ✓", "price": p, "quantity": i, "internal": "dropped"}
    for i, p in enumerate([1e16, 1e-7, 0.1, 2.5, -0.0, 123456789.125, 1.0])
]
RICH = {
    "when": dt.datetime(2026, 11, 30, 8, 30, 5, 123456, tzinfo=dt.UTC),
    "day": dt.date(2026, 1, 2),
    "amount": decimal.Decimal("12.50"),
    "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "scores": {1: 0.5, 2: 1e20},
}


def make_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/items", response_model=list[Item])
    async def items() -> Any:
        return ROWS

    @app.get("/item", response_model=Item)
    def item() -> Any:
        return Item(name="pen", price=1.5)  # note, tags unset

    @app.get("/unset", response_model=Item, response_model_exclude_unset=True)
    def unset() -> Any:
        return Item(name="pen", price=1.5, note=None)

    @app.get("/defaults", response_model=Item, response_model_exclude_defaults=True)
    def defaults() -> Any:
        return {"name": "pen", "price": 1.5, "quantity": 1, "tags": []}

    @app.get("/none", response_model=Item, response_model_exclude_none=True)
    def none() -> Any:
        return {"name": "pen", "price": 1.5}

    @app.get("/include", response_model=Item, response_model_include={"name", "tags"})
    def include() -> Any:
        return {"name": "pen", "price": 1.5, "tags": ["a"]}

    @app.get("/exclude", response_model=list[Item], response_model_exclude={"price"})
    def exclude() -> Any:
        return ROWS[:2]

    @app.get("/alias", response_model=Aliased)
    def alias() -> Any:
        return {"itemName": "pen"}

    @app.get("/no-alias", response_model=Aliased, response_model_by_alias=False)
    def no_alias() -> Any:
        return {"itemName": "pen", "price": 2}

    @app.get("/rich", response_model=Rich)
    def rich() -> Any:
        return RICH

    @app.get("/optional", response_model=Item | None)
    def optional() -> Any:
        return None

    @app.get("/created", response_model=Item, status_code=201)
    def created(response: fw.Response) -> Any:
        response.headers["x-extra"] = "1"
        return {"name": "pen", "price": 1}

    @app.delete("/gone", response_model=Item | None)
    def gone(response: fw.Response) -> Any:
        response.status_code = 204  # set at run time: FastAPI refuses a model on a 204 route
        return None

    @app.get("/broken", response_model=Item)
    def broken() -> Any:
        return {"name": "pen", "price": "cheap"}

    @app.get("/html", response_model=Item, response_class=fw.responses.JSONResponse)
    def explicit_class() -> Any:
        return {"name": "pen", "price": 1e16}

    @app.post("/echo", response_model=Item)
    async def echo(item: Item, verbose: bool = False) -> Any:
        return item.model_copy(update={"note": "v"}) if verbose else item

    return app


PATHS = ["/items", "/item", "/unset", "/defaults", "/none", "/include", "/exclude", "/alias",
         "/no-alias", "/rich", "/optional", "/created", "/html"]  # fmt: skip


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(make_app) as pair:
        yield pair


def exact(r: Any) -> tuple[int, str | None, bytes, str | None]:
    return r.status_code, r.headers.get("content-type"), r.content, r.headers.get("x-extra")


@pytest.mark.parametrize("path", PATHS)
def test_response_model_body_is_fastapis_byte_for_byte(clients: Any, path: str) -> None:
    ref, ours = clients
    assert exact(ours.get(path)) == exact(ref.get(path))


def test_floats_and_text_as_pydantic_writes_them(clients: Any) -> None:
    _, ours = clients
    body = ours.get("/items").content
    # pydantic's spelling (1e-7 where Python's repr writes 1e-07) and UTF-8 text (no \\u)
    assert b'"price":1e+16,' in body and b'"price":1e-7,' in body
    assert "ítem 0 ✓".encode() in body and b"internal" not in body


def test_request_body_and_query_round_trip(clients: Any) -> None:
    ref, ours = clients
    sent = {"name": "hammer", "price": 12.5, "quantity": 3, "tags": ["tools"]}
    for url in ("/echo", "/echo?verbose=true", "/echo?verbose=maybe"):
        assert exact(ours.post(url, json=sent)) == exact(ref.post(url, json=sent))
    bad = {"name": 1, "price": "x"}
    assert exact(ours.post("/echo", json=bad)) == exact(ref.post("/echo", json=bad))


def test_no_body_for_204(clients: Any) -> None:
    ref, ours = clients
    a, b = ours.delete("/gone"), ref.delete("/gone")
    assert (b.status_code, b.content) == (a.status_code, a.content) == (204, b"")


def test_invalid_response_is_500() -> None:
    # FastAPI's TestClient re-raises the ResponseValidationError; a server answers 500.
    with TestClient(make_app(__import__("fasterapi"))) as c:
        r = c.get("/broken")
    assert (r.status_code, r.text) == (500, "Internal Server Error")


def test_middleware_sees_a_json_response() -> None:
    app = App()
    seen: list[Any] = []

    @app.middleware("http")
    async def record(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        seen.append((response.media_type, response.body))
        return response

    @app.get("/item", response_model=Item)
    def item() -> Any:
        return {"name": "pen", "price": 1e-7}

    with TestClient(app) as c:
        r = c.get("/item")
    body = b'{"name":"pen","price":1e-7,"quantity":1,"note":null,"tags":[]}'
    assert (r.headers["content-type"], r.content) == ("application/json", body)
    assert seen == [("application/json", body)]
