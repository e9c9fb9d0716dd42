"""Client-certificate and connection details for handlers over TLS: the ASGI TLS extension
(asgiref's "TLS" extension) in `request.scope["extensions"]["tls"]` and in the scope a mounted
ASGI app receives — server_cert, client_cert_chain, client_cert_name, client_cert_error,
tls_version, cipher_suite — with mTLS optional (ssl_cert_reqs=1) so a client may come with a
certificate or without; none of it over plain TCP."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import pytest
from conftest import transport_specific
from tls_certs import TestPki, make_pki

from fasterapi import App, Request
from fasterapi.testing import TestClient


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = json.dumps(scope.get("extensions", {}).get("tls")).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def make_app(**ssl_settings: Any) -> App:
    app = App(**ssl_settings)

    @app.get("/tls")
    def tls(request: Request) -> dict[str, Any]:
        return {"extensions": request.scope["extensions"]}

    app.mount("/asgi", asgi_app)
    return app


def first_pem(path: Any) -> str:
    text: str = path.read_text()
    end = "-----END CERTIFICATE-----\n"
    return text[: text.index(end) + len(end)]


@pytest.mark.parametrize("with_client_cert", [True, False])
def test_tls_extension_in_scope(pki: TestPki, with_client_cert: bool) -> None:
    app = make_app(
        ssl_certfile=str(pki.cert),
        ssl_keyfile=str(pki.key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
    )
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    if with_client_cert:
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    with TestClient(app, verify=ctx) as c:
        for http2 in (False, True):
            with httpx.Client(base_url=str(c.base_url), verify=ctx, http2=http2) as h:
                tls = h.get("/tls").json()["extensions"]["tls"]
                assert h.get("/asgi/").json() == tls  # the same for a mounted ASGI app
            assert tls["server_cert"] == first_pem(pki.cert)
            assert tls["tls_version"] in (0x0303, 0x0304)
            assert 0 < tls["cipher_suite"] < 0x10000
            assert tls["client_cert_error"] is None
            if with_client_cert:
                assert tls["client_cert_name"] == "CN=client"
                # The client's certificate first; OpenSSL's client adds the CA from its trust
                # store unless told not to (no SSL_MODE_NO_AUTO_CHAIN), and we report what came.
                leaf, *rest = tls["client_cert_chain"]
                assert leaf == first_pem(pki.client_cert) and rest in ([], [first_pem(pki.ca)])
            else:
                assert tls["client_cert_name"] is None and tls["client_cert_chain"] == []


@transport_specific("about a plain TCP connection", only=("tls",))
def test_no_tls_extension_over_tcp() -> None:
    with TestClient(make_app(), http1=True, http2=False) as c:
        assert c.get("/tls").json() == {"extensions": {}}
        assert c.get("/asgi/").json() is None
