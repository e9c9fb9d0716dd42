"""ASGI mode's native path for FastAPI routes (fasterapi/asgi/fastapi_native.py): the routes
it takes answer exactly as FastAPI does (status, content type, body, headers the app sets),
on the plain path and off it (validation errors, exceptions, handlers, middleware), and the
routes it must not take keep FastAPI's own handler. The reference answers come from the same
app served by FastAPI itself (Starlette's TestClient)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import pytest
from conftest import require_module

require_module("fastapi")
from fastapi import (  # noqa: E402
    APIRouter,
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    FastAPI,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.responses import JSONResponse, PlainTextResponse  # noqa: E402
from fastapi.testclient import TestClient as FastAPIClient  # noqa: E402
from native_hand_overs import record_hand_overs  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from fasterapi.asgi import fastapi_native, serve_app  # noqa: E402
from fasterapi.testing import TestClient  # noqa: E402

pytestmark = pytest.mark.timeout(60)


class Item(BaseModel):
    name: str
    price: float
    tax: float | None = None


class Teapot(Exception):
    pass


def dep(q: str = "d") -> str:  # module level: the route's string annotation must resolve it
    return q


def make_app() -> FastAPI:
    """A FastAPI app with routes the native path takes and routes it must leave alone."""
    app = FastAPI()
    seen: list[str] = []

    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-stamp"] = "mw"
        return response

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"teapot": request.url.path}, status_code=418)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.get("/sync/{name}")
    def sync_route(name: str, flag: bool = False) -> dict[str, Any]:
        return {"name": name, "flag": flag}

    @app.get("/bounded/{n}")
    async def bounded(
        n: Annotated[int, Path(ge=1, le=5)],
        tag: Annotated[str, Query(alias="item-tag", min_length=2)] = "none",
    ) -> dict[str, Any]:
        return {"n": n, "tag": tag}

    @app.get("/required")
    async def required(needle: str) -> str:
        return needle

    @app.get("/model/{price}", response_model=Item)
    async def model(price: float) -> Any:
        return {"name": "x", "price": price, "extra": "dropped"}

    @app.get("/bad-model", response_model=Item)
    async def bad_model() -> Any:
        return {"name": "x"}  # price missing: FastAPI answers 500

    @app.post("/created", status_code=201)
    async def created() -> dict[str, bool]:
        return {"ok": True}

    @app.delete("/gone", status_code=204)
    async def gone() -> None:
        return None

    @app.get("/text", response_class=PlainTextResponse)
    async def text(word: str = "hi") -> str:
        return word

    @app.get("/own-response")
    async def own_response() -> JSONResponse:
        return JSONResponse({"own": True}, headers={"x-own": "1"}, status_code=202)

    @app.get("/http-error/{code}")
    async def http_error(code: int) -> None:
        raise HTTPException(code, detail="nope", headers={"x-why": "because"})

    @app.get("/teapot")
    async def raise_teapot() -> None:
        raise Teapot()

    @app.get("/crash")
    async def crash() -> None:
        raise ValueError("boom")

    @app.get("/with-dep")
    async def with_dep(value: Annotated[str, Depends(dep)]) -> dict[str, str]:
        return {"value": value}

    @app.get("/with-request")
    async def with_request(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    @app.get("/headers")
    async def headers(
        user_agent: Annotated[str | None, Header()] = None,
        x_token: Annotated[int, Header()] = 0,
        session: Annotated[str | None, Cookie()] = None,
        underscored: Annotated[str, Header(convert_underscores=False)] = "-",
    ) -> dict[str, Any]:
        return {"ua": user_agent, "token": x_token, "session": session, "u": underscored}

    @app.get("/header-list")
    async def header_list(
        x_tag: Annotated[list[str] | None, Header()] = None,
        w: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI's idiom: copied per request)
    ) -> dict[str, Any]:
        return {"tags": x_tag, "w": w}

    @app.post("/request-and-body")
    async def request_and_body(item: Item, request: Request) -> dict[str, Any]:
        return {"item": item, "raw": (await request.body()).decode()}

    @app.get("/with-bg")
    async def with_bg(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(seen.append, "bg")
        return {"queued": True}

    @app.get("/bg-own-response")
    def bg_own_response(tasks: BackgroundTasks) -> PlainTextResponse:
        tasks.add_task(seen.append, "own")
        return PlainTextResponse("own")

    @app.get("/seen")
    async def seen_so_far() -> list[str]:
        return seen

    @app.get("/sub-response", status_code=201)
    async def sub_response(response: Response, teapot: bool = False) -> dict[str, bool]:
        response.set_cookie("flavour", "oat")
        response.headers["x-own"] = "sub"
        if teapot:
            response.status_code = 418
        return {"ok": True}

    @app.get("/sub-response-own")
    async def sub_response_own(response: Response) -> PlainTextResponse:
        response.headers["x-own"] = "dropped: FastAPI only merges into the answer it makes"
        return PlainTextResponse("own")

    @app.post("/body/{n}")
    async def body(n: int, item: Item, q: str = "q") -> dict[str, Any]:
        return {"n": n, "item": item, "q": q}

    @app.put("/embedded")
    def embedded(item: Annotated[Item, Body(embed=True)], count: Annotated[int, Body()]) -> Item:
        return item.model_copy(update={"price": item.price * count})

    @app.post("/optional-body")
    async def optional_body(item: Item | None = None) -> dict[str, Any]:
        return {"item": item}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> str:
        return name

    @app.get("/list")
    async def listed(v: Annotated[list[int], Query()] = []) -> list[int]:  # noqa: B006
        return v

    router = APIRouter(prefix="/r")

    @router.get("/{x}")
    async def routed(x: int, y: str = "y") -> dict[str, Any]:
        return {"x": x, "y": y}

    app.include_router(router)

    sub = FastAPI()  # a FastAPI app mounted in this one: its routes are taken too

    @sub.get("/hello/{who}")
    async def hello(who: str, request: Request) -> dict[str, str]:
        return {"who": who, "root_path": request.scope["root_path"]}

    app.mount("/sub", sub)
    return app


REQUESTS = [
    ("GET", "/items/3"),
    ("GET", "/items/3?q=a&limit=4"),
    ("GET", "/items/3?q=a&q=b"),  # the last value wins, as in Starlette's QueryParams
    ("GET", "/items/3?q="),  # a blank value is kept
    ("GET", "/items/3?q=%C3%A9"),
    ("GET", "/items/x"),  # 422 from FastAPI's own handler
    ("GET", "/items/3?limit=lots"),
    ("POST", "/items/3"),  # 405
    ("GET", "/sync/ann?flag=yes"),
    ("GET", "/sync/ann?flag=maybe"),
    ("GET", "/bounded/2?item-tag=ab"),
    ("GET", "/bounded/9"),
    ("GET", "/bounded/2?item-tag=a"),
    ("GET", "/bounded/2?tag=ab"),  # only the alias is read
    ("GET", "/required?needle=n"),
    ("GET", "/required"),
    ("GET", "/model/2.5"),
    ("GET", "/model/abc"),
    ("POST", "/created"),
    ("DELETE", "/gone"),
    ("GET", "/text?word=bye"),
    ("GET", "/own-response"),
    ("GET", "/http-error/403"),
    ("GET", "/http-error/404"),
    ("GET", "/teapot"),
    ("GET", "/with-dep?q=z"),
    ("GET", "/with-request"),
    ("GET", "/with-bg"),
    ("GET", "/bg-own-response"),
    ("GET", "/seen"),  # both background tasks ran
    ("GET", "/sub-response"),
    ("GET", "/sub-response?teapot=1"),
    ("GET", "/sub-response-own"),
    ("GET", "/list?v=1&v=2"),
    ("GET", "/list"),  # the default
    ("GET", "/list?v=1&v=x"),  # 422 from FastAPI's handler
    ("GET", "/r/7?y=z"),
    ("GET", "/r/seven"),
    ("GET", "/nowhere"),
    ("GET", "/sub/hello/ann"),
    ("GET", "/sub/openapi.json"),
]

UA = {"user-agent": "t/1"}  # both clients send their own otherwise
HEADERS = [
    ("GET", "/headers", UA),
    ("GET", "/headers", {"user-agent": "ua/1", "x-token": "7", "cookie": "session=abc; other=1"}),
    ("GET", "/headers", {**UA, "X-Token": "seven"}),  # 422 from FastAPI's handler
    ("GET", "/headers", {**UA, "x_token": "7", "underscored": "u", "x-token": "8"}),
    ("GET", "/headers", {**UA, "cookie": "session=a=b; session=second"}),
    ("GET", "/with-request", {**UA, "x-any": "1"}),
    ("GET", "/header-list", [("user-agent", "t/1"), ("x-tag", "a"), ("x-tag", "b")]),
    ("GET", "/header-list", UA),
]

JSON = {"content-type": "application/json"}
BODIES = [
    ("POST", "/body/1", JSON, b'{"name": "a", "price": 2}'),
    ("POST", "/body/1?q=z", JSON, b'{"name": "a", "price": "2.5", "tax": null}'),
    ("POST", "/body/x", JSON, b'{"name": "a", "price": 2}'),  # path error, body unread
    ("POST", "/body/1", JSON, b'{"name": "a"}'),  # body validation error
    ("POST", "/body/1", JSON, b'{"name": "a", "price": 2'),  # bad JSON: 422 json_invalid
    ("POST", "/body/1", JSON, b'{"name": "\xff", "price": 2}'),  # not UTF-8: 400
    ("POST", "/body/1", JSON, b""),  # no body: missing
    ("POST", "/body/1", JSON, b"[1, 2]"),
    ("POST", "/body/1", {"content-type": "text/plain"}, b'{"name": "a", "price": 2}'),
    ("POST", "/body/1", {}, b'{"name": "a", "price": 2}'),  # no content type (strict)
    ("POST", "/body/1", {"content-type": "application/json; charset=utf-8"},
     b'{"name": "a", "price": 2}'),
    ("POST", "/body/1", {"content-type": "application/vnd.api+json"}, b'{"name": "a", "price": 2}'),
    ("PUT", "/embedded", JSON, b'{"item": {"name": "a", "price": 2}, "count": 3}'),
    ("PUT", "/embedded", JSON, b'{"name": "a", "price": 2, "count": 3}'),  # not embedded: 422
    ("POST", "/optional-body", JSON, b""),
    ("POST", "/optional-body", JSON, b'{"name": "a", "price": 1}'),
    ("POST", "/form", {"content-type": "application/x-www-form-urlencoded"}, b"name=f"),
    ("POST", "/request-and-body", JSON, b'{"name": "a", "price": 2}'),
]  # fmt: skip


def answer(response: Any) -> tuple[Any, ...]:
    h = response.headers
    return (response.status_code, h.get("content-type"), response.content, h.get("x-stamp"),
            h.get("x-own"), h.get("x-why"), h.get("set-cookie"))  # fmt: skip


def test_native_routes_answer_as_fastapi_does() -> None:
    reference = FastAPIClient(make_app(), raise_server_exceptions=False)
    expected = [answer(reference.request(m, p)) for m, p in REQUESTS]
    seen = REQUESTS.index(("GET", "/seen"))
    assert expected[seen][2] == b'["bg","own"]'  # the background tasks ran (FastAPI's side too)
    with TestClient(serve_app(make_app())) as client:
        got = []
        for method, path in REQUESTS:
            if path == "/seen":
                # A server sends the answer before the background tasks run (Starlette's
                # TestClient returns after them): wait for them, as a client would.
                deadline = time.monotonic() + 5
                while client.get(path).content != expected[seen][2] and time.monotonic() < deadline:
                    time.sleep(0.01)
            got.append(answer(client.request(method, path)))
    for (method, path), want, have in zip(REQUESTS, expected, got, strict=True):
        assert have == want, f"{method} {path}"


def test_headers_cookies_and_request_answer_as_fastapi_does() -> None:
    reference = FastAPIClient(make_app(), raise_server_exceptions=False)
    expected = [answer(reference.request(m, p, headers=h)) for m, p, h in HEADERS]
    with TestClient(serve_app(make_app())) as client:
        got = [answer(client.request(m, p, headers=h)) for m, p, h in HEADERS]
    for (method, path, headers), want, have in zip(HEADERS, expected, got, strict=True):
        assert have == want, f"{method} {path} {headers}"
    assert expected[1][0] == 200 and expected[2][0] == 422  # the cases are what they claim


def test_json_bodies_answer_as_fastapi_does() -> None:
    reference = FastAPIClient(make_app(), raise_server_exceptions=False)
    expected = [answer(reference.request(m, p, headers=h, content=b)) for m, p, h, b in BODIES]
    with TestClient(serve_app(make_app())) as client:
        got = [answer(client.request(m, p, headers=h, content=b)) for m, p, h, b in BODIES]
        # a body that arrives in pieces (chunked) is read whole first
        chunked = client.post(
            "/body/2", headers=JSON, content=iter([b'{"name": "c", ', b'"price": 1}'])
        )
    for (method, path, headers, body), want, have in zip(BODIES, expected, got, strict=True):
        assert have == want, f"{method} {path} {headers} {body!r}"
    assert chunked.json() == {"n": 2, "item": {"name": "c", "price": 1.0, "tax": None}, "q": "q"}
    assert expected[0][0] == 200 and expected[3][0] == 422  # the cases are what they claim


def test_valid_requests_are_answered_without_fastapi_s_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fallback answers as FastAPI does too, so the equality tests above cannot tell a
    request the native path got wrong and handed over: here valid requests must not be
    handed over, and invalid ones must."""
    handed_over = record_hand_overs(monkeypatch)
    valid = [
        ("GET", "/items/3?q=a&q=b&limit=4", {}, None),
        ("GET", "/bounded/2?item-tag=ab", {}, None),
        ("GET", "/list?v=1&v=2", {}, None),
        ("GET", "/list", {}, None),
        ("GET", "/header-list?w=z", [("x-tag", "a"), ("x-tag", "b")], None),
        ("GET", "/headers", {"x-token": "7", "cookie": "session=abc"}, None),
        ("GET", "/sub-response?teapot=1", {}, None),
        ("POST", "/body/1?q=z", JSON, b'{"name": "a", "price": 2}'),
        ("PUT", "/embedded", JSON, b'{"item": {"name": "a", "price": 2}, "count": 3}'),
        ("POST", "/request-and-body", JSON, b'{"name": "a", "price": 2}'),
        ("GET", "/with-dep?q=z", {}, None),
        ("GET", "/r/7?y=z", {}, None),
        ("GET", "/sub/hello/ann", {}, None),
    ]
    invalid = [
        ("GET", "/items/x", {}, None),
        ("GET", "/list?v=x", {}, None),
        ("POST", "/body/1", JSON, b'{"name": "a"}'),
    ]
    with TestClient(serve_app(make_app())) as client:
        for method, path, headers, body in valid:
            r = client.request(method, path, headers=headers, content=body)
            assert r.status_code not in (400, 422), (path, r.text)
        assert handed_over == []
        for method, path, headers, body in invalid:
            assert client.request(method, path, headers=headers, content=body).status_code == 422
    assert handed_over == ["/items/x?", "/list?v=x", "/body/1?"]


