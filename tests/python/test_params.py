"""Typed parameters from annotations, pydantic bodies with FastAPI's 422 shape,
response_model and status_code on the decorator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from pydantic import BaseModel

from fasterapi import App, Body, Cookie, Form, Header, Path, Query
from fasterapi.testing import TestClient


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class PublicUser(BaseModel):
    id: int
    name: str


class UserWithSecret(BaseModel):
    id: int
    name: str
    password: str


def make_app() -> App:
    app = App()

    @app.get("/items/{item_id}")
    def get_item(req, res, item_id: int, q: str | None = None):
        return {"item_id": item_id, "q": q, "raw": req.path_params["item_id"]}

    @app.get("/plain/{item_id}")
    def fastapi_style(item_id: int):
        return {"id": item_id}

    @app.get("/typed/{n:int}")
    def typed_route(n: int):
        return n * 2

    @app.get("/search")
    def search(
        q: str,
        limit: Annotated[int, Query(gt=0, le=50)] = 10,
        tags: list[str] = Query([]),
        flag: bool = False,
    ):
        return {"q": q, "limit": limit, "tags": tags, "flag": flag}

    @app.get("/meta")
    def meta(
        user_agent: str = Header(),
        x_ids: list[int] = Header([]),
        session: str | None = Cookie(None),
    ):
        return {"ua": user_agent, "ids": x_ids, "session": session}

    @app.post("/items", status_code=201)
    def create(item: Item):
        return item

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, note: str = Body(embed=True)):
        return {"id": item_id, "name": item.name, "note": note}

    @app.post("/login")
    def login(username: str = Form(), remember: bool = Form(False), roles: list[str] = Form([])):
        return {"user": username, "remember": remember, "roles": roles}

    @app.get("/users/{uid}", response_model=PublicUser)
    def user(uid: int):
        return UserWithSecret(id=uid, name="ann", password="hunter2")

    @app.get("/inferred")
    def inferred() -> PublicUser:
        return {"id": 1, "name": "bo", "password": "x"}  # type: ignore[return-value]

    @app.get("/broken-model", response_model=PublicUser)
    def broken():
        return {"id": "not-an-int"}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_path_and_query_params_with_req_res(client: TestClient) -> None:
    assert client.get("/items/5?q=hi").json() == {"item_id": 5, "q": "hi", "raw": "5"}
    assert client.get("/items/5").json() == {"item_id": 5, "q": None, "raw": "5"}


def test_fastapi_style_without_req_res(client: TestClient) -> None:
    assert client.get("/plain/9").json() == {"id": 9}
    assert client.get("/typed/21").json() == 42


def test_422_shape_matches_fastapi(client: TestClient) -> None:
    r = client.get("/plain/abc")
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            }
        ]
    }
    r = client.get("/search")
    assert r.json() == {
        "detail": [
            {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}
        ]
    }


def test_query_constraints_lists_and_bools(client: TestClient) -> None:
    r = client.get("/search?q=x&limit=5&tags=a&tags=b&flag=yes")
    assert r.json() == {"q": "x", "limit": 5, "tags": ["a", "b"], "flag": True}
    r = client.get("/search?q=x&limit=500")
    assert r.status_code == 422
    err = r.json()["detail"][0]
    assert (err["type"], err["loc"], err["ctx"]) == (
        "less_than_equal",
        ["query", "limit"],
        {"le": 50},
    )


def test_header_and_cookie_params(client: TestClient) -> None:
    r = client.get("/meta", headers={"User-Agent": "t/1", "X-Ids": "3", "Cookie": "session=abc"})
    assert r.json() == {"ua": "t/1", "ids": [3], "session": "abc"}


def test_pydantic_body_and_status_code(client: TestClient) -> None:
    r = client.post("/items", json={"name": "pen", "price": 1.5})
    assert r.status_code == 201
    assert r.json() == {"name": "pen", "price": 1.5, "tags": []}


def test_body_validation_errors(client: TestClient) -> None:
    r = client.post("/items", json={"name": "pen", "price": "cheap"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "price"]
    assert r.json()["detail"][0]["type"] == "float_parsing"
    r = client.post("/items", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"
    r = client.post("/items")
    assert r.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_multiple_body_params_are_embedded(client: TestClient) -> None:
    r = client.put("/items/3", json={"item": {"name": "a", "price": 1}, "note": "n"})
    assert r.json() == {"id": 3, "name": "a", "note": "n"}
    r = client.put("/items/3", json={"item": {"name": "a", "price": 1}})
    assert r.json()["detail"][0]["loc"] == ["body", "note"]


def test_response_model_filters_and_validates(client: TestClient) -> None:
    assert client.get("/users/4").json() == {"id": 4, "name": "ann"}
    assert client.get("/inferred").json() == {"id": 1, "name": "bo"}
    assert client.get("/broken-model").status_code == 500


def test_bad_signatures_fail_at_registration() -> None:
    app = App()
    with pytest.raises(TypeError, match="path parameter 'x' is not in the route path"):

        @app.get("/nothing")
        def h(x: int = Path()) -> None:
            pass

    with pytest.raises(ValueError, match="must start with '/'"):
        app.get("no-slash")(lambda req, res: None)
    with pytest.raises(ValueError, match="unknown method"):
        app.route("/x", methods=["BREW"])(lambda req, res: None)


def test_urlencoded_form_fields(client: TestClient) -> None:
    r = client.post("/login", data={"username": "ann b", "remember": "on", "roles": ["a", "b"]})
    assert r.json() == {"user": "ann b", "remember": True, "roles": ["a", "b"]}
    r = client.post("/login", data={"remember": "1"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "username"]


@pytest.mark.parametrize(
    "raw", ["7", "007", "-3", "1_000", " 5", "٣", "5.0", "x", "99999999999999999999"]
)
def test_int_params_follow_pydantic(client: TestClient, raw: str) -> None:
    from urllib.parse import quote

    from pydantic import TypeAdapter, ValidationError

    try:
        expected: int | None = TypeAdapter(int).validate_python(raw)
    except ValidationError:
        expected = None
    r = client.get(f"/plain/{quote(raw)}")
    if expected is None:
        assert r.status_code == 422
    else:
        assert r.json() == {"id": expected}
