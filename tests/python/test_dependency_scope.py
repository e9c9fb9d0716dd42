"""`Depends(dep, scope="function")` (FastAPI 0.121+): a generator dependency whose exit runs
as soon as the endpoint has returned, before the response is sent, where the default
("request") exits after the response. Checked over a real socket with streamed bodies, which
are produced after the endpoint returned."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from fasterapi import APIRouter, Depends, FastAPI, HTTPException
from fasterapi.exceptions import DependencyScopeError, FastAPIError
from fasterapi.responses import StreamingResponse
from fasterapi.testing import TestClient


class Resource:
    def __init__(self) -> None:
        self.open = True


def resource() -> Iterator[Resource]:
    r = Resource()
    yield r
    r.open = False


async def async_resource() -> AsyncIterator[Resource]:
    r = Resource()
    yield r
    r.open = False


def fails_on_exit() -> Iterator[None]:
    yield
    raise HTTPException(status_code=503, detail="exit failed")


ForCall = Annotated[Resource, Depends(resource, scope="function")]
AsyncForCall = Annotated[Resource, Depends(async_resource, scope="function")]
ForRequest = Annotated[Resource, Depends(resource, scope="request")]
Default = Annotated[Resource, Depends(resource)]


def state(**resources: Resource) -> StreamingResponse:
    """A body made after the endpoint returned: it shows which exits had run by then."""

    def body() -> Iterator[str]:
        yield json.dumps({k: r.open for k, r in resources.items()})

    return StreamingResponse(body())


def outer_for_call(inner: ForCall) -> Iterator[tuple[Resource, Resource]]:
    mine = Resource()
    yield mine, inner
    mine.open = False


def plain_outer(inner: ForCall) -> tuple[Resource, Resource]:
    return Resource(), inner


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/function")
    def function_scope(r: ForCall) -> Any:
        return state(r=r)

    @app.get("/function-async")
    async def function_scope_async(r: AsyncForCall) -> Any:
        return state(r=r)

    @app.get("/request")
    def request_scope(r: ForRequest) -> Any:
        return state(r=r)

    @app.get("/both")
    def both(f: ForCall, r: ForRequest, d: Default) -> Any:
        assert r is d  # "request" and the default share one cached value
        assert f is not r  # a different scope is a different value
        return state(f=f, r=r)

    @app.get("/nested")
    def nested(
        pair: Annotated[tuple[Resource, Resource], Depends(outer_for_call, scope="function")],
    ) -> Any:
        return state(outer=pair[0], inner=pair[1])

    @app.get("/plain-outer")
    def plain(pair: Annotated[tuple[Resource, Resource], Depends(plain_outer)]) -> Any:
        return state(outer=pair[0], inner=pair[1])

    router = APIRouter()

    @router.get("/")
    def index() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(
        router, prefix="/exit-fn", dependencies=[Depends(fails_on_exit, scope="function")]
    )
    app.include_router(router, prefix="/exit-req", dependencies=[Depends(fails_on_exit)])
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/function", {"r": False}),
        ("/function-async", {"r": False}),
        ("/request", {"r": True}),
        ("/both", {"f": False, "r": True}),
        ("/nested", {"outer": False, "inner": False}),
        ("/plain-outer", {"outer": True, "inner": False}),
    ],
)
def test_exit_runs_before_the_response_only_for_function_scope(
    client: TestClient, path: str, expected: dict[str, bool]
) -> None:
    r = client.get(path)
    assert (r.status_code, r.json()) == (200, expected)


def test_an_error_in_a_function_scoped_exit_is_the_answer(client: TestClient) -> None:
    r = client.get("/exit-fn/")
    assert (r.status_code, r.json()) == (503, {"detail": "exit failed"})
    r = client.get("/exit-req/")  # after the response: logged, the answer stands
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_request_scoped_generator_cannot_use_a_function_scoped_one() -> None:
    app = FastAPI()
    with pytest.raises(DependencyScopeError, match='"outer_for_call" has a scope of "request"'):

        @app.get("/broken")
        def broken(pair: Annotated[Any, Depends(outer_for_call)]) -> None:
            pass

    assert issubclass(DependencyScopeError, FastAPIError)
