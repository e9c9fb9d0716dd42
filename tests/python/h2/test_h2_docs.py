"""docs/http-server.md's HTTP/2 example runs as written, over h2c (httpx with prior
knowledge), with the same answers it gives over HTTP/1.1."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from conftest import ROOT, require_module, transport_specific

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


@transport_specific(
    "the example opens h2c by prior knowledge on the TestClient's port",
    only=("tls",),
)
def test_early_hints_example() -> None:
    """The Early Hints example sends its two Link hints before the page, over HTTP/1.1 and
    h2c (curl -v shows interim responses)."""
    from h2_tools import tool

    ns: dict[str, Any] = {"__name__": "docs_example_early_hints"}
    exec(compile(block("early_hints"), f"{DOC}:early_hints", "exec"), ns)
    with TestClient(ns["app"]) as client:
        hints = (("--http1.1", "HTTP/1.1 103"), ("--http2-prior-knowledge", "HTTP/2 103"))
        for flag, interim in hints:
            r = subprocess.run(
                [
                    tool("curl"),
                    "-sS",
                    "-v",
                    "--max-time",
                    "10",
                    flag,
                    f"http://127.0.0.1:{client.port}/",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            heads = [line[2:].strip() for line in r.stderr.splitlines() if line.startswith("< ")]
            at = next(i for i, h in enumerate(heads) if h.startswith(interim))
            assert [h.split(":", 1)[1].strip() for h in heads[at + 1 : at + 3]] == [
                "</static/app.css>; rel=preload; as=style",
                "<https://cdn.example.com>; rel=preconnect",
            ]
            assert r.stdout.endswith("<p>hello</p>")


@transport_specific(
    "the example opens h2c by prior knowledge on the TestClient's port",
    only=("tls",),
)
def test_server_push_example() -> None:
    """The server push example promises /app.css to nghttp (push on) and returns
    {"pushed": false} to httpx, which disables push."""
    from h2_tools import tool

    ns: dict[str, Any] = {"__name__": "docs_example_server_push"}
    exec(compile(block("server_push"), f"{DOC}:server_push", "exec"), ns)
    with TestClient(ns["app"], http1=False, http2=True) as client:
        assert client.get("/").json() == {"pushed": False}
        r = subprocess.run(
            [tool("nghttp"), "-v", f"http://127.0.0.1:{client.port}/"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        assert "recv PUSH_PROMISE frame" in r.stdout and ":path: /app.css" in r.stdout
        assert r.stdout.count(":status: 200") == 2  # the page and the pushed stylesheet
