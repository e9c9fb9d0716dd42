#!/usr/bin/env python3
"""ASGI mode benchmark: the same unchanged FastAPI app (bench_app.py) on FasterAPI's ASGI mode
(`fasterapi run`), uvicorn (httptools, uvloop) and granian (asgi, uvloop); one worker each,
the server pinned to one CPU and wrk to another. Per server: req/s, server CPU µs per
request (utime+stime of the server's process tree over the run / requests), non-2xx and
socket errors. The `raw` rows serve a bare ASGI app: the server's own cost per request; the
FastAPI row minus it is the app's share.

    python3 benchmarks/asgi/bench_asgi.py [--duration 10] [--connections 64] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PATH = "/items/1?q=x"

SERVERS: dict[str, list[str]] = {
    "fasterapi": [
        sys.executable,
        "-m",
        "fasterapi",
        "run",
        "{app}",
        "--port",
        "{port}",
        "--log-level",
        "warning",
        "--no-access-log",
    ],
    "uvicorn": [
        sys.executable,
        "-m",
        "uvicorn",
        "{app}",
        "--port",
        "{port}",
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--log-level",
        "warning",
        "--no-access-log",
    ],
    "granian": [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--loop",
        "uvloop",
        "--port",
        "{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
        "{app}",
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float:
    """utime+stime of pid and its descendants (granian serves from a child process)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server not ready")


def run_wrk(port: int, duration: int, connections: int, cpu: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            cpu,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(duration)}s",
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": total,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in sock.groups()) if sock else 0,
    }


def bench(server: str, app: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    cmd = [a.format(app=app, port=port) for a in SERVERS[server]]
    proc = subprocess.Popen(
        ["taskset", "-c", args.server_cpu, *cmd],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(port, proc)
        run_wrk(port, min(2, args.duration), args.connections, args.wrk_cpu)  # warm-up
        before = tree_cpu_seconds(proc.pid)
        result = run_wrk(port, args.duration, args.connections, args.wrk_cpu)
        cpu = tree_cpu_seconds(proc.pid) - before
        result["cpu_us_per_req"] = round(cpu * 1e6 / max(1, result["requests"]), 1)
        return {"server": server, "app": app, **result}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    for app in args.apps.split(","):
        fa, uv = by.get((app, "fasterapi")), by.get((app, "uvicorn"))
        if fa and uv:
            print(f"{app}: fasterapi / uvicorn = {fa['rps'] / uv['rps']:.2f}x req/s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"duration": args.duration, "connections": args.connections, "rows": rows}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
