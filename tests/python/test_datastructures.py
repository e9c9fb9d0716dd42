"""Headers, query parameters and cookies parsing."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from fasterapi.datastructures import (
    Headers,
    MutableHeaders,
    QueryParams,
    parse_cookies,
    parse_query,
)


def test_query_params_repeated_and_percent_encoded() -> None:
    q = QueryParams(b"a=1&a=2&b=x+y&c=%2F%26%3D&caf%C3%A9=cr%C3%A8me&empty=")
    assert q.getlist("a") == ["1", "2"]
    assert q["a"] == "2"
    assert q["b"] == "x y"
    assert q["c"] == "/&="
    assert q["café"] == "crème"
    assert q["empty"] == ""
    assert q.getlist("missing") == []
    assert "missing" not in q


def test_headers_case_insensitive_and_multi_valued() -> None:
    h = Headers([("content-type", "text/plain"), ("x-a", "1"), ("x-a", "2")])
    assert h["Content-Type"] == "text/plain"
    assert h.get("X-A") == "1"
    assert h.getlist("X-a") == ["1", "2"]
    assert "CONTENT-TYPE" in h
    assert "nope" not in h
    assert list(h) == ["content-type", "x-a"]


def test_mutable_headers_edit_raw_list() -> None:
    raw: list[tuple[bytes, bytes]] = []
    h = MutableHeaders(raw)
    h["X-Thing"] = "a"
    h.append("set-cookie", "a=1")
    h.append("Set-Cookie", "b=2")
    h["x-thing"] = "b"
    assert raw == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-thing", b"b")]
    assert h.getlist("SET-COOKIE") == ["a=1", "b=2"]
    del h["X-THING"]
    assert "x-thing" not in h


def test_parse_cookies() -> None:
    assert parse_cookies(["a=1; b=two words", 'c="quoted"; junk; =x']) == {
        "a": "1",
        "b": "two words",
        "c": "quoted",
    }


@given(st.lists(st.tuples(st.text(), st.text()), max_size=6), st.sampled_from(["&", "&&"]))
def test_parse_query_matches_parse_qsl(pairs: list[tuple[str, str]], sep: str) -> None:
    query = sep.join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)
    assert parse_query(query) == parse_qsl(query, keep_blank_values=True)
    raw = sep.join(f"{k}={v}" for k, v in pairs)  # unescaped: any text at all
    assert parse_query(raw) == parse_qsl(raw, keep_blank_values=True)
