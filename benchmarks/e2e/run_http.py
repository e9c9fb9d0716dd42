#!/usr/bin/env python3
"""End-to-end HTTP benchmark: FasterAPI against its peers, in one run, on this machine.

Each server runs pinned to core 0 (`taskset -c 0`), the load generator (wrk, or the 1MRC
client) to core 1. Per row: a warm-up, --runs measured runs, the median req/s, the ratio to
the FastAPI row and the nginx row doing the same work (same request and response body, same
pipelining depth and connections; none where no such row exists), the server's CPU µs per
request (utime+stime of the server and all its children from /proc/PID/stat) and wrk's error
counts. A run with any wrk error (non-2xx/3xx response, connect/read/write/timeout) is marked
INVALID and left out of the median and the ratios. Missing peers are skipped with a note.
Prints a Markdown table and the targets; writes JSON and a PNG plot.

    python3 benchmarks/e2e/run_http.py                       # every row (the Python App issue)
    python3 benchmarks/e2e/run_http.py --suite cpp           # hello_server vs nginx
    python3 benchmarks/e2e/run_http.py --only fasterapi-sync,fastapi-async --runs 1
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import meta, onemrc, procs, report
from harness.report import run_is_valid
from harness.rows import ROWS, SUITES, Row, select_rows
from harness.servers import REPO_DIR, ServerSpec, default_hello_server, server_specs
from harness.wrk import run_wrk

E2E_DIR = Path(__file__).resolve().parent
RESULTS_DIR = REPO_DIR / "benchmarks" / "results"
PIPELINE_SCRIPT = E2E_DIR / "pipeline16.lua"
BUSY_LOAD = 0.5  # 1-minute load average before the run above which figures are provisional


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help=f"comma-separated rows: {', '.join(r.key for r in ROWS)}")
    p.add_argument("--suite", choices=sorted(SUITES), default="python",
                   help="preset row list when --only is not given (default: python = all)")
    p.add_argument("--list", action="store_true", help="print the rows and exit")
    p.add_argument("--runs", type=int, default=3, help="measured runs per row; median kept")
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    p.add_argument("--warmup", type=float, default=2, help="seconds of wrk before measuring")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--server-core", default="0", help="taskset -c list for servers")
    p.add_argument("--client-core", default="1", help="taskset -c list for wrk and the client")
    p.add_argument("--onemrc-requests", type=int, default=1_000_000)
    p.add_argument("--onemrc-connections", type=int, default=1000)
    p.add_argument("--hello-server", type=Path, default=default_hello_server(),
                   help="the C++ hello_server binary (default: %(default)s)")
    p.add_argument("--build-dir", type=Path, default=REPO_DIR / "build-bench",
                   help="where the 1MRC client is compiled")
    p.add_argument("--json", type=Path, default=None,
                   help="results path (default: benchmarks/results/e2e_SUITE.json, "
                        "e2e_only.json with --only)")
    p.add_argument("--out", type=Path, default=None,
                   help="PNG plot path, e.g. docs/e2e_http.png (default: the JSON's, .png)")
    p.add_argument("--no-plot", action="store_true")
    return p.parse_args(argv)


def row_entry(row: Row, spec: ServerSpec, args: argparse.Namespace) -> dict[str, Any]:
    onemrc_row = row.mode == "onemrc"
    return {"key": row.key, "server": row.server, "label": spec.label, "path": row.path,
            "mode": row.mode, "handler": row.handler, "work": list(row.work),
            "connections": args.onemrc_connections if onemrc_row else args.connections,
            "threads": 1 if onemrc_row else args.threads, "body": None,
            "fastapi_base": row.fastapi_base, "nginx_base": row.nginx_base,
            "status": "pending", "note": "", "runs": []}


def measure_wrk(server: procs.Server, row: Row, entry: dict[str, Any],
                args: argparse.Namespace) -> None:
    url = f"http://127.0.0.1:{server.port}{row.path}"
    script = PIPELINE_SCRIPT if row.mode == "pipe16" else None
    load = functools.partial(run_wrk, url, connections=args.connections, threads=args.threads,
                             core=args.client_core, script=script)
    if args.warmup > 0:
        load(duration_s=args.warmup)
    for i in range(args.runs):
        before = server.cpu_ticks()
        res = load(duration_s=args.duration)
        cpu_us = procs.ticks_to_us(server.cpu_ticks() - before)
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode} during the run")
        run = {"rps": res.rps, "requests": res.requests, "seconds": res.seconds,
               "cpu_us_per_req": cpu_us / res.requests if res.requests else None,
               "non_2xx": res.non_2xx, "socket_errors": res.socket_errors,
               "socket_error_detail": res.socket_error_detail,
               "latency_avg_ms": res.latency_avg_ms, "latency_p99_ms": res.latency_p99_ms}
        run["valid"] = run_is_valid(run)
        entry["runs"].append(run)
        cpu_text = f"{run['cpu_us_per_req']:.2f}" if run["cpu_us_per_req"] else "—"
        verdict = "" if run["valid"] else " — INVALID (errors), excluded from the median"
        print(f"  {row.key} run {i + 1}/{args.runs}: {res.rps:,.0f} req/s, "
              f"{cpu_text} µs CPU/req, {res.errors} errors{verdict}", flush=True)
    summarize_runs(entry)


def summarize_runs(entry: dict[str, Any]) -> None:
    """Median req/s and CPU over the valid runs only; no valid run makes the row invalid."""
    runs = entry["runs"]
    entry["errors"] = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
    valid = [r for r in runs if r["valid"]]
    if not valid:
        entry.update(status="invalid", rps=None, cpu_us_per_req=None,
                     note=f"all {len(runs)} runs had errors ({entry['errors']})")
        return
    if len(valid) < len(runs):
        entry["note"] = (f"{len(runs) - len(valid)} of {len(runs)} runs invalid (errors), "
                         "excluded")
    entry["rps"] = statistics.median(r["rps"] for r in valid)
    cpus = [r["cpu_us_per_req"] for r in valid if r["cpu_us_per_req"] is not None]
    entry["cpu_us_per_req"] = statistics.median(cpus) if cpus else None
    entry["status"] = "ok"


def measure_onemrc(server: procs.Server, entry: dict[str, Any],
                   args: argparse.Namespace) -> None:
    client = onemrc.build_client(args.build_dir)
    before = server.cpu_ticks()
    res = onemrc.run_client(client, server.port, requests=args.onemrc_requests,
                            connections=args.onemrc_connections, core=args.client_core)
    cpu_us = procs.ticks_to_us(server.cpu_ticks() - before)
    print("  " + res.output.replace("\n", "\n  "), flush=True)
    valid = res.errors == 0 and res.exact and res.responses > 0
    entry["runs"].append({"rps": res.rps, "requests": res.responses, "seconds": res.seconds,
                          "errors": res.errors, "exact": res.exact, "valid": valid})
    entry.update(rps=res.rps, errors=res.errors, exact=res.exact, status="ok",
                 cpu_us_per_req=cpu_us / res.responses if res.responses else None)
    if not valid:
        entry.update(status="invalid", note=f"{res.errors} errors, totals "
                     f"{'EXACT' if res.exact else 'MISMATCH'}")


def run_group(spec: ServerSpec, rows: list[Row], entries: dict[str, dict[str, Any]],
              args: argparse.Namespace, scratch: Path) -> None:
    """Starts spec's server once, measures rows on it, and always stops it."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{spec.key}-", dir=scratch))
    port = procs.free_port()
    server = procs.Server(spec.key, spec.argv(port, tmp), port, core=args.server_core,
                          env=spec.env, log_path=tmp / "server.log")
    print(f"== {spec.label} (port {port}): {', '.join(r.key for r in rows)}", flush=True)
    try:
        server.start()
        server.wait_ready(rows[0].path)
    except (RuntimeError, OSError) as exc:
        print(f"  {spec.key}: failed: {exc}", flush=True)
        for row in rows:
            entries[row.key].update(status="failed", note=str(exc)[:200])
        server.stop()
        return
    try:
        for row in rows:
            measure_row(server, row, entries[row.key], args)
    finally:
        server.stop()


