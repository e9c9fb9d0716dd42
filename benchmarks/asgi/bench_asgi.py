#!/usr/bin/env python3
"""ASGI mode benchmark: the same unchanged FastAPI app (bench_app.py) on FasterAPI's ASGI mode
(`fasterapi run`), uvicorn (httptools, uvloop) and granian (asgi, uvloop); one worker each,
the server pinned to one CPU and wrk to another. Per server: req/s, server CPU µs per
request (utime+stime of the server's process tree over the run / requests), non-2xx and
socket errors. The `raw` rows serve a bare ASGI app: the server's own cost per request; the
FastAPI row minus it is the app's share (the split printed at the end).

    python3 benchmarks/asgi/bench_asgi.py [--duration 10] [--connections 64] [--json out.json]
        [--together]

--together starts every server of an app at once on the same CPU, each driven by its own wrk
(all on the wrk CPU) for the same seconds, so whatever else loads the machine hits them alike
(for a shared, busy machine; the sequential default gives absolute figures on a quiet one).
Compare CPU µs per request there. req/s compares fairly only between single-threaded servers
(FasterAPI, uvicorn): the scheduler shares the CPU per thread, and granian runs several.

Process, pinning, CPU and wrk helpers are the shared ones in benchmarks/e2e/harness/."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks" / "e2e"))

from harness.procs import Server, free_port, ticks_to_us  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PATH = "/items/1?q=x"
PY = sys.executable

SERVERS: dict[str, list[str]] = {
    "fasterapi": [PY, "-m", "fasterapi", "run", "{app}", "--port", "{port}",
                  "--log-level", "warning", "--no-access-log"],
    "uvicorn": [PY, "-m", "uvicorn", "{app}", "--port", "{port}", "--http", "httptools",
                "--loop", "uvloop", "--log-level", "warning", "--no-access-log"],
    "granian": [PY, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--port",
                "{port}", "--workers", "1", "--log-level", "warning", "--no-access-log",
                "{app}"],
}  # fmt: skip


def bench(server: str, app: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    argv = [a.format(app=app, port=port) for a in SERVERS[server]]
    with tempfile.TemporaryDirectory(prefix=f"asgi-{server}-") as tmp:
        proc = Server(
            server,
            argv,
            port,
            core=args.server_cpu,
            cwd=str(HERE),
            log_path=Path(tmp) / "server.log",
        )
        proc.start()
        try:
            proc.wait_ready(PATH)
            url = f"http://127.0.0.1:{port}{PATH}"
            run_wrk(
                url,
                duration_s=min(2, args.duration),
                connections=args.connections,
                core=args.wrk_cpu,
            )  # warm-up
            before = proc.cpu_ticks()
            res = run_wrk(
                url, duration_s=args.duration, connections=args.connections, core=args.wrk_cpu
            )
            cpu_us = ticks_to_us(proc.cpu_ticks() - before)
        finally:
            proc.stop()
    return _row(server, app, res, cpu_us)


def _row(server: str, app: str, res: Any, cpu_us: float) -> dict[str, Any]:
    """One table row: wrk's counts and the server's CPU per request."""
    return {
        "server": server,
        "app": app,
        "requests": res.requests,
        "rps": res.rps,
        "non_2xx": res.non_2xx,
        "socket_errors": res.socket_errors,
        "cpu_us_per_req": round(cpu_us / max(1, res.requests), 1),
    }


def bench_together(app: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every server of `app` at once on the server CPU, one wrk each, same seconds."""
    servers = args.servers.split(",")
    with contextlib.ExitStack() as stack:
        procs: dict[str, tuple[Any, str]] = {}
        for server in servers:
            port = free_port()
            argv = [a.format(app=app, port=port) for a in SERVERS[server]]
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"asgi-{server}-"))
            proc = Server(
                server, argv, port, core=args.server_cpu, cwd=str(HERE), log_path=Path(tmp) / "log"
            )
            proc.start()
            stack.callback(proc.stop)
            proc.wait_ready(PATH)
            procs[server] = (proc, f"http://127.0.0.1:{port}{PATH}")

        def drive(duration: int) -> dict[str, Any]:
            results: dict[str, Any] = {}

            def one(server: str, url: str) -> None:
                results[server] = run_wrk(
                    url, duration_s=duration, connections=args.connections, core=args.wrk_cpu
                )

            threads = [
                threading.Thread(target=one, args=(server, url))
                for server, (_, url) in procs.items()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return results

        drive(min(2, args.duration))  # warm-up
        before = {server: proc.cpu_ticks() for server, (proc, _) in procs.items()}
        results = drive(args.duration)
        rows = []
        for server, (proc, _) in procs.items():
            res = results[server]
            cpu_us = ticks_to_us(proc.cpu_ticks() - before[server])
            rows.append(_row(server, app, res, cpu_us))
        return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--server-cpu", default="1")
    p.add_argument("--wrk-cpu", default="0")
    p.add_argument("--servers", default="fasterapi,uvicorn,granian")
    p.add_argument("--apps", default="bench_app:app,bench_app:raw")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument(
        "--together",
        action="store_true",
        help="all servers of an app at once on the server CPU (a busy machine's comparison)",
    )
    args = p.parse_args()
    rows = []
    for app in args.apps.split(","):
        if args.together:
            app_rows = bench_together(app, args)
        else:
            app_rows = [bench(server, app, args) for server in args.servers.split(",")]
        for row in app_rows:
            server = row["server"]
            rows.append(row)
            print(
                f"{app:16} {server:10} {row['rps']:>10,.0f} req/s  "
                f"{row['cpu_us_per_req']:>7.1f} µs CPU/req  non-2xx {row['non_2xx']}  "
                f"socket errors {row['socket_errors']}",
                flush=True,
            )
    by = {(r["app"], r["server"]): r for r in rows}
    apps = args.apps.split(",")
    for app in apps:
        fa, uv = by.get((app, "fasterapi")), by.get((app, "uvicorn"))
        if fa and uv:
            print(f"{app}: fasterapi / uvicorn = {fa['rps'] / uv['rps']:.2f}x req/s")
    if len(apps) == 2:  # the FastAPI app and the bare one: each server's CPU split
        full, bare = apps
        for server in args.servers.split(","):
            f, b = by.get((full, server)), by.get((bare, server))
            if f and b:
                print(
                    f"{server}: server {b['cpu_us_per_req']:.1f} µs + app "
                    f"{f['cpu_us_per_req'] - b['cpu_us_per_req']:.1f} µs per request"
                )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "duration": args.duration,
                    "connections": args.connections,
                    "together": args.together,
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
