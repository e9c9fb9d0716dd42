"""FileResponse and StaticFiles through the engine (sendfile on TCP, the read-and-write
fallback over TLS, the read pump on HTTP/2): stat headers, Range (206, multipart/byteranges,
416, 400), If-Range, conditional GETs (304) and HEAD, judged by httpx as Starlette's are."""

from __future__ import annotations

import email.utils
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fasterapi import App
from fasterapi.responses import FileResponse
from fasterapi.staticfiles import StaticFiles
from fasterapi.testing import TestClient

DATA = bytes((i * 7 + i // 251) % 256 for i in range(300_000))


@pytest.fixture(params=["tcp", "tls", "h2c"])
def transport(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Each test once per transport: TCP (sendfile), TLS (ENOTSUP: pread + write), h2c (the
    engine's 64 KiB read pump under HTTP/2 framing)."""
    saved_tls, saved_h2 = TestClient.suite_tls, TestClient.suite_http2
    if request.param == "tls":
        from tls_certs import make_pki

        pki = make_pki(tmp_path_factory.mktemp("pki"))
        TestClient.suite_tls = {
            "ssl_certfile": str(pki.cert),
            "ssl_keyfile": str(pki.key),
            "verify": ssl.create_default_context(cafile=str(pki.ca)),
        }
    elif request.param == "h2c":
        TestClient.suite_http2 = True
    yield request.param
    TestClient.suite_tls, TestClient.suite_http2 = saved_tls, saved_h2


@pytest.fixture
def client(tmp_path: Path, transport: str) -> Iterator[TestClient]:
    (tmp_path / "data.bin").write_bytes(DATA)
    (tmp_path / "hello.txt").write_text("hello, files")
    (tmp_path / "empty.txt").write_bytes(b"")
    app = App()
    app.mount("/static", StaticFiles(directory=tmp_path))

    @app.get("/download")
    def download(req, res):
        return FileResponse(tmp_path / "data.bin", filename="data.bin")

    @app.get("/named")
    def named(req, res):
        return FileResponse(tmp_path / "hello.txt", filename="résumé.txt")

    @app.get("/async")
    async def async_file(req, res):
        return FileResponse(tmp_path / "data.bin", headers={"x-extra": "1"})

    @app.get("/missing")
    def missing(req, res):
        return FileResponse(tmp_path / "nope.bin")

    with TestClient(app) as c:
        yield c


def test_whole_file_with_stat_headers(client: TestClient, tmp_path: Path) -> None:
    r = client.get("/static/data.bin")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["accept-ranges"] == "bytes"
    st = os.stat(tmp_path / "data.bin")
    assert r.headers["last-modified"] == email.utils.formatdate(st.st_mtime, usegmt=True)
    assert r.headers["etag"].startswith('"') and len(r.headers["etag"]) == 34
    assert "transfer-encoding" not in r.headers
    assert client.get("/static/empty.txt").content == b""
    a = client.get("/async")
    assert (a.content, a.headers["x-extra"]) == (DATA, "1")
    d = client.get("/download")
    assert d.headers["content-disposition"] == 'attachment; filename="data.bin"'
    n = client.get("/named")
    assert n.headers["content-disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"
    assert client.get("/missing").status_code == 500
    (tmp_path / "LICENSE").write_bytes(b"x")  # no extension: opaque bytes, as Starlette says
    assert client.get("/static/LICENSE").headers["content-type"] == "application/octet-stream"


def test_head_sends_the_headers_alone(client: TestClient) -> None:
    r = client.head("/static/data.bin")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(DATA))
    r = client.head("/static/data.bin", headers={"range": "bytes=0-9"})
    assert (r.status_code, r.headers["content-length"]) == (206, "10")
    assert client.get("/static/hello.txt").text == "hello, files"  # the connection held


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=100-", 100, len(DATA)),
        ("bytes=-500", len(DATA) - 500, len(DATA)),
        ("bytes=299990-400000", 299_990, len(DATA)),
        ("bytes=-999999", 0, len(DATA)),
        ("bytes=5-5", 5, 6),
    ],
)
def test_single_range(client: TestClient, spec: str, start: int, end: int) -> None:
    r = client.get("/static/data.bin", headers={"range": spec})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert r.headers["content-length"] == str(end - start)
    assert r.content == DATA[start:end]


def _multipart(r: httpx.Response) -> list[tuple[str, str, bytes]]:
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    body = r.content
    assert body.endswith(b"--" + boundary + b"--")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        head, _, content = chunk.partition(b"\r\n\r\n")
        assert content.endswith(b"\r\n")
        lines = dict(
            line.split(": ", 1) for line in head.decode().strip().split("\r\n") if line
        )
        parts.append((lines["Content-Type"], lines["Content-Range"], content[:-2]))
    return parts


def test_multiple_ranges_are_multipart_byteranges(client: TestClient) -> None:
    r = client.get("/static/data.bin", headers={"range": "bytes=0-9, 100-199, -10"})
    assert r.status_code == 206
    assert int(r.headers["content-length"]) == len(r.content)
    parts = _multipart(r)
    n = len(DATA)
    assert parts == [
        ("application/octet-stream", f"bytes 0-9/{n}", DATA[0:10]),
        ("application/octet-stream", f"bytes 100-199/{n}", DATA[100:200]),
        ("application/octet-stream", f"bytes {n - 10}-{n - 1}/{n}", DATA[n - 10 :]),
    ]
    # Overlapping ranges merge, as Starlette's do.
    merged = _multipart(client.get("/static/data.bin", headers={"range": "bytes=50-60,0-55,90-99"}))
    assert [p[1] for p in merged] == [f"bytes 0-60/{n}", f"bytes 90-99/{n}"]
    text = _multipart(client.get("/static/hello.txt", headers={"range": "bytes=0-0,2-3"}))
    assert text == [
        ("text/plain; charset=utf-8", "bytes 0-0/12", b"h"),
        ("text/plain; charset=utf-8", "bytes 2-3/12", b"ll"),
    ]


def test_unsatisfiable_and_malformed_ranges(client: TestClient) -> None:
    r = client.get("/static/data.bin", headers={"range": f"bytes={len(DATA)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(DATA)}"
    assert client.get("/static/empty.txt", headers={"range": "bytes=0-1"}).status_code == 416
    for bad in ("bytes", "items=0-1", "bytes=5-1", "bytes=,", "bytes=a-b"):
        r = client.get("/static/data.bin", headers={"range": bad})
        assert r.status_code == 400, bad
    # More parts than max_ranges: served whole.
    many = ",".join(f"{i}-{i}" for i in range(101))
    r = client.get("/static/data.bin", headers={"range": f"bytes={many}"})
    assert (r.status_code, len(r.content)) == (200, len(DATA))


def test_if_range(client: TestClient) -> None:
    first = client.get("/static/data.bin")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for validator in (etag, modified):
        r = client.get("/static/data.bin", headers={"range": "bytes=0-3", "if-range": validator})
        assert (r.status_code, r.content) == (206, DATA[:4])
    for stale in ('"other"', "W/" + etag, "Mon, 01 Jan 2001 00:00:00 GMT"):
        r = client.get("/static/data.bin", headers={"range": "bytes=0-3", "if-range": stale})
        assert (r.status_code, len(r.content)) == (200, len(DATA))


def test_conditional_get_is_304(client: TestClient) -> None:
    first = client.get("/static/hello.txt")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for headers in (
        {"if-none-match": etag},
        {"if-none-match": f'"x", W/{etag}'},
        {"if-none-match": "*"},
        {"if-modified-since": modified},
        {"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        r = client.get("/static/hello.txt", headers=headers)
        assert r.status_code == 304, headers
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert "content-length" not in r.headers
    for headers in (
        {"if-none-match": '"stale"'},
        {"if-none-match": '"stale"', "if-modified-since": modified},  # If-None-Match wins
        {"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"if-modified-since": "not a date"},
    ):
        r = client.get("/static/hello.txt", headers=headers)
        assert (r.status_code, r.text) == (200, "hello, files"), headers
