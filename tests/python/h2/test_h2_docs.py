"""docs/http-server.md's HTTP/2 example runs as written, over h2c (httpx with prior
knowledge), with the same answers it gives over HTTP/1.1."""

from __future__ import annotations

import re
from typing import Any

from conftest import ROOT, require_module

from fasterapi.testing import TestClient

DOC = ROOT / "docs" / "http-server.md"


def block(name: str) -> str:
    m = re.search(rf"# example: {name}\n.*?(?=```)", DOC.read_text(), re.S)
    assert m is not None, f"example {name} is gone from {DOC}"
    return m.group(0)


def test_h2_app_example() -> None:
    require_module("h2")
    ns: dict[str, Any] = {"__name__": "docs_example_h2_app"}
    exec(compile(block("h2_app"), f"{DOC}:h2_app", "exec"), ns)
    for http2 in (True, False):
        with TestClient(ns["app"], http1=not http2, http2=http2) as client:
            r = client.get("/items/1")
            assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
            assert r.json() == {"item_id": 1}
            assert client.get("/count").text == "0\n1\n2\n"
