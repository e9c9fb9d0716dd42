"""Tests of the harness's parsers and reports (no servers): pytest benchmarks/e2e/tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import procs, report
from harness.rows import ROWS, select_rows
from harness.wrk import parse_wrk

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.50us  101.21us   5.01ms   90.12%
    Req/Sec   155.20k     4.10k  160.33k    80.00%
  Latency Distribution
     50%  400.00us
     75%  450.00us
     90%  500.00us
     99%    1.20ms
  1544310 requests in 10.00s, 190.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec: 154431.00
Transfer/sec:     19.00MB
"""


def test_parse_wrk_reads_counts_errors_and_latency() -> None:
    r = parse_wrk(WRK_OUTPUT)
    assert r.requests == 1544310
    assert r.seconds == 10.0
    assert r.rps == 154431.0
    assert (r.non_2xx, r.socket_errors, r.errors) == (7, 5, 12)
    assert r.latency_avg_ms == pytest.approx(0.4125)
    assert r.latency_p99_ms == 1.2


def test_parse_wrk_without_errors_lines() -> None:
    text = "  10 requests in 1.00s, 1KB read\nRequests/sec: 10.00\n"
    r = parse_wrk(text)
    assert (r.requests, r.errors, r.latency_p99_ms) == (10, 0, None)


def test_parse_stat_handles_spaces_and_parens_in_comm() -> None:
    fields = ["S", "77", *["0"] * 9, "120", "30"]  # state, ppid, ..., utime (14), stime (15)
    text = f"1234 (a (weird) name) {' '.join(fields)} 0 0 20 0"
    assert procs.parse_stat(text) == (77, 150)


def test_tree_cpu_ticks_counts_this_process() -> None:
    assert procs.tree_cpu_ticks(procs.os.getpid()) >= 0


def _ok(key: str, rps: float, cpu: float = 1.0, **extra: object) -> dict[str, object]:
    row = next(r for r in ROWS if r.key == key)
    return {"key": key, "label": key, "server": row.server, "path": row.path, "mode": row.mode,
            "handler": row.handler, "fastapi_base": row.fastapi_base,
            "nginx_base": row.nginx_base, "status": "ok", "note": "", "rps": rps,
            "cpu_us_per_req": cpu, "errors": 0, **extra}


def test_ratios_table_and_targets() -> None:
    results = [_ok("fasterapi-sync", 100_000, 5.0), _ok("fastapi-async", 5_000, 150.0),
               _ok("nginx", 110_000, 4.0),
               {**_ok("granian-sync", 0), "status": "skipped", "note": "not installed"}]
    report.add_ratios(results)
    assert results[0]["vs_fastapi"] == 20.0
    assert results[0]["vs_nginx"] == 100_000 / 110_000
    table = report.markdown_table(results)
    assert "| fasterapi-sync |" in table and "20.00x" in table
    assert "skipped: not installed" in table
    met = {t["target"]: t["met"] for t in report.check_targets(results)}
    assert met["FasterAPI sync ≥ 10x FastAPI async"] is True
    assert met["FasterAPI sync ≥ 0.9x nginx"] is True
    assert met["FasterAPI sync ≤ 6 µs server CPU/req"] is True
    assert "FasterAPI async ≥ 8x FastAPI async" not in met  # row not measured


def test_select_rows() -> None:
    assert [r.key for r in select_rows("nginx, hello_server", "python")] == [
        "nginx", "hello_server"]
    assert len(select_rows(None, "cpp")) == 4
