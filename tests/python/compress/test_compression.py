"""Response compression in the engine (src/compress/): Accept-Encoding negotiation (q-values,
q=0, `*`, identity), zstd/br/gzip bodies checked by decompressing with the Python libraries,
Vary, minimum size, content types, never twice, HEAD as GET, 204, streams and SSE compressed per
flush, curl --compressed, GZipMiddleware on the same path, and the fast path kept."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import subprocess
import zlib
from collections.abc import AsyncIterable, Iterator
from typing import Any

import pytest
from conftest import missing, raw_http, require_module, transport_specific
from raw_stream import open_stream

from fasterapi import App, _dispatch
from fasterapi.middleware import GZipMiddleware
from fasterapi.responses import Response, StreamingResponse
from fasterapi.sse import EventSourceResponse
from fasterapi.testing import TestClient

brotli = require_module("brotli")
zstandard = require_module("zstandard")

DOC = {
    "items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"], "ok": True} for i in range(300)]
}
DOC_BYTES = json.dumps(DOC, separators=(",", ":")).encode()
TEXT = "hello compression " * 200
STREAM_TEXT = "".join(f"line {i} " + "y" * 100 + "\n" for i in range(50)).encode()
gate: list[int] = []


def decode(coding: str | None, body: bytes) -> bytes:
    if coding is None:
        return body
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        return bytes(brotli.decompress(body))
    if coding == "zstd":
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    raise AssertionError(coding)


def make_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/json")
    def doc(req, res):
        return DOC

    @app.get("/text")
    def text(req, res):
        return TEXT

    @app.get("/small")
    def small(req, res):
        return {"tiny": True}

    @app.get("/png")
    def png(req, res):
        return Response(b"\x89PNG" + b"\0" * 4000, media_type="image/png")

    @app.get("/encoded")
    def encoded(req, res):
        return Response(
            gzip.compress(TEXT.encode()),
            media_type="text/plain",
            headers={"Content-Encoding": "gzip"},
        )

    @app.get("/empty")
    def empty(req, res):
        return Response(status_code=204)

    @app.get("/model-async")
    async def model_async(req, res):
        await asyncio.sleep(0)
        return Response(TEXT, media_type="text/html")

    @app.get("/stream")
    def stream(req, res):
        def parts() -> Iterator[str]:
            for i in range(50):
                yield f"line {i} " + "y" * 100 + "\n"

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[dict[str, int]]:
        yield {"n": 0}
        for _ in range(500):  # 10 s at most: the test opens the gate once it saw event 0
            if gate:
                break
            await asyncio.sleep(0.02)
        yield {"n": 1}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app(compression=True)) as c:
        yield c


def get(
    client: TestClient, path: str, accept: str | None, method: str = "GET"
) -> tuple[dict[str, str], bytes]:
    """A raw request (httpx would decode): lower-cased headers and the body as sent."""
    line = f"Accept-Encoding: {accept}\r\n" if accept is not None else ""
    out = raw_http(
        client.port,
        f"{method} {path} HTTP/1.1\r\nHost: t\r\n{line}Connection: close\r\n\r\n".encode(),
    )
    head, _, body = out.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for h in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = (headers.get(k.strip().lower(), "") + ", " + v.strip()).lstrip(
            ", "
        )
    if headers.get("transfer-encoding") == "chunked" and method != "HEAD":
        chunks, rest = [], body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            chunks.append(rest[:size])
            rest = rest[size + 2 :]
        body = b"".join(chunks)
    return headers, body


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("path,expect", [("/json", DOC_BYTES), ("/text", TEXT.encode())])
def test_each_codec_round_trips(client: TestClient, coding: str, path: str, expect: bytes) -> None:
    headers, body = get(client, path, coding)
    assert headers["content-encoding"] == coding
    assert headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body) < len(expect) / 4
    assert decode(coding, body) == expect


@pytest.mark.parametrize(
    "accept,want",
    [
        ("gzip, deflate, br, zstd", "zstd"),  # a browser's: server order at equal q
        ("gzip, br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("zstd;q=0.1, br;q=0.2, gzip;q=0.3", "gzip"),
        ("*", "zstd"),
        ("zstd;q=0, *", "br"),
        ("zstd;q=0, br;q=0, *;q=0.5", "gzip"),
        ("gzip;q=0", None),
        ("*;q=0", None),
        ("identity", None),
        ("gzip;q=0.5, identity", None),
        ("br;q=0.9, identity;q=0.5", "br"),
        ("deflate", None),
        ("", None),
        (None, None),  # no header: identity
        ("GZIP;Q=0.7, Br;q=0.3", "gzip"),
        ("br;q=abc, gzip", "gzip"),  # a malformed member is ignored
    ],
)
def test_q_value_matrix(client: TestClient, accept: str | None, want: str | None) -> None:
    headers, body = get(client, "/json", accept)
    assert headers.get("content-encoding") == want
    assert headers["vary"] == "Accept-Encoding"
    assert decode(want, body) == DOC_BYTES


def test_httpx_decodes_what_it_asked_for(client: TestClient) -> None:
    r = client.get("/json")  # httpx offers gzip, deflate, br, zstd with these packages present
    assert r.headers["content-encoding"] in ("zstd", "br", "gzip")
    assert r.json() == DOC


def test_small_bodies_are_not_compressed(client: TestClient) -> None:
    headers, body = get(client, "/small", "gzip")
    assert "content-encoding" not in headers and "vary" not in headers
    assert json.loads(body) == {"tiny": True}


def test_incompressible_types_pass(client: TestClient) -> None:
    headers, body = get(client, "/png", "gzip, br, zstd")
    assert "content-encoding" not in headers
    assert body.startswith(b"\x89PNG") and len(body) == 4004


def test_never_twice(client: TestClient) -> None:
    headers, body = get(client, "/encoded", "gzip, br, zstd")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == TEXT.encode()  # one layer only


def test_204_is_not_encoded(client: TestClient) -> None:
    headers, body = get(client, "/empty", "gzip")
    assert "content-encoding" not in headers and body == b""


FRAMING = ("content-encoding", "vary", "content-type", "content-length", "transfer-encoding")


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("path", ["/json", "/text", "/stream", "/small", "/png"])
def test_head_answers_the_header_fields_get_would(
    client: TestClient, coding: str, path: str
) -> None:
    """RFC 9110 §9.3.2: HEAD gets GET's header fields: the same Content-Encoding and Vary, and
    a Content-Length that is the encoded size GET sends (not the unencoded size); a stream has
    none, as its GET has none. No body."""
    got_headers, got_body = get(client, path, coding)
    head_headers, head_body = get(client, path, coding, method="HEAD")
    assert head_body == b""
    for name in FRAMING:
        assert head_headers.get(name) == got_headers.get(name), (name, head_headers, got_headers)
    if "content-length" in got_headers:
        assert int(head_headers["content-length"]) == len(got_body)


def test_head_without_accept_encoding_keeps_the_identity_length(client: TestClient) -> None:
    headers, body = get(client, "/json", None, method="HEAD")
    assert "content-encoding" not in headers and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(DOC_BYTES) and body == b""


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@transport_specific("curl on an http:// URL", only=("tls",))
def test_curl_head_then_get_on_one_connection(client: TestClient, coding: str) -> None:
    """curl -I, then a GET on the same kept-alive connection (--next): the HEAD's headers are
    the GET's and its framing does not upset the connection."""
    if shutil.which("curl") is None:
        missing("curl is not installed")
    base = f"http://127.0.0.1:{client.port}"
    for path, expect in (("/json", DOC_BYTES), ("/stream", STREAM_TEXT)):
        out = subprocess.run(
            ["curl", "-sS", "-v", "-H", f"Accept-Encoding: {coding}", "-I", base + path,
             "--next", "--compressed", "-H", f"Accept-Encoding: {coding}", "-D", "-",
             base + path],
            capture_output=True, timeout=30, check=True,
        )  # fmt: skip
        assert b"Re-using existing connection" in out.stderr or b"Reusing existing" in out.stderr
        head_block, _, rest = out.stdout.partition(b"\r\n\r\n")
        get_block, _, body = rest.partition(b"\r\n\r\n")
        heads = [
            {k.strip().lower(): v.strip() for k, _, v in
             (line.partition(":") for line in block.decode().split("\r\n")[1:])}
            for block in (head_block, get_block)
        ]  # fmt: skip
        assert heads[0]["content-encoding"] == coding
        for name in FRAMING:
            assert heads[0].get(name) == heads[1].get(name), (path, name, heads)
        assert body == expect


