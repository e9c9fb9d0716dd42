"""benchmarks/techempower: the TFB validator passes our Python App on every test type against
the local PostgreSQL (schema loaded by the benchmark's own script), and fails servers that break
the rules (no Server header, unclamped counts, unescaped fortunes), so the check can fail.
PostgreSQL at FASTERAPI_PG_DSN (default 127.0.0.1:5432/test); skipped without it unless
FASTERAPI_REQUIRE_PG=1 or CI is set (then it fails)."""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import ROOT, free_port, missing, python_env, transport_specific, wait_for_port

from fasterapi import App
from fasterapi.testing import TestClient

TFB = ROOT / "benchmarks" / "techempower"
sys.path.insert(0, str(TFB))

import schema  # noqa: E402
import validate  # noqa: E402

DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_answers(dsn: str) -> bool:
    u = urlsplit(dsn)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def serving(argv: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """A TFB entry's process (argv, listening on `port`) until the block ends: its base URL."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def tfb_app() -> Iterator[str]:
    """Our TFB app (benchmarks/techempower/app_fasterapi.py) in its own process."""
    if not _pg_answers(DSN):
        missing(f"PostgreSQL is not answering at {DSN}")
    schema.load(DSN)
    port = free_port()
    env = {**python_env(), "PORT": str(port), "FASTERAPI_PG_DSN": DSN, "TFB_POOL_SIZE": "4"}
    with serving([sys.executable, str(TFB / "app_fasterapi.py")], env, port) as url:
        yield url


@pytest.mark.parametrize("kind", validate.TYPES)
def test_our_app_passes_the_tfb_rules(tfb_app: str, kind: str) -> None:
    assert validate.validate(tfb_app, (kind,), DSN) == []


def _broken_app() -> App:
    """Each route breaks one TFB rule the validator must catch."""
    app = App()

    @app.get("/json")
    def json(req, res):  # no Server header
        return {"message": "Hello, World!"}

    @app.get("/queries")
    def queries(req, res):  # not clamped: 0 → [] and 501 → 501 rows
        res.headers["server"] = "broken"
        raw = req.query_params.get("queries") or "1"
        n = int(raw) if raw.lstrip("-").isdigit() else 1
        return [{"id": 1, "randomNumber": 1}] * max(n, 0)

    @app.get("/fortunes")
    def fortunes(req, res):  # not escaped, the added row missing
        res.headers["server"] = "broken"
        res.media_type = "text/html"
        rows = sorted(schema.FORTUNES, key=lambda r: r[1])
        cells = "".join(f"<tr><td>{i}</td><td>{m}</td></tr>" for i, m in rows)
        return f"<!DOCTYPE html><html><body><table>{cells}</table></body></html>"

    @app.get("/plaintext")
    def plaintext(req, res):  # wrong body and content type
        res.headers["server"] = "broken"
        return {"text": "Hello, World!"}

    return app


@transport_specific("the validator's broken servers are plain HTTP", only=("tls",))
def test_the_validator_fails_broken_servers() -> None:
    with TestClient(_broken_app()) as client:
        base = f"http://127.0.0.1:{client.port}"
        failures: dict[str, Any] = {
            kind: validate.validate(base, (kind,))
            for kind in ("json", "queries", "fortunes", "plaintext")
        }
    assert "json: no Server header" in failures["json"]
    assert "queries: ?'0': 0 rows, want 1" in failures["queries"]
    assert "queries: ?'501': 501 rows, want 500" in failures["queries"]
    assert "fortunes: a message was not HTML-escaped" in failures["fortunes"]
    assert any(f.startswith("fortunes: 12 rows (want 13)") for f in failures["fortunes"])
    assert any("Content-Type" in f for f in failures["plaintext"])
    assert any(f.startswith("plaintext: body") for f in failures["plaintext"])


def test_fortunes_page_escapes_and_sorts() -> None:
    from common import fortunes_html

    page = fortunes_html([(11, "<b>&\"'</b>"), (2, "a")])
    assert html.escape("<b>&\"'</b>", quote=True) in page
    # Sorted by message, code point order as TFB's reference does: "<" < "A" < "a".
    assert page.index("&lt;b&gt;") < page.index("Additional fortune") < page.index("<td>2</td>")


def test_our_fortunes_page_bytes_equal_the_shared_page() -> None:
    """app_fasterapi's fortunes_page (joined, encoded, escaped as bytes) is byte for byte the
    shared page encoded: escaping next to multi-byte UTF-8, every escaped character, no rows,
    and a message holding the row separator \\x01 (the plain path)."""
    import importlib.util

    from common import fortunes_html

    spec = importlib.util.spec_from_file_location("tfb_app_fasterapi", TFB / "app_fasterapi.py")
    assert spec is not None and spec.loader is not None
    app_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_module)
    rows = [
        (11, '<script>alert("This should not be displayed");</script>'),
        (12, "フレームワークのベンチマーク"),
        (6, "Emacs — Tom Christaensen & 'co' <>"),
        (2, "A computer scientist is someone who fixes things that aren't broken."),
    ]
    for case in (rows, [], rows[1:2], [*rows, (13, "x\x01y")]):
        assert app_module.fortunes_page(case) == fortunes_html(case).encode()


def test_our_app_updates_hold_under_concurrent_batches(tfb_app: str) -> None:
    """Concurrent 500-row update batches touch overlapping rows: one statement each, ids
    sorted, so every answer is 200 with 500 Worlds (a deadlock would be a 500)."""

    def batch(_: int) -> tuple[int, int]:
        r = httpx.get(f"{tfb_app}/updates?queries=500", timeout=30)
        return r.status_code, len(r.json()) if r.status_code == 200 else -1

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(batch, range(32)))
    assert answers == [(200, 500)] * 32
