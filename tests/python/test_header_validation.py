"""Response header names set by user code must be RFC 9110 tokens and values must not carry
CR, LF or NUL: a bad one is a clear error (a 500 with the traceback logged), never a split
response."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from conftest import raw_http

from fasterapi import App, HTTPException
from fasterapi.datastructures import MutableHeaders
from fasterapi.responses import JSONResponse, Response
from fasterapi.testing import TestClient

BAD_NAMES = ["", "Bad Name", "X:Y", "X\r\nInjected", "X\nY", "X\x00", "é", "X(1)", "a/b"]
BAD_VALUES = ["a\r\nInjected: 1", "a\nInjected: 1", "a\rb", "a\x00b", "\r\n\r\n<html>"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_mutable_headers_reject_bad_names(name: str) -> None:
    h = MutableHeaders([])
    with pytest.raises(ValueError, match="header name"):
        h[name] = "v"
    with pytest.raises(ValueError, match="header name"):
        h.append(name, "v")
    assert h.raw == []


@pytest.mark.parametrize("value", BAD_VALUES)
def test_mutable_headers_reject_bad_values(value: str) -> None:
    h = MutableHeaders([])
    with pytest.raises(ValueError, match="header value"):
        h["x-a"] = value
    with pytest.raises(ValueError, match="header value"):
        h.append("x-a", value)
    assert h.raw == []


@pytest.mark.parametrize("name", BAD_NAMES)
def test_response_constructor_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="header name"):
        Response("x", headers={name: "v"})
    with pytest.raises(ValueError, match="header name"):
        JSONResponse({}, headers={name: "v"})


@pytest.mark.parametrize("value", BAD_VALUES)
def test_response_constructor_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="header value"):
        Response("x", headers={"x-a": value})


@pytest.mark.parametrize("value", BAD_VALUES)
def test_http_exception_rejects_bad_header_values(value: str) -> None:
    with pytest.raises(ValueError, match="header value"):
        HTTPException(401, headers={"WWW-Authenticate": value})


def test_valid_headers_pass() -> None:
    h = MutableHeaders([])
    h["X-Custom_1!#$%&'*+.^`|~"] = "a value\twith tab, obs-text é and : colons"
    h.append("set-cookie", "a=1")
    assert h["x-custom_1!#$%&'*+.^`|~"] == "a value\twith tab, obs-text é and : colons"
    assert Response("x", headers={"X-Ok": ""}).headers["x-ok"] == ""


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = App()
    evil = "a\r\nInjected: 1\r\n\r\nHTTP/1.1 200 OK"

    @app.get("/res-headers")
    def res_headers(req, res):
        res.headers["X-A"] = evil
        return "body"

    @app.get("/res-append")
    def res_append(req, res):
        res.headers.append("X-A", evil)
        return "body"

    @app.get("/res-name")
    def res_name(req, res):
        res.headers["X-A\r\nInjected"] = "1"
        return "body"

    @app.get("/response")
    def response(req, res):
        return Response("body", headers={"X-A": evil})

    @app.get("/cookie")
    def cookie(req, res):
        res.set_cookie("session", "v", path="/\r\nInjected: 1")
        return "body"

    @app.get("/exception")
    def exception(req, res):
        raise HTTPException(401, headers={"WWW-Authenticate": evil})

    @app.get("/async")
    async def async_res(req, res):
        res.headers["X-A"] = evil
        return "body"

    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    "path",
    ["/res-headers", "/res-append", "/res-name", "/response", "/cookie", "/exception", "/async"],
)
def test_bad_header_is_500_not_a_split_response(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        out = raw_http(
            client.port,
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        )
    assert out.startswith(b"HTTP/1.1 500 "), out
    assert b"Injected" not in out
    assert out.count(b"HTTP/1.1") == 1
    recs = [r for r in caplog.records if r.name == "fasterapi.error" and r.exc_info]
    assert recs and isinstance(recs[-1].exc_info[1], ValueError), caplog.text  # type: ignore[index]