def test_routes_taken_and_routes_left_to_fastapi() -> None:
    app = make_app()
    taken = fastapi_native.install(app)
    native = {
        getattr(r, "path", None)
        for r in app.router.routes
        if getattr(getattr(r, "app", None), "__qualname__", "").startswith("_native_app")
    }
    # taken: items, sync, bounded, required, model, bad-model, created, gone, text,
    # own-response, http-error, teapot, crash, with-dep, with-request, with-bg,
    # bg-own-response, seen, sub-response, sub-response-own, headers, body, embedded,
    # optional-body, request-and-body, list, header-list, the included router's route and the
    # mounted app's
    assert taken == 29
    assert {
        "/items/{item_id}",
        "/model/{price}",
        "/headers",
        "/with-request",
        "/body/{n}",
    } <= native
    assert "/form" not in native
    assert fastapi_native.install(app) == 0  # once per app


def test_failures_answer_500_and_response_validation_is_fastapi_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(serve_app(make_app())) as client:
        crash = client.get("/crash")
        bad = client.get("/bad-model")
    assert (crash.status_code, crash.text) == (500, "Internal Server Error")
    assert (bad.status_code, bad.text) == (500, "Internal Server Error")
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "boom" in logged and "ResponseValidationError" in logged


def test_switched_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTERAPI_FASTAPI_NATIVE", "0")
    assert fastapi_native.install(make_app()) == 0


def test_other_fastapi_versions_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastapi

    monkeypatch.setattr(fastapi, "__version__", "0.1.0")
    assert fastapi_native.install(make_app()) == 0
