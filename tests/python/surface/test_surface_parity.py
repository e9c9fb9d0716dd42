"""FastAPI's public surface at its import paths, each app run on FastAPI and on FasterAPI and
the answers compared (tests/python/fastapi_parity.py): parameter models, response_model_*,
dependency_overrides, jsonable_encoder, the default handlers, custom route classes, JSON Lines,
TrustedHost/HTTPSRedirect, 500s, values only jsonable_encoder takes, OpenAPI metadata."""

# No `from __future__ import annotations`: the apps' annotations name the framework module
# `fw` of the enclosing function, which only evaluated annotations can see.
import datetime
import importlib
from collections.abc import AsyncIterable
from typing import Annotated, Any

import fastapi.testclient
import pytest
from conftest import transport_specific
from pydantic import BaseModel, ConfigDict

from tests.python.fastapi_parity import answer, both


def sub(fw: Any, name: str) -> Any:
    """`fastapi.<name>` or `fasterapi.<name>`: the same import path on both."""
    return importlib.import_module(f"{fw.__name__}.{name}")


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = 100
    tags: list[str] = []


class Headers(BaseModel):
    save_data: bool
    x_tag: list[str] = []


class Cookies(BaseModel):
    session_id: str
    tracker: str | None = None


def param_models_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/q")
    def q(filters: Annotated[Filters, fw.Query()]) -> Any:
        return filters

    @app.get("/h")
    def h(headers: Annotated[Headers, fw.Header()]) -> Any:
        return headers

    @app.get("/c")
    def c(cookies: Annotated[Cookies, fw.Cookie()]) -> Any:
        return cookies

    return app


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/q?limit=5&tags=a&tags=b", {}),
        ("/q", {}),
        ("/q?limit=x", {}),
        ("/q?limit=5&tool=plumbus", {}),  # extra="forbid"
        ("/h", {"save-data": "yes", "x-tag": "one"}),
        ("/h", {}),
        ("/h", {"x-tag": "1", "foo": "2"}),
        ("/h", {"save-data": "zz"}),
        ("/c", {"cookie": "session_id=s1; tracker=t"}),
        ("/c", {"cookie": "tracker=t"}),
    ],
)
def test_query_header_cookie_models(path: str, headers: dict[str, str]) -> None:
    with both(param_models_app) as (ref, ours):
        ref.headers.clear()
        ours.headers.clear()
        headers = {"host": "testserver", **headers}  # header models see every header
        assert answer(ref.get(path, headers=headers)) == answer(ours.get(path, headers=headers))


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float = 1.0
    tags: list[str] = []


ITEMS = {"foo": {"name": "Foo", "price": 50.2}, "bar": {"name": "Bar", "description": "x"}}


def response_model_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/unset/{key}", response_model=Item, response_model_exclude_unset=True)
    def unset(key: str) -> Any:
        return ITEMS[key]

    @app.get("/include", response_model=Item, response_model_include={"name"})
    def include() -> Any:
        return ITEMS["foo"]

    @app.get("/exclude", response_model=Item, response_model_exclude=["tags", "price"])
    def exclude() -> Any:
        return ITEMS["bar"]

    @app.get("/defaults", response_model=Item, response_model_exclude_defaults=True)
    def defaults() -> Any:
        return {"name": "Baz", "price": 1.0, "description": "d"}

    return app


@pytest.mark.parametrize("path", ["/unset/foo", "/unset/bar", "/include", "/exclude", "/defaults"])
def test_response_model_options(path: str) -> None:
    with both(response_model_app) as (ref, ours):
        assert answer(ref.get(path)) == answer(ours.get(path))


def overrides_app(fw: Any) -> Any:
    app = fw.FastAPI()

    async def common(q: str | None = None) -> dict[str, Any]:
        return {"q": q, "source": "real"}

    @app.get("/items")
    async def items(commons: Annotated[dict[str, Any], fw.Depends(common)]) -> Any:
        return commons

    async def fake(q: str | None = None, fake: int = 0) -> dict[str, Any]:
        return {"q": q, "source": "override", "fake": fake}

    app.state.common, app.state.fake = common, fake
    return app


