#!/usr/bin/env python3
"""The FastAPI-style benchmark: one app source (items_app.py, FastAPI-style: pydantic models,
a typed query parameter, response_model) served by FasterAPI and by FastAPI on uvicorn
(httptools, uvloop) and granian (asgi, uvloop), one worker each, same wrk load.

Routes: POST /items?verbose=true with a five-field JSON body (post_item.lua), and GET /items,
a response_model=list[Item] of 20 items. Server on one core, wrk on the other (taskset),
64 connections. Per server and route: req/s, the ratio to FastAPI + uvicorn, server CPU µs per
request (utime+stime of the server's process tree from /proc over the timed run) and errors
(non-2xx + socket errors). Every server's status, content type and body are compared with
FastAPI + uvicorn's before timing; a server that differs is reported INVALID, not timed.

    python3 benchmarks/fastapi_style/bench.py [--duration 5] [--connections 64] [--runs 1]
        [--servers fasterapi,uvicorn,granian,asgi] [--json out.json]

`asgi` is the same FastAPI app served by FasterAPI's ASGI mode (`fasterapi run`)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "e2e"))

from harness.procs import Server, free_port, ticks_to_us  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PY = sys.executable
POST_SCRIPT = HERE / "post_item.lua"
BASELINE = "uvicorn"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    script: Path | None = None


ROUTES = [
    Route("POST /items?verbose=true (body + query)", "POST", "/items?verbose=true", POST_SCRIPT),
    Route("GET /items (response_model, 20 items)", "GET", "/items"),
]

# name -> (label, argv with {port}, framework the app module imports)
SERVERS: dict[str, tuple[str, list[str], str]] = {
    "fasterapi": (
        "FasterAPI (`fasterapi run`)",
        [PY, "-m", "fasterapi", "run", "items_app:app", "--port", "{port}",
         "--log-level", "warning", "--no-access-log"],
        "fasterapi",
    ),
    "uvicorn": (
        "FastAPI + uvicorn (httptools, uvloop)",
        [PY, "-m", "uvicorn", "items_app:app", "--host", "127.0.0.1", "--port", "{port}",
         "--http", "httptools", "--loop", "uvloop", "--log-level", "warning",
         "--no-access-log"],
        "fastapi",
    ),
    "granian": (
        "FastAPI + granian (asgi, uvloop)",
        [PY, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--host", "127.0.0.1",
         "--port", "{port}", "--workers", "1", "--log-level", "warning", "--no-access-log",
         "items_app:app"],
        "fastapi",
    ),
    "asgi": (
        "FastAPI on FasterAPI's ASGI mode",
        [PY, "-m", "fasterapi", "run", "items_app:app", "--port", "{port}",
         "--log-level", "warning", "--no-access-log"],
        "fastapi",
    ),
}  # fmt: skip


def post_body() -> bytes:
    """The JSON body post_item.lua sends (one source for the check and the load)."""
    m = re.search(r"^wrk\.body = '(.*)'$", POST_SCRIPT.read_text(), re.M)
    if m is None:
        raise RuntimeError(f"{POST_SCRIPT}: no wrk.body line")
    return m.group(1).encode()


def fetch(port: int, route: Route) -> tuple[int, str, bytes]:
    """(status, content type, body) of one request of the route, as wrk sends it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if route.method == "POST":
            conn.request("POST", route.path, post_body(), {"Content-Type": "application/json"})
        else:
            conn.request("GET", route.path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("content-type", ""), resp.read()
    finally:
        conn.close()


def bench(name: str, args: argparse.Namespace, expected: dict[str, Any]) -> dict[str, Any]:
    label, argv, framework = SERVERS[name]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"fastapi-style-{name}-") as tmp:
        server = Server(
            name,
            [a.replace("{port}", str(port)) for a in argv],
            port,
            core=args.server_core,
            cwd=str(HERE),
            env={"FASTAPI_STYLE_FRAMEWORK": framework},
            log_path=Path(tmp) / "server.log",
        )
        server.start()
        try:
            server.wait_ready("/items")
            out: dict[str, Any] = {"server": name, "label": label, "routes": {}}
            for route in ROUTES:
                got = fetch(port, route)
                if got[0] != 200:
                    out["routes"][route.name] = {"invalid": f"status {got[0]}: {got[2][:200]!r}"}
                    continue
                # The first server checked (the baseline, when it runs) sets the reference.
                ref = expected.setdefault(route.name, got)
                if got != ref:
                    out["routes"][route.name] = {
                        "invalid": f"answer differs from {BASELINE}: {got!r} vs {ref!r}"
                    }
                    continue
                out["routes"][route.name] = measure(server, port, route, args)
            return out
        finally:
            server.stop()


