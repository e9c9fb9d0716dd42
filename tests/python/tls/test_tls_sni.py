"""SNI with several certificates from Python (RFC 6066 §3): App(ssl_sni_certs={name: cert})
serves the named certificate to clients that ask for that name and ssl_certfile's to the rest;
a certificate not valid for its name, or a malformed entry, fails at startup."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest
from tls_certs import TestPki, make_pki

from fasterapi import App
from fasterapi.testing import TestClient


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def make_app(pki: TestPki, sni: dict[str, Any]) -> App:
    app = App(ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.key), ssl_sni_certs=sni)

    @app.get("/")
    def index() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def names_served(port: int, server_name: str, ca: str) -> tuple[list[str], bytes]:
    """The DNS names in the certificate the server chose for `server_name`, and the answer to
    a GET / over that connection (the certificate must verify for the name)."""
    ctx = ssl.create_default_context(cafile=ca)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=server_name) as s,
    ):
        cert = s.getpeercert()
        s.sendall(f"GET / HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    return names, out


@pytest.mark.parametrize("entry", ["pair", "cert_only"])
def test_named_certificate_by_sni(pki: TestPki, entry: str) -> None:
    if entry == "pair":
        sni: dict[str, Any] = {"other.test": (str(pki.other_cert), str(pki.other_key))}
    else:  # the key inside the certfile, as ssl_certfile allows
        combined = pki.dir / "other-combined.pem"
        combined.write_bytes(pki.other_cert.read_bytes() + pki.other_key.read_bytes())
        sni = {"other.test": str(combined)}
    with TestClient(make_app(pki, sni), verify=ssl.create_default_context(cafile=str(pki.ca))) as c:
        names, out = names_served(c.port, "other.test", str(pki.ca))
        assert names == ["other.test"] and out.endswith(b'{"ok":"yes"}')
        names, out = names_served(c.port, "localhost", str(pki.ca))
        assert names == ["localhost"] and out.endswith(b'{"ok":"yes"}')
        assert c.get("/").json() == {"ok": "yes"}  # no SNI (an IP): the default certificate


def test_certificate_not_valid_for_its_name_fails_at_start(pki: TestPki) -> None:
    app = make_app(pki, {"wrong.test": (str(pki.other_cert), str(pki.other_key))})
    with pytest.raises(RuntimeError, match=r"not valid for server name 'wrong\.test'"):
        with TestClient(app):
            pass


def test_malformed_entry(pki: TestPki) -> None:
    app = make_app(pki, {"other.test": (str(pki.other_cert), "a", "b", "c")})
    with pytest.raises(RuntimeError, match="ssl_sni_certs"):
        with TestClient(app):
            pass
