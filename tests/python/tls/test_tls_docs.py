"""The ```python example of docs/http-server.md's TLS section runs: its app, with the test
PKI's files in place of cert.pem/key.pem, answers over HTTPS with scheme https."""

from __future__ import annotations

import re
import ssl
from typing import Any

import pytest
from conftest import ROOT
from tls_certs import TestPki, make_pki

from fasterapi.testing import TestClient

DOC = ROOT / "docs" / "http-server.md"


def block(name: str) -> str:
    m = re.search(rf"# example: {name}\n.*?(?=```)", DOC.read_text(), re.S)
    assert m is not None, f"example {name} is gone from {DOC}"
    return m.group(0)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_app_example(pki: TestPki) -> None:
    code = block("tls_app")
    assert '"cert.pem"' in code and '"key.pem"' in code
    code = code.replace('"cert.pem"', repr(str(pki.cert))).replace('"key.pem"', repr(str(pki.key)))
    ns: dict[str, Any] = {"__name__": "docs_example_tls_app"}
    exec(compile(code, f"{DOC}:tls_app", "exec"), ns)
    with TestClient(ns["app"], verify=ssl.create_default_context(cafile=str(pki.ca))) as client:
        assert str(client.base_url).startswith("https://")
        r = client.get("/")
        assert r.status_code == 200
        assert r.json() == {"scheme": "https"}