def measure(server: Server, port: int, route: Route, args: argparse.Namespace) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}{route.path}"
    run_wrk(
        url,
        duration_s=args.warmup,
        connections=args.connections,
        core=args.client_core,
        script=route.script,
    )
    runs = []
    for _ in range(args.runs):
        before = server.cpu_ticks()
        res = run_wrk(
            url,
            duration_s=args.duration,
            connections=args.connections,
            core=args.client_core,
            script=route.script,
        )
        cpu_us = ticks_to_us(server.cpu_ticks() - before)
        runs.append(
            {
                "rps": res.rps,
                "requests": res.requests,
                "non_2xx": res.non_2xx,
                "socket_errors": res.socket_errors,
                "cpu_us_per_req": cpu_us / max(1, res.requests),
            }
        )
    return {
        "runs": runs,
        "rps": statistics.median(r["rps"] for r in runs),
        "cpu_us_per_req": statistics.median(r["cpu_us_per_req"] for r in runs),
        "errors": sum(r["non_2xx"] + r["socket_errors"] for r in runs),
    }


def table(results: list[dict[str, Any]]) -> str:
    base = next((r for r in results if r["server"] == BASELINE), None)
    lines = []
    for route in ROUTES:
        lines += [
            f"\n**{route.name}**\n",
            "| server | req/s | vs FastAPI + uvicorn | server CPU µs/req | errors |",
            "|---|---:|---:|---:|---:|",
        ]
        ref = base["routes"].get(route.name, {}) if base else {}
        for r in results:
            row = r["routes"].get(route.name, {"invalid": "not run"})
            if "invalid" in row:
                lines.append(f"| {r['label']} | INVALID: {row['invalid'][:120]} | | | |")
                continue
            ratio = f"{row['rps'] / ref['rps']:.2f}x" if "rps" in ref else "n/a"
            lines.append(
                f"| {r['label']} | {row['rps']:,.0f} | {ratio} | "
                f"{row['cpu_us_per_req']:.1f} | {row['errors']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--runs", type=int, default=1, help="timed runs per route (median)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--servers", default="uvicorn,fasterapi,granian,asgi")
    p.add_argument("--server-core", default="1")
    p.add_argument("--client-core", default="0")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    names = args.servers.split(",")
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        p.error(f"unknown server(s) {unknown}; choose from {sorted(SERVERS)}")
    names.sort(key=lambda n: n != BASELINE)  # the baseline first: its answers are the reference
    expected: dict[str, Any] = {}
    results = []
    for name in names:
        try:
            results.append(bench(name, args, expected))
        except RuntimeError as e:
            results.append(
                {
                    "server": name,
                    "label": SERVERS[name][0],
                    "routes": {r.name: {"invalid": str(e)} for r in ROUTES},
                }
            )
        print(
            json.dumps(
                {
                    "server": name,
                    "routes": {
                        k: {f: v for f, v in row.items() if f != "runs"}
                        for k, row in results[-1]["routes"].items()
                    },
                }
            ),
            flush=True,
        )
    print(table(results))
    if args.json:
        args.json.write_text(
            json.dumps({"argv": sys.argv, "loadavg": os.getloadavg(), "results": results}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
