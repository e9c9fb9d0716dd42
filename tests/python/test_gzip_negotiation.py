"""GZipMiddleware reads Accept-Encoding as RFC 9110 §12.5.3 says: q-values (q=0 means "not
acceptable"), `*`, `identity`, case-insensitive names, optional whitespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fasterapi import App
from fasterapi.middleware import GZipMiddleware
from fasterapi.middleware.gzip import accepts_gzip
from fasterapi.testing import TestClient

YES = [
    "gzip",
    "GZIP",
    "gzip, deflate, br",
    "deflate , Gzip ; q = 0.5",
    "br;q=1.0, gzip;q=0.8, *;q=0.1",
    "*",
    "*;q=0.3",
    "x-gzip",
    "gzip;q=1, identity;q=0.5",
    "gzip;q=0.001",
    "identity;q=0, *",
]
NO = [
    "",
    "identity",
    "deflate, br",
    "gzip;q=0",
    "gzip; q=0",
    "GZIP;Q=0",
    "gzip;q=0.0",
    "gzip;q=0.000",
    "gzip;q=0, *",
    "*;q=0",
    "*;q=0, identity",
    "gzip;q=0.5, identity",
    "gzip;q=0.5, identity;q=0.9",
    "gzipx",
    "notgzip",
    "gzip;q=abc",
    "gzip;q=2",
    "gzip;q=-1",
    "br, gzip-like",
]


@pytest.mark.parametrize("header", YES)
def test_accepts_gzip(header: str) -> None:
    assert accepts_gzip(header)


@pytest.mark.parametrize("header", NO)
def test_does_not_accept_gzip(header: str) -> None:
    assert not accepts_gzip(header)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = App()
    app.add_middleware(GZipMiddleware, minimum_size=100)

    @app.get("/big")
    def big(req, res):
        return "x" * 5000

    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("header", ["gzip;q=0", "*;q=0", "identity", "gzip;q=0, *", "GZIP;Q=0"])
def test_refused_gzip_is_not_sent(client: TestClient, header: str) -> None:
    r = client.get("/big", headers={"Accept-Encoding": header})
    assert "content-encoding" not in r.headers
    assert r.content == b"x" * 5000


@pytest.mark.parametrize("header", ["gzip", "Gzip;q=0.5", "*", "deflate ,\tgzip ;  q=1"])
def test_accepted_gzip_is_sent(client: TestClient, header: str) -> None:
    r = client.get("/big", headers={"Accept-Encoding": header})
    assert r.headers["content-encoding"] == "gzip"
    assert r.text == "x" * 5000


def test_several_accept_encoding_lines_are_one_list(client: TestClient) -> None:
    from conftest import raw_http

    def encoding(*lines: str) -> bytes:
        head = "".join(f"Accept-Encoding: {v}\r\n" for v in lines)
        out = raw_http(
            client.port, f"GET /big HTTP/1.1\r\nHost: x\r\n{head}Connection: close\r\n\r\n".encode()
        )
        return out.partition(b"\r\n\r\n")[0].lower()

    assert b"content-encoding: gzip" in encoding("deflate", "gzip")
    assert b"content-encoding" not in encoding("deflate", "br")
