"""A real browser over HTTP/2: headless Chromium loads a page from the App over TLS (the test
CA's certificate, trusted by its SPKI pin) with ALPN h2, fetches a stylesheet, a script, an
image and a JSON API, and reports performance.getEntries()' nextHopProtocol for each: all must
be "h2", and the App sees http_version "2" on every request. scripts/test.sh sets
FASTERAPI_REQUIRE_BROWSER=1: there a missing chromium fails instead of skipping."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from browser import open_page
from tls_certs import TestPki, make_pki

from fasterapi import App, Request
from fasterapi.responses import HTMLResponse, Response
from fasterapi.testing import TestClient

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>h2</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/site.css">
<script src="/assets/app.js"></script>
<img src="/assets/dot.svg" alt="">
<script>
window.addEventListener("load", async () => {
  const api = await (await fetch("/api/items/7")).json();
  const entries = performance.getEntries()
    .filter((e) => e.name.startsWith(location.origin))
    .map((e) => ({path: new URL(e.name).pathname, protocol: e.nextHopProtocol}));
  await fetch("/report", {method: "POST", body: JSON.stringify({api, entries,
                                                                 appJs: window.appJsRan})});
});
</script>
"""

ASSETS = {
    "site.css": ("text/css", "body { color: #123456; }"),
    "app.js": ("text/javascript", "window.appJsRan = true;"),
    "dot.svg": (
        "image/svg+xml",
        '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">'
        '<rect width="1" height="1"/></svg>',
    ),
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def spki_pin(cert: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list takes."""
    pem = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"],
        capture_output=True,
        check=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pem, capture_output=True, check=True
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_chromium_page_and_assets_over_h2(pki: TestPki) -> None:
    app = App(ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.key))
    reported: dict[str, Any] = {}
    versions: dict[str, str] = {}
    done = threading.Event()

    @app.get("/")
    def page(request: Request) -> HTMLResponse:
        versions["/"] = request.http_version
        return HTMLResponse(PAGE)

    @app.get("/assets/{name}")
    def asset(name: str, request: Request) -> Response:
        versions[f"/assets/{name}"] = request.http_version
        media_type, body = ASSETS[name]
        return Response(body, media_type=media_type)

    @app.get("/api/items/{item_id}")
    def item(item_id: int, request: Request) -> dict[str, Any]:
        versions["/api"] = request.http_version
        return {"id": item_id}

    @app.post("/report")
    def report(request: Request) -> dict[str, bool]:
        reported.update(json.loads(request.body))
        done.set()
        return {"ok": True}

    with TestClient(app, verify=ssl.create_default_context(cafile=str(pki.ca))) as client:
        assert client.get("/api/items/1").json() == {"id": 1}  # serving, over TLS
        open_page(
            f"https://127.0.0.1:{client.port}/",
            done,
            timeout=60,
            flags=(f"--ignore-certificate-errors-spki-list={spki_pin(pki.cert)}",),
        )

    assert reported["api"] == {"id": 7} and reported["appJs"] is True
    protocols = {e["path"]: e["protocol"] for e in reported["entries"]}
    assert protocols == {
        "/": "h2",
        "/assets/site.css": "h2",
        "/assets/app.js": "h2",
        "/assets/dot.svg": "h2",
        "/api/items/7": "h2",
    }, reported["entries"]
    assert set(versions.values()) == {"2"}, versions
