"""fasterapi.html.render_rows: every row through the template, every value escaped exactly as
html.escape(value, quote=True) does (TFB's fortunes rule: <script>, quotes, non-ASCII kept)."""

from __future__ import annotations

import html

import pytest

from fasterapi.html import render_rows

ROW = "<tr><td>{}</td><td>{}</td></tr>"


def _reference(rows: list[tuple[object, object]]) -> bytes:
    return "".join(
        f"<tr><td>{html.escape(str(i))}</td><td>{html.escape(str(m))}</td></tr>" for i, m in rows
    ).encode()


@pytest.mark.parametrize(
    "message",
    [
        "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
        "A computer program does what you tell it to do, not what you want it to do.",
        "フレームワークのベンチマーク",
        "&amp; already escaped & <b>'quoted'</b>",
        "",
        "x" * 15 + "<",  # a replaced byte at the end of a 16-byte block
        "x" * 16 + "&",  # ... in the byte-wise tail after one
        "<" * 40,
        "é\U0001f600\"'" * 9,  # 2- and 4-byte UTF-8 around the quotes, past 16 bytes
        "café <b>naïve</b> & \xff",  # a Latin-1 (1-byte kind) str
        "weakest link. — Donald Knuth <&>",  # a 2-byte kind str, escapes after it
        "\u07ff\u0800\uffff\U00010000\U0010ffff<",  # each UTF-8 length's bounds
    ],
)
def test_escapes_as_html_escape(message: str) -> None:
    rows = [(7, message), (-3, message + message)]
    assert render_rows(ROW, rows) == _reference(rows)


def test_every_ascii_character_and_records_like_sequences() -> None:
    text = "".join(chr(c) for c in range(1, 128))
    rows: list[tuple[object, object]] = [(1, text), (2, text[::-1])]
    assert render_rows(ROW, rows) == _reference(rows)
    assert render_rows(ROW, [list(r) for r in rows]) == _reference(rows)  # any sequence


def test_values_other_than_str() -> None:
    rows: list[tuple[object, object]] = [(10**30, None), (True, 1.5), (0, b"<b>")]
    assert render_rows(ROW, rows) == _reference(rows)


def test_template_braces_and_extra_columns() -> None:
    assert render_rows("{{{}}}:{}", [("<", 2, "ignored")]) == b"{&lt;}:2"
    assert render_rows("no fields", [(), (1,)]) == b"no fieldsno fields"
    assert render_rows(ROW, []) == b""


def test_errors() -> None:
    with pytest.raises(ValueError):
        render_rows("{0}", [(1,)])
    with pytest.raises(ValueError):
        render_rows("a } b", [(1,)])
    with pytest.raises(IndexError):
        render_rows(ROW, [(1,)])
    with pytest.raises(IndexError):
        render_rows(ROW, [[1]])
    with pytest.raises(TypeError):
        render_rows(ROW, 5)  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError):
        render_rows(ROW, [(1, "\ud800")])  # a lone surrogate has no UTF-8