def test_an_encoded_body_gets_a_weak_etag(tmp_path: Any) -> None:
    """RFC 9110 §8.8.3: the encoded bytes are not the identity representation's, so a strong
    ETag becomes weak (W/) when the body is encoded, as nginx does; If-None-Match still
    matches it (weak comparison) and a HEAD agrees with its GET."""
    from fasterapi.responses import FileResponse

    page = tmp_path / "page.txt"
    page.write_text("hello file " * 500)
    app = App(compression=True)

    @app.get("/f")
    def f(req, res):
        return FileResponse(str(page), media_type="text/plain")

    @app.get("/tagged")
    def tagged(req, res):
        return Response(TEXT, media_type="text/plain", headers={"ETag": '"v1"'})

    from fasterapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(tmp_path)))

    with TestClient(app) as c:
        plain, _ = get(c, "/f", None)
        assert plain["etag"].startswith('"')
        for path in ("/f", "/tagged"):
            for method in ("GET", "HEAD"):
                headers, _ = get(c, path, "gzip", method=method)
                assert headers["content-encoding"] == "gzip"
                assert headers["etag"].startswith('W/"'), (path, method, headers)
        headers, _ = get(c, "/f", None)
        assert headers["etag"] == plain["etag"]  # identity keeps the strong tag
        static, _ = get(c, "/static/page.txt", "gzip")
        assert static["etag"].startswith('W/"')
        out = raw_http(
            c.port,
            f"GET /static/page.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
            f"If-None-Match: {static['etag']}\r\nConnection: close\r\n\r\n".encode(),
        )
        assert out.startswith(b"HTTP/1.1 304"), out[:80]


