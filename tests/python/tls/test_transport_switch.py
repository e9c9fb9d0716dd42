"""FASTERAPI_TEST_TRANSPORT=tls really moves TestClient onto TLS (so the suite's second run is
not plain HTTP under another name): the handler sees scheme https, the client an https URL."""

from __future__ import annotations

from conftest import TEST_TRANSPORT

from fasterapi import App, Request
from fasterapi.testing import TestClient


def test_the_suite_transport_is_in_effect() -> None:
    app = App()

    @app.get("/scheme")
    def scheme(request: Request) -> str:
        return request.url.scheme

    expected = "https" if TEST_TRANSPORT == "tls" else "http"
    with TestClient(app) as client:
        assert client.base_url.scheme == expected
        assert client.get("/scheme").text == expected
