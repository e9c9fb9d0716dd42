"""The FastAPI surface costs nothing where it is not used: a route returning a dict is still
encoded by the C++ engine (the Python render hook never runs for it), typed routes included;
only a value the C++ encoder refuses (a timedelta) goes through render() and
jsonable_encoder."""

import datetime
from typing import Any

import pytest

from fasterapi import FastAPI, _dispatch
from fasterapi.testing import TestClient


@pytest.fixture
def render_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Results that reached the Python render hook (the hook is read when the app starts)."""
    calls: list[Any] = []
    original = _dispatch.render

    def counting(result: Any, req: Any, res: Any, responder: Any) -> None:
        calls.append(result)
        original(result, req, res, responder)

    monkeypatch.setattr(_dispatch, "render", counting)
    return calls


def test_dict_results_stay_on_the_cpp_encoder(render_calls: list[Any]) -> None:
    app = FastAPI(summary="s", servers=[{"url": "/"}], redoc_url="/r")

    @app.get("/plain")
    def plain(req: Any, res: Any) -> dict[str, int]:
        return {"a": 1}

    @app.get("/typed")
    def typed(q: int = 1) -> dict[str, int]:
        return {"q": q}

    @app.get("/fallback")
    def fallback():  # type: ignore[no-untyped-def]
        return {"d": datetime.timedelta(seconds=2)}

    with TestClient(app) as client:
        assert client.get("/plain").json() == {"a": 1}
        assert client.get("/typed?q=3").json() == {"q": 3}
        assert render_calls == []
        assert client.get("/fallback").json() == {"d": 2.0}  # as FastAPI's jsonable_encoder
        assert render_calls == [{"d": datetime.timedelta(seconds=2)}]
