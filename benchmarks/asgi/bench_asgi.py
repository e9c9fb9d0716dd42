#!/usr/bin/env python3
"""ASGI mode benchmark: the same unchanged FastAPI app (bench_app.py) on FasterAPI's ASGI mode
(`fasterapi run`), uvicorn (httptools, uvloop) and granian (asgi, uvloop); one worker each,
the server pinned to one CPU and wrk to another. Per server: req/s, server CPU µs per
request (utime+stime of the server's process tree over the run / requests), non-2xx and
socket errors. The `raw` rows serve a bare ASGI app: the server's own cost per request; the
FastAPI row minus it is the app's share (the split printed at the end).

    python3 benchmarks/asgi/bench_asgi.py [--duration 10] [--connections 64] [--json out.json]

Process, pinning, CPU and wrk helpers are the shared ones in benchmarks/e2e/harness/."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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
    return {
        "server": server,
        "app": app,
        "requests": res.requests,
        "rps": res.rps,
        "non_2xx": res.non_2xx,
        "socket_errors": res.socket_errors,
        "cpu_us_per_req": round(cpu_us / max(1, res.requests), 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--server-cpu", default="1")
    p.add_argument("--wrk-cpu", default="0")
    p.add_argument("--servers", default="fasterapi,uvicorn,granian")
    p.add_argument("--apps", default="bench_app:app,bench_app:raw")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    rows = []
    for app in args.apps.split(","):
        for server in args.servers.split(","):
            row = bench(server, app, args)
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
                {"duration": args.duration, "connections": args.connections, "rows": rows}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
