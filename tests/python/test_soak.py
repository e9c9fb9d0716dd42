"""A short soak run (benchmarks/soak/soak.py) so CI exercises it: one FasterAPI worker under
mixed, checked traffic (keep-alive, pipelining, 1-8 MB uploads and downloads, streaming, slow
readers, vanishing clients, PostgreSQL reads and writes), with its RSS and fds watched.

FASTERAPI_SOAK_SECONDS sets the length of the traffic (default 50). Needs PostgreSQL at
FASTERAPI_PG_DSN (default 127.0.0.1:5432/test): skipped without it, failed instead when
FASTERAPI_REQUIRE_PG=1. The whole summary is in the failure message."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOAK = ROOT / "benchmarks" / "soak" / "soak.py"
DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SECONDS = int(os.environ.get("FASTERAPI_SOAK_SECONDS", "50"))
CLIENT_TIMEOUT = 30  # seconds a client waits on a socket before calling it an error
# soak.py's own watchdog bound for these settings, plus a margin for the report.
BOUND = SECONDS + 2 * (2 * CLIENT_TIMEOUT + 2 * 5 + 40) + 2 * CLIENT_TIMEOUT + 30 + 180 + 60

pytestmark = [pytest.mark.pg, pytest.mark.slow, pytest.mark.timeout(BOUND + 30)]


def _pg_answers(dsn: str) -> bool:
    u = urlsplit(dsn)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def test_soak_short(tmp_path: Path) -> None:
    if not _pg_answers(DSN):
        if os.environ.get("FASTERAPI_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required (FASTERAPI_REQUIRE_PG=1) but none at {DSN}")
        pytest.skip(f"no PostgreSQL at {DSN}")
    report_path = tmp_path / "soak.json"
    cmd = [sys.executable, str(SOAK), "--duration", str(SECONDS), "--dsn", DSN,
           "--timeout", str(CLIENT_TIMEOUT), "--json-report", str(report_path),
           "--server-log", str(tmp_path / "server.log")]
    # Its own session: should soak.py's watchdog fail too, the whole group (server, clients)
    # is killed here rather than left running.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"soak did not finish within {BOUND}s: {' '.join(cmd)}\n{output}")
    print(output)  # shown by pytest -s, and with the failure below
    assert proc.returncode == 0, (
        f"soak FAILED (exit {proc.returncode}; 1 = violations, 2 = could not start, "
        f"3 = watchdog): {' '.join(cmd)}\n{output}"
    )
    report = json.loads(report_path.read_text())
    assert report["violations"] == [], output
    assert report["pg"]["missing"] == 0, output
    assert report["fds"]["end"] <= report["fds"]["baseline"], output
    assert report["rss"]["growth"] < 0.05, output