def test_dependency_overrides_apply_and_reset() -> None:
    with both(overrides_app) as (ref, ours):
        assert answer(ref.get("/items?q=1")) == answer(ours.get("/items?q=1"))
        for client in (ref, ours):
            state = client.app.state
            client.app.dependency_overrides[state.common] = state.fake
        mine = answer(ours.get("/items?q=1&fake=7"))
        assert mine == answer(ref.get("/items?q=1&fake=7"))
        assert mine[1]["source"] == "override"
        for client in (ref, ours):
            client.app.dependency_overrides = {}
        assert answer(ours.get("/items")) == answer(ref.get("/items")) == (
            200, {"q": None, "source": "real"}, None)


def encoders_app(fw: Any) -> Any:
    app = fw.FastAPI()
    handlers = sub(fw, "exception_handlers")
    encoders = sub(fw, "encoders")

    @app.exception_handler(fw.HTTPException)
    async def http(request: Any, exc: Any) -> Any:
        return await handlers.http_exception_handler(request, exc)

    @app.exception_handler(sub(fw, "exceptions").RequestValidationError)
    async def invalid(request: Any, exc: Any) -> Any:
        return await handlers.request_validation_exception_handler(request, exc)

    @app.get("/encode")
    def encode() -> Any:
        item = Item(name="x", tags=["a"])
        data = {"when": datetime.datetime(2024, 5, 1, 12, 0), "d": datetime.timedelta(hours=1),
                "item": item, "set": {3}}
        return sub(fw, "responses").JSONResponse(encoders.jsonable_encoder(data))

    @app.get("/raw")  # not annotated: FastAPI's jsonable_encoder, our encoder's fallback
    def raw():  # type: ignore[no-untyped-def]
        return {1: datetime.timedelta(seconds=90), "when": datetime.date(2024, 1, 2)}

    @app.get("/teapot/{n}")
    def teapot(n: int) -> Any:
        raise fw.HTTPException(418, "short and stout", headers={"x-pot": "1"})

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("kaboom")

    return app


@pytest.mark.parametrize("path", ["/encode", "/raw", "/teapot/1", "/teapot/x", "/boom"])
def test_encoders_default_handlers_and_500(path: str) -> None:
    with both(encoders_app) as (ref, ours):
        ref_client = fastapi.testclient.TestClient(ref.app, raise_server_exceptions=False)
        theirs, mine = ref_client.get(path), ours.get(path)
        assert answer(theirs) == answer(mine)
        assert theirs.headers["content-type"] == mine.headers["content-type"]
        assert theirs.headers.get("x-pot") == mine.headers.get("x-pot")


def middleware_app(fw: Any) -> Any:
    app = fw.FastAPI()
    trusted = sub(fw, "middleware.trustedhost").TrustedHostMiddleware
    app.add_middleware(trusted, allowed_hosts=["example.com", "*.example.org", "www.shop.test"])

    @app.get("/")
    def root() -> Any:
        return {"ok": True}

    return app


@pytest.mark.parametrize(
    "host", ["example.com", "a.example.org", "evil.test", "example.org", "shop.test"]
)
@transport_specific(
    "compared with FastAPI's answers for http:// (redirect URLs carry the scheme)",
    only=("tls",),
)
def test_trusted_host(host: str) -> None:
    with both(middleware_app) as (ref, ours):
        theirs = ref.get("/", headers={"host": host}, follow_redirects=False)
        mine = ours.get("/", headers={"host": host}, follow_redirects=False)
        assert answer(theirs) == answer(mine)
        assert theirs.headers.get("location") == mine.headers.get("location")


def https_app(fw: Any) -> Any:
    app = fw.FastAPI()
    app.add_middleware(sub(fw, "middleware.httpsredirect").HTTPSRedirectMiddleware)

    @app.get("/x")
    def x() -> Any:
        return {"ok": True}

    return app


@transport_specific(
    "compared with FastAPI's answers for http:// (redirect URLs carry the scheme)",
    only=("tls",),
)
def test_https_redirect() -> None:
    with both(https_app) as (ref, ours):
        theirs = ref.get("/x?a=1", headers={"host": "example.com"}, follow_redirects=False)
        mine = ours.get("/x?a=1", headers={"host": "example.com"}, follow_redirects=False)
        assert (theirs.status_code, theirs.headers["location"]) == (
            mine.status_code, mine.headers["location"]) == (307, "https://example.com/x?a=1")


