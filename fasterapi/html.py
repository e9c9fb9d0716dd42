"""HTML helpers: rows rendered through a row template with every value escaped, in C++.

    from fasterapi.html import render_rows

    ROW = "<tr><td>{}</td><td>{}</td></tr>"
    body = render_rows(ROW, await pool.fetch("SELECT id, message FROM fortune"))

Each row (a tuple, a list, a pg Record: any sequence) fills the template's `{}` fields with
its first values, in order (`{{` and `}}` stand for literal braces, as in str.format; other
fields raise ValueError). A str value is escaped as `html.escape(value, quote=True)` does
(& < > " ' become &amp; &lt; &gt; &quot; &#x27;), an int is written in decimal, any other value
as `str(value)`, escaped. The template itself is trusted markup and is not escaped. The result
is the UTF-8 bytes of the rows, ready for an HTMLResponse or a handler's bytes return: one
C++ pass, where an f-string and html.escape per row and an encode of the joined page cost
several times as many instructions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fasterapi._native import html_render_rows

__all__ = ["render_rows"]

render_rows: Callable[[str, Iterable[Sequence[Any]]], bytes] = html_render_rows
