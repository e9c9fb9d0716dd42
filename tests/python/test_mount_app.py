"""`app.mount("/subapi", subapi)` of another FasterAPI app (FastAPI's sub-applications): its
routes, middleware and OpenAPI document served under the prefix, the document naming the
prefix in `servers`, the parent's document without them."""

from __future__ import annotations

from typing import Any

from fasterapi import FastAPI, Request
from fasterapi.testing import TestClient


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/app")
    def read_main() -> dict[str, str]:
        return {"message": "main"}

    subapi = FastAPI()

    @subapi.middleware("http")
    async def mark(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-sub"] = "yes"
        return response

    @subapi.get("/sub")
    def read_sub() -> dict[str, str]:
        return {"message": "sub"}

    @subapi.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    app.mount("/subapi", subapi)
    return app


def test_sub_application_routes_and_docs() -> None:
    with TestClient(make_app()) as c:
        assert c.get("/app").json() == {"message": "main"}
        r = c.get("/subapi/sub")
        assert (r.status_code, r.json(), r.headers["x-sub"]) == (200, {"message": "sub"}, "yes")
        assert "x-sub" not in c.get("/app").headers
        assert c.get("/subapi/items/3").json() == {"item_id": 3}
        assert c.get("/subapi/items/x").status_code == 422
        assert c.get("/sub").status_code == 404
        main = c.get("/openapi.json").json()
        assert list(main["paths"]) == ["/app"]
        sub = c.get("/subapi/openapi.json").json()
        assert sub["servers"] == [{"url": "/subapi"}]
        assert list(sub["paths"]) == ["/sub", "/items/{item_id}"]
        docs = c.get("/subapi/docs")
        assert docs.status_code == 200 and "/subapi/openapi.json" in docs.text