def measure_row(server: procs.Server, row: Row, entry: dict[str, Any],
                args: argparse.Namespace) -> None:
    """Measures one row; a failure marks the row failed and the run goes on."""
    try:
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}")
        got = procs.http_get(server.port, row.path, timeout=5.0)
        status = got[0] if got else None
        if got is None or got[0] // 100 != 2:
            raise RuntimeError(f"GET {row.path} answered {status}, not 2xx")
        if row.mode == "onemrc":
            measure_onemrc(server, entry, args)
        else:
            # The body each ratio checks: two rows are compared only if their bodies match.
            entry["body"] = got[1].decode("utf-8", "replace")
            measure_wrk(server, row, entry, args)
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"  {row.key}: failed: {exc}", flush=True)
        entry.update(status="failed", note=str(exc)[:200])


def plan(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """Groups consecutive wrk rows by server (one server start each); a 1MRC row gets its own
    fresh server, since its totals must start from zero."""
    groups: list[tuple[str, list[Row]]] = []
    wrk_rows = [r for r in rows if r.mode != "onemrc"]
    order = list(dict.fromkeys(r.server for r in wrk_rows))
    for key in order:
        groups.append((key, [r for r in wrk_rows if r.server == key]))
    groups += [(r.server, [r]) for r in rows if r.mode == "onemrc"]
    return groups


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def raise_fd_limit() -> None:
    # 1000 1MRC connections plus the server's own files exceed the usual soft limit of 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for r in ROWS:
            print(f"{r.key:24} {r.server:18} {r.mode:7} {r.path:10} {r.handler}")
        return 0
    rows = select_rows(args.only, args.suite)
    args.json = args.json or RESULTS_DIR / f"e2e_{'only' if args.only else args.suite}.json"
    args.out = args.out or args.json.with_suffix(".png")
    missing_tools = meta.missing_tools(["taskset", "wrk", "g++"])
    if missing_tools:
        print(f"missing tools: {', '.join(missing_tools)} (run scripts/install-deps.sh)")
        return 2
    raise_fd_limit()
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops its server.
    signal.signal(signal.SIGTERM, _interrupt)
    specs = server_specs(args.hello_server)
    entries = {r.key: row_entry(r, specs[r.server], args) for r in rows}
    info = meta.machine_info(sys.argv, vars(args))
    print(f"machine: {info['cpu']}, {info['cores']} cores, load {info['loadavg_before']}")
    if float(info["loadavg_before"].split()[0]) > BUSY_LOAD:
        print(f"note: load average above {BUSY_LOAD}: other work shares these cores, so req/s "
              "is provisional (CPU µs/request is less affected)")
    reasons: dict[str, str | None] = {}
    with tempfile.TemporaryDirectory(prefix="fa-e2e-") as scratch:
        for key, group in plan(rows):
            if key not in reasons:
                reasons[key] = specs[key].missing()
            if reasons[key]:
                print(f"== {specs[key].label}: skipped: {reasons[key]}", flush=True)
                for row in group:
                    entries[row.key].update(status="skipped", note=reasons[key])
                continue
            run_group(specs[key], group, entries, args, Path(scratch))
    info["loadavg_after"] = meta.loadavg()
    results = [entries[r.key] for r in rows]
    report.add_ratios(results)
    targets = report.check_targets(results)
    print()
    print(report.markdown_table(results))
    print()
    for t in targets:
        print(f"- {'MET' if t['met'] else 'NOT MET'}: {t['target']} ({t['detail']})")
    print(f"\nmachine: {info['cpu']}; load average before/after: {info['loadavg_before']} / "
          f"{info['loadavg_after']}; wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration:g}s, median of the valid runs of {args.runs} (a run with any wrk "
          f"error is invalid); ratios only between rows doing the same work")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": info, "results": results, "targets": targets},
                                    indent=2, default=str))
    print(f"results: {args.json}")
    if not args.no_plot:
        write_plot(args.json, args.out)
    return 0


def write_plot(json_path: Path, png_path: Path) -> None:
    try:
        import plot
    except ImportError as exc:  # matplotlib missing: the table and JSON still stand
        print(f"plot skipped: {exc}")
        return
    plot.plot(json_path, png_path)
    print(f"plot: {png_path}")


if __name__ == "__main__":
    started = time.monotonic()
    try:
        code = main()
    except KeyboardInterrupt:
        print("interrupted; servers stopped")
        code = 130
    print(f"took {time.monotonic() - started:.0f} s")
    sys.exit(code)
