"""What every TFB entry here shares: the query-count rule, the fortunes page, the settings."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
POOL_SIZE = int(os.environ.get("TFB_POOL_SIZE", "8"))  # connections per server process
PORT = int(os.environ.get("PORT", "8080"))
WORLD_ROWS = 10_000
ADDED_FORTUNE = "Additional fortune added at request time."

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
UPDATE_WORLD = "UPDATE world SET randomnumber = $1 WHERE id = $2"
# One statement for a whole updates batch (ids and numbers as int4 arrays; the C++ entry's too).
UPDATE_WORLDS = (
    "UPDATE world SET randomnumber = v.r FROM unnest($1::int4[], $2::int4[]) AS v(id, r) "
    "WHERE world.id = v.id"
)
SELECT_FORTUNES = "SELECT id, message FROM fortune"
SELECT_ALL_WORLDS = "SELECT id, randomnumber FROM world"


def query_count(raw: str | None) -> int:
    """TFB's rule for ?queries= (and ?count=): not an integer or below 1 → 1, above 500 → 500."""
    try:
        n = int(raw) if raw else 1
    except ValueError:
        return 1
    return 1 if n < 1 else min(n, 500)


_HEAD = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
)
_TAIL = "</table></body></html>"


_NEEDS_ESCAPE = re.compile("[&<>\"']").search  # what html.escape(quote=True) replaces
_escape = html.escape
_by_message = itemgetter(1)


def fortunes_html(rows: Sequence[Sequence[Any]]) -> str:
    """The fortunes page: the rows plus the one added at request time, sorted by message,
    every message HTML-escaped (TFB's fortune id 11 is a <script>). html.escape runs only on
    messages that hold a character it replaces (its five str.replace calls cost more than
    the search on the others); the page is the same."""
    rows = [*rows, (0, ADDED_FORTUNE)]  # any (id, message) pairs: tuples, Records
    rows.sort(key=_by_message)
    body = "".join(
        [
            f"<tr><td>{i}</td><td>{_escape(m) if _NEEDS_ESCAPE(m) else m}</td></tr>"
            for i, m in rows
        ]
    )
    return _HEAD + body + _TAIL