def test_httpx_head_then_get(client: TestClient) -> None:
    httpx = require_module("httpx")
    with httpx.Client(base_url=client.base_url, verify=client._verify) as c:
        for path, expect in (("/json", DOC_BYTES), ("/stream", STREAM_TEXT)):
            h = c.head(path, headers={"Accept-Encoding": "gzip"})
            g = c.get(path, headers={"Accept-Encoding": "gzip"})
            assert h.status_code == g.status_code == 200
            assert h.content == b"" and g.content == expect
            for name in FRAMING:
                assert h.headers.get(name) == g.headers.get(name), (path, name)


def test_async_response_objects(client: TestClient) -> None:
    headers, body = get(client, "/model-async", "br")
    assert headers["content-encoding"] == "br"
    assert decode("br", body) == TEXT.encode()


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_streams_are_compressed(client: TestClient, coding: str) -> None:
    headers, body = get(client, "/stream", coding)
    assert headers["content-encoding"] == coding and "content-length" not in headers
    assert decode(coding, body) == STREAM_TEXT


class _Decoder:
    def __init__(self, coding: str) -> None:
        if coding == "gzip":
            self.d: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "br":
            self.d = brotli.Decompressor()
        else:
            self.d = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> bytes:
        out = self.d.process(data) if hasattr(self.d, "process") else self.d.decompress(data)
        return bytes(out)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_sse_event_arrives_compressed_before_the_stream_ends(
    client: TestClient, coding: str
) -> None:
    """Each event is flushed through the codec: event 0 decodes while the generator still
    waits (the gate opens only after the test has read it)."""
    gate.clear()
    raw = open_stream(client.port, "/events", {"Accept-Encoding": coding})
    assert raw.headers["content-encoding"] == coding
    assert raw.headers["content-type"] == "text/event-stream; charset=utf-8"
    dec = _Decoder(coding)
    seen = b""
    chunks = raw.chunks()
    while b"\n\n" not in seen:
        seen += dec.feed(next(chunks))
    assert seen == b'data: {"n":0}\n\n'
    gate.append(1)
    for chunk in chunks:
        seen += dec.feed(chunk)
    raw.sock.close()
    assert seen == b'data: {"n":0}\n\ndata: {"n":1}\n\n'


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
@transport_specific("curl on an http:// URL", only=("tls",))
def test_curl_compressed(client: TestClient, coding: str) -> None:
    if shutil.which("curl") is None:
        missing("curl is not installed")
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--compressed",
            "-H",
            f"Accept-Encoding: {coding}",
            "-D",
            "-",
            f"http://127.0.0.1:{client.port}/json",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    ).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert f"content-encoding: {coding}".encode() in head.lower()
    assert json.loads(body) == DOC


