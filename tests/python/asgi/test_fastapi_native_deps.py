"""ASGI mode's native path with dependencies (fasterapi/asgi/fastapi_solver.py): answers and
the dependency calls made match FastAPI's own, request by request — chains, the per-request
cache, sync dependencies, security classes, SecurityScopes, route and router dependencies,
dependencies that raise, invalid inputs anywhere in the tree (no dependency runs twice),
`dependency_overrides`, and a dependency with `yield` (FastAPI's own handler)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from conftest import require_module

require_module("fastapi")
from fastapi import (  # noqa: E402
    APIRouter,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Request,
    Security,
)
from fastapi.security import (  # noqa: E402
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
    SecurityScopes,
)
from fastapi.testclient import TestClient as FastAPIClient  # noqa: E402
from native_hand_overs import record_hand_overs  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from fasterapi.asgi import fastapi_native, serve_app  # noqa: E402
from fasterapi.testing import TestClient  # noqa: E402

pytestmark = pytest.mark.timeout(60)

CALLS: list[str] = []  # every dependency call, in order, on whichever side is serving


class Item(BaseModel):
    name: str
    price: float


async def common(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    CALLS.append(f"common {q} {skip} {limit}")
    return {"q": q, "skip": skip, "limit": limit}


def sync_dep(x_key: Annotated[str, Header()] = "none") -> str:
    CALLS.append(f"sync {x_key}")
    return x_key


async def leaf(n: int = 1) -> int:
    CALLS.append(f"leaf {n}")
    return n


async def middle(a: Annotated[int, Depends(leaf)], b: Annotated[int, Depends(leaf)]) -> int:
    CALLS.append("middle")  # leaf runs once: FastAPI's per-request cache
    return a + b


async def uncached_leaf(n: int = 1) -> int:
    CALLS.append("uncached")
    return n


async def twice(
    a: Annotated[int, Depends(uncached_leaf, use_cache=False)],
    b: Annotated[int, Depends(uncached_leaf, use_cache=False)],
) -> int:
    return a + b


async def verify_token(x_token: Annotated[str, Header()]) -> None:
    CALLS.append(f"verify {x_token}")
    if x_token != "secret":
        raise HTTPException(403, "bad token", headers={"x-why": "token"})


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "read items"})
basic = HTTPBasic()


async def current_user(
    scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]
) -> dict[str, Any]:
    CALLS.append(f"user {token} {scopes.scope_str}")
    if token == "expired":
        raise HTTPException(401, "expired", headers={"WWW-Authenticate": "Bearer"})
    return {"token": token, "scopes": scopes.scopes}


class Pager:  # a class as a dependency: its __init__ parameters are the inputs
    def __init__(self, page: int = 1) -> None:
        CALLS.append(f"pager {page}")
        self.page = page


async def with_yield() -> Any:
    CALLS.append("yield enter")
    yield "y"
    CALLS.append("yield exit")


async def needs_request(request: Request) -> str:
    CALLS.append("request")
    return request.url.path


def make_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/r", dependencies=[Depends(verify_token)])

    @app.get("/common")
    async def read_common(params: Annotated[dict[str, Any], Depends(common)]) -> dict[str, Any]:
        return params

    @app.get("/chain/{item_id}")
    def chain(
        item_id: int,
        total: Annotated[int, Depends(middle)],
        again: Annotated[int, Depends(leaf)],
        key: Annotated[str, Depends(sync_dep)],
    ) -> dict[str, Any]:
        return {"item_id": item_id, "total": total, "again": again, "key": key}

    @app.get("/twice")
    async def read_twice(total: Annotated[int, Depends(twice)]) -> int:
        return total

    @app.get("/guarded", dependencies=[Depends(verify_token)])
    async def guarded() -> str:
        return "in"

    @app.get("/me")
    async def me(
        user: Annotated[dict[str, Any], Security(current_user, scopes=["items"])],
    ) -> dict[str, Any]:
        return user

    @app.get("/basic")
    async def read_basic(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
        return creds.username

    @app.get("/pager")
    async def pager(p: Annotated[Pager, Depends()]) -> int:
        return p.page

    @app.get("/yield")
    async def read_yield(v: Annotated[str, Depends(with_yield)]) -> str:
        return v

    @app.post("/items")
    async def create(
        item: Item, path: Annotated[str, Depends(needs_request)], request: Request
    ) -> dict[str, Any]:
        return {"item": item, "path": path, "raw": (await request.body()).decode()}

    @app.get("/calls")
    async def calls() -> list[str]:
        return CALLS

    @router.get("/{x}")
    async def routed(x: int, params: Annotated[dict[str, Any], Depends(common)]) -> dict[str, Any]:
        return {"x": x, **params}

    app.include_router(router)
    return app


REQUESTS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", "/common?q=a&limit=5", {}, None),
    ("GET", "/common?skip=x", {}, None),  # invalid input of the dependency: 422
    ("GET", "/chain/3?n=2", {"x-key": "k"}, None),
    ("GET", "/chain/x?n=2", {"x-key": "k"}, None),  # endpoint input invalid: no call made
    ("GET", "/chain/3?n=two", {}, None),  # the leaf's input invalid
    ("GET", "/twice?n=4", {}, None),
    ("GET", "/guarded", {"x-token": "secret"}, None),
    ("GET", "/guarded", {"x-token": "wrong"}, None),  # 403 raised by the dependency
    ("GET", "/guarded", {}, None),  # the header is missing: 422
    ("GET", "/me", {"authorization": "Bearer abc"}, None),
    ("GET", "/me", {"authorization": "Bearer expired"}, None),
    ("GET", "/me", {}, None),  # OAuth2PasswordBearer's own 401
    ("GET", "/basic", {"authorization": "Basic dXNlcjpwdw=="}, None),
    ("GET", "/basic", {"authorization": "Basic !!"}, None),
    ("GET", "/basic", {}, None),
    ("GET", "/pager?page=3", {}, None),
    ("GET", "/yield", {}, None),
    ("POST", "/items", {"content-type": "application/json"}, b'{"name": "a", "price": 1}'),
    ("POST", "/items", {"content-type": "application/json"}, b'{"name": "a"}'),
    ("GET", "/r/5?q=z", {"x-token": "secret"}, None),
    ("GET", "/r/5", {"x-token": "no"}, None),
    ("GET", "/calls", {}, None),
]


def answer(response: Any) -> tuple[Any, ...]:
    h = response.headers
    return (response.status_code, h.get("content-type"), response.content, h.get("x-why"),
            h.get("www-authenticate"))  # fmt: skip


def test_dependencies_answer_and_run_as_fastapi_does(monkeypatch: pytest.MonkeyPatch) -> None:
    CALLS.clear()
    reference = FastAPIClient(make_app(), raise_server_exceptions=False)
    expected = [answer(reference.request(m, p, headers=h, content=b)) for m, p, h, b in REQUESTS]
    CALLS.clear()
    handed_over = record_hand_overs(monkeypatch)  # requests given to FastAPI's own handler
    app = make_app()
    with TestClient(serve_app(app)) as client:
        got = [answer(client.request(m, p, headers=h, content=b)) for m, p, h, b in REQUESTS]
    for (method, path, headers, _), want, have in zip(REQUESTS, expected, got, strict=True):
        assert have == want, f"{method} {path} {headers}"
    # the native path was taken where it can be, and the cases are what they claim
    assert fastapi_native.native_routes(app) == 10  # all but /yield (and the docs routes)
    assert [e[0] for e in expected[:4]] == [200, 422, 200, 422]
    assert b"middle" in expected[-1][2] and b"yield exit" in expected[-1][2]
    # only the requests with an invalid input (a dependency that raises answers natively)
    assert handed_over == [
        "/common?skip=x", "/chain/x?n=2", "/chain/3?n=two", "/guarded?", "/items?"]  # fmt: skip


def test_overridden_dependencies_are_fastapi_s() -> None:
    async def fake_common() -> dict[str, Any]:
        return {"fake": True}

    CALLS.clear()
    app = make_app()
    with TestClient(serve_app(app)) as client:
        assert client.get("/common?q=a").json() == {"q": "a", "skip": 0, "limit": 100}
        app.dependency_overrides[common] = fake_common
        assert client.get("/common?q=a").json() == {"fake": True}
        app.dependency_overrides.clear()
        assert client.get("/common?q=b").json() == {"q": "b", "skip": 0, "limit": 100}
    assert CALLS == ["common a 0 100", "common b 0 100"]
