"""103 Early Hints (RFC 8297) from a handler — `request.send_early_hints(*links)` — on
HTTP/1.1 and HTTP/2 (h2c and by Upgrade), judged by curl -v and the `h2` package: the interim
head arrives before the final one with a Link field per value; none to HTTP/1.0 clients, none
after the response has started, bad values refused."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from conftest import raw_http, require_module
from h2_client import H2Client
from h2_tools import tool

from fasterapi import App, Request
from fasterapi.testing import TestClient

pytest_plugins = ["h2_servers"]
require_module("h2")

LINKS = ["</style.css>; rel=preload; as=style", "<https://cdn.example>; rel=preconnect"]


def curl_v(*args: str) -> tuple[str, list[str]]:
    r = subprocess.run(
        [tool("curl"), "-sS", "-v", "--max-time", "10", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout, [line[2:].strip() for line in r.stderr.splitlines() if line.startswith("< ")]


@pytest.mark.parametrize(
    ("flag", "interim", "final"),
    [
        ("--http1.1", "HTTP/1.1 103 Early Hints", "HTTP/1.1 200 OK"),
        ("--http2-prior-knowledge", "HTTP/2 103", "HTTP/2 200"),
        ("--http2", "HTTP/2 103", "HTTP/2 200"),  # h2c by Upgrade: the hints on stream 1
    ],
)
def test_curl_sees_hints_before_the_answer(
    py_server: Any, flag: str, interim: str, final: str
) -> None:
    port, _ = py_server()
    out, heads = curl_v(flag, f"http://127.0.0.1:{port}/hinted")
    assert out == '{"sent":true}'
    at = heads.index(interim)
    assert heads.index(final) > at
    links = [h.split(":", 1)[1].strip() for h in heads[at:] if h.lower().startswith("link:")]
    assert links[:2] == LINKS


def test_h2_interim_headers_event(py_server: Any) -> None:
    from h2.events import InformationalResponseReceived, ResponseReceived

    port, _ = py_server()
    c = H2Client(port, window=65535)
    sid = c.get("/hinted")
    c.read_until(lambda: c.ended(sid), timeout=10)
    kinds = [type(e) for e in c.events if getattr(e, "stream_id", None) == sid]
    assert kinds.index(InformationalResponseReceived) < kinds.index(ResponseReceived)
    hint = next(e for e in c.events if isinstance(e, InformationalResponseReceived))
    assert hint.headers == [(":status", "103"), ("link", LINKS[0]), ("link", LINKS[1])]
    assert c.body(sid) == b'{"sent":true}'


def test_no_hints_for_http_1_0_or_after_the_response_started(py_server: Any) -> None:
    port, _ = py_server()
    out = raw_http(port, b"GET /hinted HTTP/1.0\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"103" not in out
    assert out.endswith(b'{"sent":false}')
    for flag in ("--http1.1", "--http2-prior-knowledge"):
        body, heads = curl_v(flag, f"http://127.0.0.1:{port}/hinted-late")
        assert body == "False" and not any(" 103" in h for h in heads)


def test_bad_links_are_refused() -> None:
    app = App()

    @app.get("/")
    def index(request: Request) -> dict[str, str]:
        errors = []
        for bad in (("</a>\r\nX-Injected: 1",), ("",), ("a\x00b",), ()):
            try:
                request.send_early_hints(*bad)
            except (ValueError, TypeError) as e:
                errors.append(type(e).__name__)
        return {"errors": ",".join(errors)}

    with TestClient(app) as client:
        assert client.get("/").json() == {"errors": "ValueError,ValueError,ValueError,TypeError"}