def test_fast_path_kept_for_plain_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dict/str return is encoded and compressed in C++: the Python render hook never runs."""
    calls: list[Any] = []
    real = _dispatch.render

    def counting(*args: Any) -> None:
        calls.append(args[0])
        real(*args)

    monkeypatch.setattr(_dispatch, "render", counting)
    with TestClient(make_app(compression=["gzip"])) as c:
        headers, body = get(c, "/json", "gzip")
        assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == DOC_BYTES
        headers, body = get(c, "/text", "gzip")
        assert headers["content-encoding"] == "gzip"
        assert calls == []
        get(c, "/png", "gzip")
        assert len(calls) == 1  # a Response object does go through render


def test_gzip_middleware_uses_the_engine_gzip_only() -> None:
    app = make_app()
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=1)
    assert app.http_middleware == []  # out of the Python chain: the fast path stays
    with TestClient(app) as c:
        headers, body = get(c, "/json", "zstd, br, gzip")
        assert headers["content-encoding"] == "gzip"  # FastAPI's GZipMiddleware: gzip only
        assert gzip.decompress(body) == DOC_BYTES
        headers, _ = get(c, "/json", "zstd, br")
        assert "content-encoding" not in headers
        headers, _ = get(c, "/text", "gzip")  # 3600 bytes >= 1000
        assert headers["content-encoding"] == "gzip"
        headers, _ = get(c, "/stream", "gzip")  # streams too
        assert headers["content-encoding"] == "gzip"


def test_min_size_and_levels_are_configurable() -> None:
    with TestClient(
        make_app(compression=["br"], compress_min_size=10, compress_levels={"br": 11})
    ) as c:
        headers, body = get(c, "/small", "br")  # 13 bytes >= 10
        assert headers["content-encoding"] == "br"
        assert json.loads(decode("br", body)) == {"tiny": True}
        headers, _ = get(c, "/json", "gzip")  # gzip not offered
        assert "content-encoding" not in headers


def test_bad_configuration_fails_fast() -> None:
    with pytest.raises(ValueError, match="unknown content coding"):
        App(compression=["deflate"])
    with pytest.raises(ValueError, match="level"):
        App(compression=True, compress_levels={"gzip": 12})
    with pytest.raises(ValueError, match="list of codings"):
        App(compression="gzip")  # type: ignore[arg-type]


def test_off_by_default() -> None:
    with TestClient(make_app()) as c:
        headers, body = get(c, "/json", "gzip, br, zstd")
        assert "content-encoding" not in headers and "vary" not in headers
        assert json.loads(body) == DOC