def routes_app(fw: Any) -> Any:
    routing = sub(fw, "routing")

    class Timed(routing.APIRoute):
        def get_route_handler(self) -> Any:
            original = super().get_route_handler()

            async def handler(request: Any) -> Any:
                response = await original(request)
                response.headers["x-wrapped"] = "yes"
                return response

            return handler

    app = fw.FastAPI()
    router = fw.APIRouter(route_class=Timed, responses={404: {"description": "Not found"}})

    @router.get("/wrapped/{n}")
    def wrapped(n: int) -> Any:
        return {"n": n}

    app.include_router(router, prefix="/r")

    @app.get("/lines")
    async def lines() -> AsyncIterable[Item]:
        for name in ("a", "b"):
            yield Item(name=name)

    @app.get("/redirect", response_class=sub(fw, "responses").RedirectResponse)
    def redirect() -> Any:
        return "https://example.com/"

    return app


@pytest.mark.parametrize("path", ["/r/wrapped/3", "/r/wrapped/x", "/lines", "/redirect"])
def test_route_classes_json_lines_response_class(path: str) -> None:
    with both(routes_app) as (ref, ours):
        theirs, mine = ref.get(path, follow_redirects=False), ours.get(path, follow_redirects=False)
        assert (theirs.status_code, theirs.headers.get("content-type"), theirs.content) == (
            mine.status_code, mine.headers.get("content-type"), mine.content)
        assert theirs.headers.get("x-wrapped") == mine.headers.get("x-wrapped")
        assert theirs.headers.get("location") == mine.headers.get("location")


def openapi_app(fw: Any) -> Any:
    app = fw.FastAPI(
        title="Shop", summary="s", description="d", version="2", terms_of_service="https://t",
        contact={"name": "c"}, license_info={"name": "MIT"},
        openapi_tags=[{"name": "items", "description": "Items."}],
        servers=[{"url": "https://api.example.com"}],
    )

    @app.get("/items/{item_id}", tags=["items"], response_description="The item",
             openapi_extra={"x-aaa": {"b": 1}})
    def read_item(item_id: int, filters: Annotated[Filters, fw.Query()]) -> Item:
        return Item(name="x")

    @app.webhooks.post("new-subscription")
    def new_subscription(body: Item) -> None:
        """When a subscription is made."""

    return app


def test_openapi_metadata_operation_ids_webhooks() -> None:
    with both(openapi_app) as (ref, ours):
        theirs, mine = ref.get("/openapi.json").json(), ours.get("/openapi.json").json()
        for key in ("openapi", "info", "servers", "tags"):
            assert theirs[key] == mine[key]
        op_t, op_m = (d["paths"]["/items/{item_id}"]["get"] for d in (theirs, mine))
        for key in ("operationId", "tags", "x-aaa", "parameters"):
            assert op_t[key] == op_m[key], key
        assert op_t["responses"]["200"]["description"] == op_m["responses"]["200"]["description"]
        assert list(theirs["webhooks"]) == list(mine["webhooks"]) == ["new-subscription"]


def test_docs_pages_cdn_and_local_assets() -> None:
    import fasterapi
    from fasterapi.testing import TestClient

    with TestClient(fasterapi.FastAPI(title="T")) as c:
        docs, redoc = c.get("/docs"), c.get("/redoc")
        assert docs.status_code == redoc.status_code == 200
        assert "cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in docs.text
        assert '"url": "/openapi.json"' in docs.text
        assert "redoc.standalone.js" in redoc.text and 'spec-url="/openapi.json"' in redoc.text
        assert c.get("/docs/oauth2-redirect").status_code == 200
    app = fasterapi.FastAPI(docs_assets="local", swagger_ui_parameters={"deepLinking": False})
    with TestClient(app) as c:
        page = c.get("/docs").text
        assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn.jsdelivr" not in page
        assert '"deepLinking": false' in page
        js = c.get("/docs/assets/swagger-ui-bundle.js")
        assert js.status_code == 200 and len(js.content) > 100_000
    with pytest.raises(ValueError, match="docs_assets"):
        fasterapi.FastAPI(docs_assets="elsewhere")
