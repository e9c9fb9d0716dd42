"""Handlers over real sockets: return values, errors, bodies, streaming, raw HTTP/1.1."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from conftest import raw_http
from pydantic import BaseModel

from fasterapi import (
    App,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fasterapi.testing import TestClient


class User(BaseModel):
    id: int
    name: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Opaque:
    pass


def make_app() -> App:
    app = App()

    @app.get("/")
    def hello(req, res):
        return {"message": "Hello, World!"}

    @app.get("/sleep")
    async def sleepy(req, res):
        await asyncio.sleep(0.01)
        return {"slept": True}

    @app.get("/boom")
    def boom(req, res):
        raise RuntimeError("kaboom")

    @app.get("/boom-async")
    async def boom_async(req, res):
        await asyncio.sleep(0)
        raise RuntimeError("kaboom later")

    @app.get("/opaque")
    def opaque(req, res):
        return Opaque()

    @app.get("/teapot")
    def teapot(req, res):
        raise HTTPException(418, "I'm a teapot", headers={"X-Brew": "no"})

    @app.post("/echo")
    def echo(req, res):
        return {"len": len(req.body), "sha": hashlib.sha256(req.body).hexdigest()}

    @app.get("/kinds/{kind}")
    def kinds(req, res):
        kind = req.path_params["kind"]
        res.headers["X-Kind"] = kind
        return {
            "str": "plain text",
            "bytes": b"\x00\x01",
            "none": None,
            "model": User(id=1, name="Ann"),
            "dataclass": Point(1, 2),
            "list": [1, "two", None],
        }[kind]

    @app.get("/created")
    def created(req, res):
        res.status_code = 201
        return None

    @app.get("/status-alias")
    def status_alias(req, res):
        res.status = 202
        return {"ok": True}

    @app.get("/html-media")
    def html_media(req, res):
        res.media_type = "text/html"
        return "<h1>hi</h1>"

    @app.get("/responses/{which}")
    def responses(req, res):
        which = req.path_params["which"]
        if which == "json":
            return JSONResponse({"a": 1}, status_code=203, headers={"X-A": "1"})
        if which == "text":
            return PlainTextResponse("txt")
        if which == "html":
            return HTMLResponse("<p>x</p>")
        if which == "redirect":
            return RedirectResponse("/target")
        return Response(b"raw", media_type="application/x-custom")

    @app.get("/stream-sync")
    def stream_sync(req, res):
        def gen() -> Iterator[str]:
            for i in range(5):
                yield f"chunk{i};"

        return StreamingResponse(gen(), media_type="text/plain")

    @app.get("/stream-async")
    async def stream_async(req, res):
        async def gen() -> AsyncIterator[bytes]:
            for i in range(5):
                await asyncio.sleep(0)
                yield f"a{i};".encode()

        return StreamingResponse(gen())

    @app.get("/stream-big")
    def stream_big(req, res):
        return StreamingResponse(b"x" * 65536 for _ in range(64))

    @app.get("/query")
    def query(req, res):
        q = req.query_params
        return {"a": q.getlist("a"), "key": q.get("k y"), "plus": q.get("p"), "all": dict(q)}

    @app.get("/headers")
    def headers(req, res):
        h = req.headers
        return {"custom": h["x-custom"], "CUSTOM": h.get("X-CUSTOM"), "multi": h.getlist("X-Multi")}

    @app.get("/cookies")
    def cookies(req, res):
        res.set_cookie("seen", "yes", httponly=True)
        res.set_cookie("other", "1")
        return req.cookies

    @app.get("/info/{rest:path}")
    def info(req, res):
        return {
            "method": req.method,
            "path": req.path,
            "rest": req.path_params["rest"],
            "url": str(req.url),
            "client_host": req.client[0],
            "text": req.text(),
        }

    @app.route("/multi", methods=["GET", "PUT"])
    def multi(req, res):
        return req.method

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_hello(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"message": "Hello, World!"}


def test_async_handler_awaits_sleep(client: TestClient) -> None:
    assert client.get("/sleep").json() == {"slept": True}


def test_exception_gives_500_logs_and_keeps_serving(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        for path in ("/boom", "/boom-async"):
            r = client.get(path)
            assert r.status_code == 500
            assert (r.headers["content-type"], r.text) == (
                "text/plain; charset=utf-8", "Internal Server Error"
            )
    messages = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "kaboom" in messages and "kaboom later" in messages
    assert any(rec.name == "fasterapi.error" and rec.exc_info for rec in caplog.records)
    assert client.get("/").status_code == 200


def test_unsupported_return_type_names_it(client: TestClient) -> None:
    r = client.get("/opaque")
    assert r.status_code == 500
    assert "Opaque" in r.json()["detail"]


def test_http_exception(client: TestClient) -> None:
    r = client.get("/teapot")
    assert r.status_code == 418
    assert r.json() == {"detail": "I'm a teapot"}
    assert r.headers["x-brew"] == "no"


def test_ten_megabyte_body(client: TestClient) -> None:
    body = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    r = client.post("/echo", content=body)
    assert r.json() == {"len": len(body), "sha": hashlib.sha256(body).hexdigest()}


@pytest.mark.parametrize(
    ("kind", "ctype", "body"),
    [
        ("str", "text/plain; charset=utf-8", b"plain text"),
        ("bytes", "application/octet-stream", b"\x00\x01"),
        ("none", None, b""),
        ("model", "application/json", b'{"id":1,"name":"Ann"}'),
        ("dataclass", "application/json", b'{"x":1,"y":2}'),
        ("list", "application/json", b'[1,"two",null]'),
    ],
)
def test_return_value_kinds(client: TestClient, kind: str, ctype: str | None, body: bytes) -> None:
    r = client.get(f"/kinds/{kind}")
    assert r.status_code == 200
    assert r.headers.get("content-type") == ctype
    assert r.headers["x-kind"] == kind
    assert r.content == body


def test_status_from_res(client: TestClient) -> None:
    r = client.get("/created")
    assert (r.status_code, r.content) == (201, b"")
    assert client.get("/status-alias").status_code == 202
    r = client.get("/html-media")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>hi</h1>"


def test_response_objects(client: TestClient) -> None:
    r = client.get("/responses/json")
    assert (r.status_code, r.json(), r.headers["x-a"]) == (203, {"a": 1}, "1")
    assert client.get("/responses/text").headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/responses/html").text == "<p>x</p>"
    r = client.get("/responses/redirect", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (307, "/target")
    r = client.get("/responses/raw")
    assert (r.content, r.headers["content-type"]) == (b"raw", "application/x-custom")


def test_streaming_sync_generator_is_chunked(client: TestClient) -> None:
    raw = raw_http(
        client.port, b"GET /stream-sync HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert client.get("/stream-sync").text == "".join(f"chunk{i};" for i in range(5))


def test_streaming_async_generator(client: TestClient) -> None:
    assert client.get("/stream-async").content == b"a0;a1;a2;a3;a4;"
    with client.stream("GET", "/stream-big") as r:
        assert sum(len(c) for c in r.iter_bytes()) == 64 * 65536


def test_pipelined_requests_on_one_connection(client: TestClient) -> None:
    # A suspended async handler sits between fast ones: answers must still come in order.
    reqs = (
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /kinds/str HTTP/1.1\r\nHost: t\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /stream-sync HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    out = raw_http(client.port, reqs)
    assert out.count(b"HTTP/1.1 200") == 5 and out.count(b"HTTP/1.1 404") == 1
    bodies = [
        out.find(b"Hello, World!"),
        out.find(b"slept"),
        out.find(b"plain text"),
        out.find(hashlib.sha256(b"abc").hexdigest().encode()),
        out.find(b"chunk0;"),
        out.find(b"HTTP/1.1 404"),
    ]
    assert -1 not in bodies and bodies == sorted(bodies)


def test_repeated_and_percent_encoded_query_keys(client: TestClient) -> None:
    r = client.get("/query?a=1&a=2&a=%C3%A9&k%20y=v%26w&p=x+y")
    assert r.json() == {
        "a": ["1", "2", "é"],
        "key": "v&w",
        "plus": "x y",
        "all": {"a": "é", "k y": "v&w", "p": "x y"},
    }


def test_request_headers_case_insensitive(client: TestClient) -> None:
    raw = raw_http(
        client.port,
        b"GET /headers HTTP/1.1\r\nHost: t\r\nX-CUSTOM: v\r\n"
        b"x-multi: 1\r\nX-Multi: 2\r\nConnection: close\r\n\r\n",
    )
    assert raw.endswith(b'{"custom":"v","CUSTOM":"v","multi":["1","2"]}')


def test_cookies_both_ways(client: TestClient) -> None:
    r = client.get("/cookies", headers={"Cookie": "a=1; b=two"})
    assert r.json() == {"a": "1", "b": "two"}
    assert r.headers.get_list("set-cookie") == [
        "seen=yes; Path=/; HttpOnly; SameSite=Lax",
        "other=1; Path=/; SameSite=Lax",
    ]


def test_request_attributes(client: TestClient) -> None:
    r = client.request("DELETE", "/info/a/b%20c?x=1", content=b"hi")
    assert r.status_code == 405
    assert "GET" in r.headers["allow"]
    r = client.request("GET", "/info/a/b%20c?x=1", content=b"hi")
    body = r.json()
    assert body["method"] == "GET"
    assert body["path"] == "/info/a/b c"
    assert body["rest"] == "a/b c"
    scheme = client.base_url.scheme  # https when the suite runs over TLS
    assert body["url"] == f"{scheme}://127.0.0.1:{client.port}/info/a/b%20c?x=1"
    assert body["client_host"] == "127.0.0.1"
    assert body["text"] == "hi"


def test_route_with_methods_head_and_404(client: TestClient) -> None:
    assert client.get("/multi").text == "GET"
    assert client.put("/multi").text == "PUT"
    r = client.head("/")
    assert (r.status_code, r.content) == (200, b"")
    r = client.get("/missing")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    r = client.post("/")
    assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"})


def test_unencodable_value_after_suspending_is_a_500() -> None:
    app = App()

    @app.get("/late-bad-json")
    async def late_bad_json(req, res):
        await asyncio.sleep(0)
        return User.model_construct(id=Opaque(), name="x")

    @app.get("/bad-json")
    def bad_json(req, res):
        return {"fine": [1, 2], "not": Opaque()}

    with TestClient(app) as c:
        r = c.get("/late-bad-json")
        assert r.status_code == 500
        assert c.get("/late-bad-json").status_code == 500  # and the server still answers
        assert c.get("/bad-json").status_code == 500


def test_content_type_set_through_res_headers_is_sent_once() -> None:
    app = App()

    @app.get("/html")
    def html(req, res):
        res.headers["Content-Type"] = "text/html; charset=utf-8"
        return "<b>x</b>"

    @app.get("/vendor-json")
    def vendor(req, res):
        res.headers["content-type"] = "application/vnd.x+json"
        return {"a": 1}

    with TestClient(app) as c:
        for path, ctype, body in (
            ("/html", b"text/html; charset=utf-8", b"<b>x</b>"),
            ("/vendor-json", b"application/vnd.x+json", b'{"a":1}'),
        ):
            raw = raw_http(
                c.port, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
            )
            head, _, got = raw.partition(b"\r\n\r\n")
            lines = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-type:")]
            assert [ln.split(b":", 1)[1].strip() for ln in lines] == [ctype]
            assert got == body
