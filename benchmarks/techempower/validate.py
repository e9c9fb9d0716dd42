"""Checks a server's answers against the TechEmpower rules before any timing counts: the headers
every response needs (Server, Date, Content-Type, Content-Length or chunked), each type's body,
HTML escaping and order in fortunes, the 1..500 clamping of ?queries= and ?count=, and (given
a DSN) that db/queries rows and updates match what PostgreSQL holds.

    python3 benchmarks/techempower/validate.py http://127.0.0.1:8080 [--types json,fortunes]
        [--dsn postgresql://postgres@127.0.0.1:5432/test]

Exit status 0 when every check passes; each failure is printed as "type: what is wrong"."""

from __future__ import annotations

import argparse
import email.utils
import json
import socket
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from schema import ADDED_FORTUNE, FORTUNES

TYPES = ("json", "plaintext", "db", "queries", "fortunes", "updates", "cached-queries")
PATHS = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=",
    "cached-queries": "/cached-queries?count=",
}
# (query string value, how many rows TFB expects): its clamping cases.
COUNT_CASES = [("2", 2), ("0", 1), ("foo", 1), ("", 1), ("501", 500), ("20", 20), ("-5", 1)]
EXPECTED_FORTUNES = sorted([*FORTUNES, ADDED_FORTUNE], key=lambda r: r[1])


class Failures(list[str]):
    def check(self, ok: bool, kind: str, what: str) -> bool:
        if not ok:
            self.append(f"{kind}: {what}")
        return ok


def _headers(f: Failures, kind: str, r: httpx.Response, ctype: str) -> None:
    """TFB's header rules for every test type."""
    f.check("server" in r.headers, kind, "no Server header")
    date = r.headers.get("date")
    if f.check(date is not None, kind, "no Date header"):
        f.check(email.utils.parsedate(date or "") is not None, kind, f"bad Date {date!r}")
    got = r.headers.get("content-type", "")
    f.check(
        got.split(";")[0].strip().lower() == ctype.split(";")[0],
        kind,
        f"Content-Type {got!r}, want {ctype!r}",
    )
    if ";" in ctype:  # fortunes: the charset must be named
        f.check("charset=utf-8" in got.lower().replace(" ", ""), kind, f"no charset in {got!r}")
    length = r.headers.get("content-length")
    chunked = r.headers.get("transfer-encoding", "").lower() == "chunked"
    if f.check(length is not None or chunked, kind, "neither Content-Length nor chunked"):
        if length is not None:
            f.check(int(length) == len(r.content), kind, f"Content-Length {length} != body")


def _json(f: Failures, kind: str, r: httpx.Response) -> Any:
    try:
        return json.loads(r.content)
    except ValueError:
        f.append(f"{kind}: body is not JSON: {r.content[:80]!r}")
        return None


def _world(f: Failures, kind: str, obj: Any) -> tuple[int, int] | None:
    """A World object: {"id": 1..10000, "randomNumber": 1..10000} (keys case-insensitive)."""
    if not f.check(isinstance(obj, dict), kind, f"a world must be an object, got {obj!r}"):
        return None
    keys = {k.lower(): v for k, v in obj.items()}
    wid, num = keys.get("id"), keys.get("randomnumber")
    ok = f.check(isinstance(wid, int) and 1 <= wid <= 10_000, kind, f"bad id in {obj!r}")
    ok &= f.check(
        isinstance(num, int) and 1 <= num <= 10_000, kind, f"bad randomNumber in {obj!r}"
    )
    ok &= f.check(set(keys) == {"id", "randomnumber"}, kind, f"extra keys in {obj!r}")
    return (wid, num) if ok else None  # type: ignore[return-value]


