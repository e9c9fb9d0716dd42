"""Jinja2Templates (with `url_for` to a route and to a mounted StaticFiles) and
run_in_threadpool, each app run on FastAPI and on FasterAPI and the answers compared."""

import importlib
import pathlib
import threading
from typing import Any

import pytest
from conftest import transport_specific

from tests.python.fastapi_parity import both

TEMPLATE = """<html><head><link href="{{ url_for('static', path='/styles.css') }}"></head>
<body><a href="{{ url_for('read_item', id=id) }}">Item {{ id }}</a>{{ unsafe }}</body></html>"""


@pytest.fixture
def site(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "item.html").write_text(TEMPLATE)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "styles.css").write_text("h1 { color: green; }")
    return tmp_path


@transport_specific(
    "compared with FastAPI's answers for http:// (url_for carries the scheme)",
    only=("tls",),
)
def test_template_response_and_url_for(site: pathlib.Path) -> None:
    def make_app(fw: Any) -> Any:
        templating = importlib.import_module(f"{fw.__name__}.templating")
        staticfiles = importlib.import_module(f"{fw.__name__}.staticfiles")
        responses = importlib.import_module(f"{fw.__name__}.responses")
        app = fw.FastAPI()
        app.mount("/static", staticfiles.StaticFiles(directory=site / "static"), name="static")
        templates = templating.Jinja2Templates(directory=site / "templates")

        @app.get("/items/{id}", response_class=responses.HTMLResponse)
        async def read_item(request: fw.Request, id: str) -> Any:
            return templates.TemplateResponse(
                request=request, name="item.html", context={"id": id, "unsafe": "<b>"}
            )

        return app

    with both(make_app) as (ref, ours):
        for client in (ref, ours):
            client.headers["host"] = "testserver"
        theirs, mine = ref.get("/items/42"), ours.get("/items/42")
        assert (theirs.status_code, theirs.headers["content-type"], theirs.text) == (
            mine.status_code, mine.headers["content-type"], mine.text)
        assert 'href="http://testserver/items/42"' in mine.text and "&lt;b&gt;" in mine.text
        assert ours.get("/static/styles.css").text == "h1 { color: green; }"


def test_run_in_threadpool() -> None:
    def make_app(fw: Any) -> Any:
        concurrency = importlib.import_module(f"{fw.__name__}.concurrency")
        app = fw.FastAPI()

        def blocking(x: int) -> dict[str, Any]:
            return {"x": x * 2, "main": threading.current_thread() is threading.main_thread()}

        @app.get("/t")
        async def t() -> Any:
            return await concurrency.run_in_threadpool(blocking, 21)

        return app

    with both(make_app) as (ref, ours):
        assert ref.get("/t").json() == ours.get("/t").json() == {"x": 42, "main": False}
