"""Tests of the harness's parsers and reports (no servers): pytest benchmarks/e2e/tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import run_http
from harness import procs, report
from harness.rows import ROWS, select_rows
from harness.servers import server_specs
from harness.wrk import WrkResult, parse_wrk

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
    body = '{"message":"Hello, World!"}' if row.path == "/" else '{"id":42,"name":"John Doe"}'
    return {"key": key, "label": key, "server": row.server, "path": row.path, "mode": row.mode,
            "handler": row.handler, "work": list(row.work), "connections": 64, "threads": 1,
            "body": None if row.mode == "onemrc" else body, "fastapi_base": row.fastapi_base,
            "nginx_base": row.nginx_base, "status": "ok", "note": "", "rps": rps,
            "cpu_us_per_req": cpu, "errors": 0, "runs": [], **extra}


def test_ratios_table_and_targets() -> None:
    results = [_ok("fasterapi-sync", 100_000, 5.0), _ok("fastapi-sync", 4_000, 240.0),
               _ok("fastapi-async-root", 5_000, 150.0), _ok("nginx", 110_000, 4.0),
               {**_ok("granian-sync", 0), "status": "skipped", "note": "not installed"}]
    report.add_ratios(results)
    assert results[0]["vs_fastapi"] == 25.0  # against fastapi-sync: the same GET /, both def
    assert results[0]["vs_nginx"] == 100_000 / 110_000
    table = report.markdown_table(results)
    assert "| fasterapi-sync |" in table and "25.00x" in table
    assert "skipped: not installed" in table
    met = {t["target"]: (t["met"], t["detail"]) for t in report.check_targets(results)}
    # The 10x target divides by FastAPI's async handler on the same route, GET /.
    assert met["FasterAPI sync ≥ 10x FastAPI async (both GET /)"] == (True, "20.00x")
    assert met["FasterAPI sync ≥ 0.9x nginx (both GET /)"][0] is True
    assert met["FasterAPI sync ≤ 6 µs server CPU/req"][0] is True
    assert not any(name.startswith("FasterAPI async") for name in met)  # row not measured


# --- same-work pairing: every ratio divides rows that did identical work ---------------------

def test_every_row_baseline_does_the_same_work() -> None:
    by = {r.key: r for r in ROWS}
    for row in ROWS:
        for base in (row.fastapi_base, row.nginx_base):
            if base is not None:
                assert by[base].work == row.work, f"{row.key} vs {base}: different work"


def test_every_target_pairs_the_same_work() -> None:
    by = {r.key: r for r in ROWS}
    for t in report.TARGETS:
        assert all(k in by for k in t.rows()), t
        if t.base is not None:
            assert by[t.base].work == by[t.row].work, f"{t.name}: different work"


def test_work_names_request_and_pipelining() -> None:
    by = {r.key: r for r in ROWS}
    assert by["fasterapi-async"].work == ("GET /users/42", 1)
    assert by["fasterapi-sync-pipe16"].work == ("GET /", 16)
    assert by["fasterapi-sync"].work != by["fastapi-async"].work  # the old, unfair pairing
    assert by["fasterapi-sync-pipe16"].work != by["nginx"].work


def test_ratio_between_different_routes_raises() -> None:
    # fasterapi-sync (GET /) divided by fastapi-async (GET /users/42): what the harness did
    # before pairing by work. It must not produce a number.
    results = [_ok("fasterapi-sync", 100_000, fastapi_base="fastapi-async"),
               _ok("fastapi-async", 9_000)]
    with pytest.raises(ValueError, match="different work"):
        report.add_ratios(results)


def test_ratio_between_pipelined_and_plain_raises() -> None:
    results = [_ok("fasterapi-sync-pipe16", 900_000, nginx_base="nginx"),
               _ok("nginx", 130_000)]
    with pytest.raises(ValueError, match="different work"):
        report.add_ratios(results)


def test_ratio_between_different_connection_counts_raises() -> None:
    results = [_ok("hello_server", 100_000), _ok("nginx", 110_000, connections=128)]
    with pytest.raises(ValueError, match="different work"):
        report.add_ratios(results)


def test_different_bodies_give_no_ratio() -> None:
    results = [_ok("hello_server", 100_000), _ok("nginx", 110_000, body='{"other":1}')]
    report.add_ratios(results)
    assert results[0]["vs_nginx"] is None
    assert "different body" in results[0]["note"]
    met = {t["target"]: t for t in report.check_targets(results)}
    assert met["C++ hello_server ≥ 1.0x nginx (both GET /)"]["met"] is False


def test_bodies_compare_as_json_values() -> None:
    a = _ok("hello_server", 1, body='{"message": "Hello, World!"}')
    b = _ok("nginx", 1, body='{"message":"Hello, World!"}')
    assert report.same_body(a, b)


# --- invalid runs: any wrk error excludes the run from medians and ratios --------------------

def test_parse_wrk_socket_error_detail() -> None:
    r = parse_wrk(WRK_OUTPUT)
    assert r.socket_error_detail == {"connect": 0, "read": 3, "write": 0, "timeout": 2}


def test_parse_wrk_non_2xx_alone() -> None:
    text = ("  1000 requests in 1.00s, 1KB read\n  Non-2xx or 3xx responses: 1000\n"
            "Requests/sec: 1000.00\n")
    r = parse_wrk(text)
    assert (r.non_2xx, r.socket_errors, r.errors) == (1000, 0, 1000)


def test_parse_wrk_socket_errors_alone() -> None:
    text = ("  500 requests in 2.00s, 1KB read\n"
            "  Socket errors: connect 64, read 0, write 0, timeout 0\nRequests/sec: 250.00\n")
    r = parse_wrk(text)
    assert (r.non_2xx, r.socket_errors, r.socket_error_detail["connect"]) == (0, 64, 64)


def test_parse_wrk_refuses_an_unreadable_error_line() -> None:
    with pytest.raises(ValueError, match="socket errors"):
        parse_wrk("  5 requests in 1.00s, 1KB read\n  Socket errors: connect x\n")


def _wrk(requests: int, non_2xx: int = 0, timeouts: int = 0) -> WrkResult:
    return WrkResult(requests=requests, seconds=1.0, rps=float(requests), non_2xx=non_2xx,
                     socket_errors=timeouts, latency_avg_ms=None, latency_p99_ms=None)


class _FakeServer:
    port = 1
    proc = None

    def cpu_ticks(self) -> int:
        return 0


def _measure(monkeypatch: pytest.MonkeyPatch, outcomes: list[WrkResult]) -> dict[str, object]:
    queue = iter(outcomes)
    monkeypatch.setattr(run_http, "run_wrk", lambda *a, **k: next(queue))
    args = run_http.parse_args(["--runs", str(len(outcomes)), "--warmup", "0"])
    row = next(r for r in ROWS if r.key == "fasterapi-sync")
    entry = run_http.row_entry(row, next(iter(server_specs(Path("x")).values())), args)
    run_http.measure_wrk(_FakeServer(), row, entry, args)  # type: ignore[arg-type]
    return entry


def test_run_with_errors_is_invalid_and_left_out_of_the_median(
        monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _measure(monkeypatch, [_wrk(100), _wrk(900, non_2xx=5), _wrk(300),
                                   _wrk(800, timeouts=1)])
    runs = entry["runs"]
    assert [r["valid"] for r in runs] == [True, False, True, False]  # type: ignore[index]
    assert entry["status"] == "ok"
    assert entry["rps"] == 200.0  # median of 100 and 300 only
    assert entry["errors"] == 6
    assert "2 of 4 runs invalid" in str(entry["note"])


def test_row_whose_runs_all_have_errors_is_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _measure(monkeypatch, [_wrk(100, non_2xx=1), _wrk(0)])
    assert entry["status"] == "invalid" and entry["rps"] is None
    base = _ok("fastapi-sync", 4_000)
    results = [entry, base, _ok("fastapi-async-root", 5_000)]
    report.add_ratios(results)
    assert entry["vs_fastapi"] is None
    table = report.markdown_table(results)
    assert "| fasterapi-sync |" in table and "INVALID: all 2 runs had errors" in table
    met = {t["target"]: t for t in report.check_targets(results)}
    verdict = met["FasterAPI sync ≥ 10x FastAPI async (both GET /)"]
    assert verdict["met"] is False and verdict["detail"].startswith("invalid run")


def test_invalid_baseline_gives_no_ratio() -> None:
    results = [_ok("fasterapi-async", 100_000), _ok("fastapi-async", 9_000, status="invalid")]
    report.add_ratios(results)
    assert results[0]["vs_fastapi"] is None


def test_select_rows() -> None:
    assert [r.key for r in select_rows("nginx, hello_server", "python")] == [
        "nginx", "hello_server"]
    assert len(select_rows(None, "cpp")) == 4