class _Rows(HTMLParser):
    """The text of each <td> of each <tr>, entity references resolved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


class Validator:
    def __init__(self, base: str, dsn: str | None = None, paths: dict[str, str] | None = None):
        self.base = base.rstrip("/")
        self.dsn = dsn
        self.paths = {**PATHS, **(paths or {})}
        self.client = httpx.Client(timeout=30)
        self.f = Failures()

    def get(self, kind: str, suffix: str = "") -> httpx.Response | None:
        try:
            return self.client.get(self.base + self.paths[kind] + suffix)
        except httpx.HTTPError as e:
            self.f.append(f"{kind}: request failed: {e!r}")
            return None

    def _ok(self, kind: str, r: httpx.Response | None) -> bool:
        return r is not None and self.f.check(r.status_code == 200, kind, f"status {r.status_code}")

    def _db_values(self, ids: list[int]) -> dict[int, int]:
        import psycopg

        assert self.dsn is not None
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT id, randomnumber FROM world WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        return dict(rows)

    def json(self) -> None:
        r = self.get("json")
        if not self._ok("json", r):
            return
        assert r is not None
        _headers(self.f, "json", r, "application/json")
        body = _json(self.f, "json", r)
        self.f.check(body == {"message": "Hello, World!"}, "json", f"body {body!r}")

    def plaintext(self) -> None:
        r = self.get("plaintext")
        if not self._ok("plaintext", r):
            return
        assert r is not None
        _headers(self.f, "plaintext", r, "text/plain")
        self.f.check(r.content == b"Hello, World!", "plaintext", f"body {r.content[:80]!r}")
        self._pipelined()

    def _pipelined(self, depth: int = 16) -> None:
        """TFB sends plaintext pipelined 16 deep: all 16 answers must come back, in order."""
        u = urlsplit(self.base)
        req = (
            f"GET {self.paths['plaintext']} HTTP/1.1\r\nHost: {u.hostname}\r\n"
            "Accept: text/plain\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        try:
            with socket.create_connection((u.hostname, u.port or 80), timeout=10) as s:
                s.sendall(req * depth)
                data = b""
                while data.count(b"Hello, World!") < depth:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as e:
            self.f.append(f"plaintext: pipelined requests failed: {e!r}")
            return
        got = data.count(b"HTTP/1.1 200")
        self.f.check(got == depth, "plaintext", f"{got} of {depth} pipelined answers")

    def db(self) -> None:
        r = self.get("db")
        if not self._ok("db", r):
            return
        assert r is not None
        _headers(self.f, "db", r, "application/json")
        world = _world(self.f, "db", _json(self.f, "db", r))
        if world and self.dsn:
            held = self._db_values([world[0]])
            same = held.get(world[0]) == world[1]
            self.f.check(same, "db", f"{world} is not the row in PostgreSQL")

    def _counted(
        self, kind: str, each: Callable[[list[tuple[int, int]]], None] | None = None
    ) -> list[list[tuple[int, int]]]:
        """Every clamping case of a ?queries=/?count= type; returns the valid answers, each
        also given to `each` as soon as it arrives."""
        answers = []
        for value, want in COUNT_CASES:
            r = self.get(kind, value)
            if r is None:
                continue
            if not self.f.check(r.status_code == 200, kind, f"?{value!r}: status {r.status_code}"):
                continue
            _headers(self.f, kind, r, "application/json")
            body = _json(self.f, kind, r)
            if not self.f.check(isinstance(body, list), kind, f"?{value!r}: not an array"):
                continue
            self.f.check(len(body) == want, kind, f"?{value!r}: {len(body)} rows, want {want}")
            worlds = [w for w in (_world(self.f, kind, o) for o in body) if w]
            answers.append(worlds)
            if each is not None:
                each(worlds)
        return answers

    def queries(self) -> None:
        answers = self._counted("queries")
        if self.dsn and answers:
            worlds = answers[-1]
            held = self._db_values([w[0] for w in worlds])
            wrong = [w for w in worlds if held.get(w[0]) != w[1]]
            self.f.check(not wrong, "queries", f"rows not in PostgreSQL: {wrong[:3]}")

    def cached_queries(self) -> None:
        self._counted("cached-queries")

    def updates(self) -> None:
        self._counted("updates", self._updated if self.dsn else None)

    def _updated(self, worlds: list[tuple[int, int]]) -> None:
        """The rows an updates answer names hold its numbers now (a later answer may change
        them again, so this runs before the next request)."""
        held = self._db_values([w[0] for w in worlds])
        by_id: dict[int, set[int]] = {}
        for wid, num in worlds:
            by_id.setdefault(wid, set()).add(num)
        stale = [wid for wid, nums in by_id.items() if held.get(wid) not in nums]
        self.f.check(not stale, "updates", f"ids not updated in PostgreSQL: {stale[:5]}")

    def fortunes(self) -> None:
        r = self.get("fortunes")
        if not self._ok("fortunes", r):
            return
        assert r is not None
        _headers(self.f, "fortunes", r, "text/html; charset=utf-8")
        text = r.content.decode("utf-8", "replace")
        self.f.check(
            text.lstrip().lower().startswith("<!doctype html>"), "fortunes", "no <!DOCTYPE html>"
        )
        self.f.check("<script>" not in text, "fortunes", "a message was not HTML-escaped")
        parser = _Rows()
        parser.feed(text)
        rows = [row for row in parser.rows if row]
        try:
            got = [(int(i.strip()), m) for i, m in rows]
        except ValueError:
            self.f.append(f"fortunes: rows are not (id, message): {rows[:3]}")
            return
        if got != EXPECTED_FORTUNES:
            pairs = zip(got, EXPECTED_FORTUNES, strict=False)
            diff = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
            self.f.append(
                f"fortunes: {len(got)} rows (want {len(EXPECTED_FORTUNES)}); first difference at "
                f"row {diff}: {got[diff] if diff is not None and diff < len(got) else None!r}"
            )

    def run(self, types: tuple[str, ...] = TYPES) -> list[str]:
        checks: dict[str, Callable[[], None]] = {
            "json": self.json,
            "plaintext": self.plaintext,
            "db": self.db,
            "queries": self.queries,
            "fortunes": self.fortunes,
            "updates": self.updates,
            "cached-queries": self.cached_queries,
        }
        for kind in types:
            checks[kind]()
        self.client.close()
        return list(self.f)


def validate(
    base: str,
    types: tuple[str, ...] = TYPES,
    dsn: str | None = None,
    paths: dict[str, str] | None = None,
) -> list[str]:
    """The failures of the server at `base` for `types` (empty: it passes TFB's checks)."""
    return Validator(base, dsn, paths).run(types)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--dsn", default=None, help="check rows and updates against PostgreSQL")
    args = parser.parse_args(argv)
    failures = validate(args.base, tuple(args.types.split(",")), args.dsn)
    for line in failures:
        print("FAIL", line)
    print("ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
