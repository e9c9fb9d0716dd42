"""FASTERAPI_TEST_TRANSPORT=h2c (tests/python/conftest.py) really puts every TestClient on
HTTP/2: the suite's second run over h2c would otherwise be HTTP/1.1 again and prove nothing."""

from __future__ import annotations

from conftest import TEST_TRANSPORT, require_module

from fasterapi import App
from fasterapi.testing import TestClient


def test_transport_switch_in_effect() -> None:
    require_module("h2")
    app = App()

    @app.get("/")
    def index() -> dict[str, str]:
        return {"ok": "yes"}

    with TestClient(app) as client:
        r = client.get("/")
        assert r.json() == {"ok": "yes"}
        assert r.http_version == ("HTTP/2" if TEST_TRANSPORT == "h2c" else "HTTP/1.1")
