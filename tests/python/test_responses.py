"""Response objects as values: bodies, media types, headers and cookies."""

from __future__ import annotations

import pytest

from fasterapi import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)


def test_default_response_is_cheap_and_empty() -> None:
    r = Response()
    assert (r.status_code, r.status, r.raw_headers, r.media_type, r.body) == (
        200,
        200,
        None,
        None,
        b"",
    )
    r.status = 201
    assert r.status_code == 201
    assert vars(r) == {"status_code": 201}


def test_response_classes_render_and_content_type() -> None:
    assert JSONResponse({"a": [1, "é"]}).body == '{"a":[1,"é"]}'.encode()
    assert JSONResponse([]).content_type() == b"application/json"
    assert PlainTextResponse("hi").content_type() == b"text/plain; charset=utf-8"
    assert HTMLResponse("<b>").body == b"<b>"
    r = RedirectResponse("/a b")
    assert r.status_code == 307
    assert r.headers["location"] == "/a%20b"
    with pytest.raises(TypeError, match="must be str or bytes"):
        Response({"a": 1})


def test_cookies() -> None:
    r = Response()
    r.set_cookie("session", "a b", max_age=60, httponly=True)
    r.delete_cookie("old")
    cookies = r.headers.getlist("set-cookie")
    assert cookies[0] == "session=a%20b; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
    assert cookies[1].startswith("old=; Max-Age=0; expires=Thu, 01 Jan 1970")
    with pytest.raises(ValueError, match="samesite"):
        r.set_cookie("x", samesite="bogus")  # type: ignore[arg-type]
