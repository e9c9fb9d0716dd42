"""/docs in a real browser: headless Chromium (Debian's `chromium`) opens Swagger UI served
from the packaged bundle (App(docs_assets="local"): no CDN, as on an offline machine) and
the rendered page must list every operation of the app. scripts/test.sh sets
FASTERAPI_REQUIRE_BROWSER=1: there a missing chromium fails instead of skipping."""

import re

from browser import dump_dom, find_chromium
from conftest import transport_specific
from pydantic import BaseModel

from fasterapi import FastAPI
from fasterapi.testing import TestClient

pytestmark = transport_specific(
    "headless Chromium: HTTP/1.1 to http:// URLs (no h2c); does not trust the suite CA",
)


class Item(BaseModel):
    name: str
    price: float


def test_swagger_ui_renders_the_operations_offline() -> None:
    find_chromium()  # before the app: a missing browser fails in CI, skips elsewhere

    app = FastAPI(title="Browser Shop", docs_assets="local")

    @app.get("/items/{item_id}", tags=["items"])
    def read_item(item_id: int, q: str | None = None) -> Item:
        return Item(name="x", price=1.0)

    @app.post("/items/", tags=["items"])
    def create_item(item: Item) -> Item:
        return item

    with TestClient(app) as client:
        dom = dump_dom(f"http://127.0.0.1:{client.port}/docs")
    # Swagger UI's own markup: one opblock per operation, with its method and path
    assert "swagger-ui" in dom and "Browser Shop" in dom, dom[:2000]
    blocks = re.findall(r'opblock opblock-(get|post)\b', dom)
    assert sorted(blocks) == ["get", "post"], dom[:4000]
    assert "/items/{item_id}" in dom.replace("\u200b", "") and "/items/" in dom
    assert "cdn.jsdelivr" not in dom
