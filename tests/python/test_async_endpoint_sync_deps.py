"""An `async def` endpoint whose dependencies are all sync is solved without a coroutine
(fasterapi/_endpoint.py): same answers as FastAPI, generator dependencies still closed after
the response, and dependency_overrides may still replace a sync dependency with an async one."""

# No `from __future__ import annotations`: the apps' annotations name the framework module.
import time
from collections.abc import Iterator
from typing import Any

from fastapi_parity import answer, both

EVENTS: list[str] = []


def common(q: str | None = None, limit: int = 10) -> dict[str, Any]:
    return {"q": q, "limit": limit}


def session() -> Iterator[str]:
    EVENTS.append("open")
    try:
        yield "db"
    finally:  # the endpoint's exception is thrown in at the yield
        EVENTS.append("close")


async def async_common(q: str | None = None) -> dict[str, Any]:
    return {"q": q, "limit": -1, "override": True}


def make_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/items")
    async def items(
        params: dict[str, Any] = fw.Depends(common), db: str = fw.Depends(session)
    ) -> Any:
        return {"params": params, "db": db}

    @app.get("/fail")
    async def fail(db: str = fw.Depends(session)) -> Any:
        raise fw.HTTPException(418, "teapot")

    return app


def test_async_endpoint_with_sync_dependencies_matches_fastapi() -> None:
    with both(make_app) as (ref, ours):
        for url in ("/items", "/items?q=x&limit=3", "/items?limit=no", "/fail"):
            assert answer(ours.get(url)) == answer(ref.get(url))
        EVENTS.clear()
        assert ours.get("/items").status_code == 200
        assert ours.get("/fail").status_code == 418
        deadline = time.monotonic() + 5  # request-scoped exits run after the response is sent
        while len(EVENTS) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert EVENTS == ["open", "close", "open", "close"]


def test_async_override_of_a_sync_dependency() -> None:
    with both(make_app) as (ref, ours):
        for client in (ref, ours):
            client.app.dependency_overrides[common] = async_common
        mine = answer(ours.get("/items?q=y"))
        assert mine == answer(ref.get("/items?q=y"))
        assert mine[1]["params"] == {"q": "y", "limit": -1, "override": True}
        for client in (ref, ours):
            client.app.dependency_overrides = {}
        assert answer(ours.get("/items?q=y"))[1]["params"] == {"q": "y", "limit": 10}
