#!/usr/bin/env python3
"""WebSocket echo benchmark: FasterAPI's Python handler (examples/ws_echo.py) against FastAPI
on uvicorn (websockets), FastAPI on granian (ASGI) and socketify (uWebSockets, Python
handler), in one run, on this machine.

Each server runs pinned to one core (`taskset -c 0`), the load generator
(benchmarks/ws/ws_echo_load.cpp: C++, epoll, one thread, built here with c++ -O2) to another
(`taskset -c 1`). Per row and message size: a warm-up run, then --runs measured runs of
--duration seconds with --connections connections, each keeping one message in flight
(closed loop). Reported: median messages/s, the server's CPU µs per message (utime+stime of
the server and its children from /proc/PID/stat, over the run), the load generator's errors
(a response that is not the echoed text frame, a dropped connection, a refused handshake; a
run with errors is INVALID and left out of the median), and ratios to uvicorn and socketify.

    python3 benchmarks/ws/bench_ws_echo.py                     # all rows, 32 B and 4 KiB
    python3 benchmarks/ws/bench_ws_echo.py --only fasterapi,uvicorn --runs 1 --duration 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "benchmarks" / "e2e"))

from harness import meta, procs  # noqa: E402

BUILD_DIR = REPO / "build" / "bench-ws"
RESULTS = REPO / "benchmarks" / "results" / "ws_echo.json"


@dataclass
class Row:
    key: str
    label: str
    argv: list[str]
    needs: str  # the Python module that must import for this row
    ready_path: str = "/ws"  # a GET here answers (any status) once the server is up


def hello_server() -> Path:
    """examples/cpp/hello_server: the newer of the release (scripts/test.sh) and dev builds."""
    builds = [REPO / "build" / b / "examples" / "cpp" / "hello_server" for b in ("release", "dev")]
    built = [exe for exe in builds if exe.exists()]
    return max(built, key=lambda exe: exe.stat().st_mtime) if built else builds[0]


def rows(port: int) -> list[Row]:
    py = sys.executable
    fastapi_app = "benchmarks.ws.apps.fastapi_ws_echo:app"
    return [
        Row("fasterapi", "FasterAPI (Python handler)",
            [py, "examples/ws_echo.py", "--port", str(port)], "fasterapi"),
        Row("cpp", "FasterAPI (C++ handler: hello_server /ws)",
            [str(hello_server()), "--port", str(port)], "fasterapi"),
        Row("uvicorn", "FastAPI + uvicorn (websockets)",
            [py, "-m", "uvicorn", fastapi_app, "--port", str(port), "--ws", "websockets",
             "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
             "--no-access-log"], "uvicorn"),
        Row("granian", "FastAPI + granian (ASGI)",
            [py, "-m", "granian", "--interface", "asgi", "--port", str(port), "--workers", "1",
             "--runtime-threads", "1", "--loop", "uvloop", "--log-level", "warning",
             fastapi_app], "granian"),
        Row("socketify", "socketify (uWebSockets, Python handler)",
            [py, "benchmarks/ws/apps/socketify_ws_echo.py", "--port", str(port)], "socketify",
            ready_path="/"),
    ]  # fmt: skip


def build_tool(name: str) -> Path:
    """Compiles benchmarks/ws/<name>.cpp into build/bench-ws/<name> if the source is newer."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    source, binary = HERE / f"{name}.cpp", BUILD_DIR / name
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
        if cxx is None:
            raise SystemExit(f"no C++ compiler (c++/g++/clang++) to build {source.name}")
        subprocess.run([cxx, "-O2", "-std=c++20", "-o", str(binary), str(source)], check=True)
    return binary


def run_load(binary: Path, core: str, port: int, conns: int, size: int, seconds: float,
             warmup: float) -> dict[str, Any]:  # fmt: skip
    out = subprocess.run(
        ["taskset", "-c", core, str(binary), "127.0.0.1", str(port), "/ws", str(conns),
         str(size), str(seconds), str(warmup)],
        capture_output=True, text=True, timeout=seconds + warmup + 60, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def importable(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def measure_row(
    row: Row, args: argparse.Namespace, binary: Path, port: int
) -> list[dict[str, Any]]:
    server = procs.Server(row.key, row.argv, port, core=args.server_core, cwd=str(REPO),
                          log_path=BUILD_DIR / f"{row.key}.log")  # fmt: skip
    server.start()
    results = []
    try:
        server.wait_ready(row.ready_path)
        for size in args.sizes:
            run_load(binary, args.client_core, port, args.connections, size, args.warmup, 0)
            runs = []
            for _ in range(args.runs):
                before = server.cpu_ticks()
                r = run_load(binary, args.client_core, port, args.connections, size,
                             args.duration, 0)  # fmt: skip
                cpu_us = procs.ticks_to_us(server.cpu_ticks() - before)
                r["rate"] = r["messages"] / r["seconds"] if r["seconds"] else 0.0
                r["cpu_us_per_msg"] = cpu_us / r["messages"] if r["messages"] else None
                r["valid"] = r["errors"] == 0 and r["errors_total"] == 0 and r["messages"] > 0
                runs.append(r)
            valid = [r for r in runs if r["valid"]]
            results.append({
                "row": row.key, "label": row.label, "size": size, "runs": runs,
                "rate": statistics.median(r["rate"] for r in valid) if valid else None,
                "cpu_us_per_msg": statistics.median(r["cpu_us_per_msg"] for r in valid)
                if valid else None,
                "errors": sum(r["errors_total"] for r in runs),
            })  # fmt: skip
    finally:
        server.stop()
    return results


def table(results: list[dict[str, Any]]) -> str:
    def ratio(r: dict[str, Any], key: str) -> str:
        peer = next((x for x in results if x["row"] == key and x["size"] == r["size"]), None)
        if peer is None or not peer["rate"] or not r["rate"]:
            return "-"
        return f"{r['rate'] / peer['rate']:.2f}x"

    lines = [
        "| server | message | messages/s | server CPU µs/msg | errors | vs uvicorn "
        "| vs socketify |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rate = f"{r['rate']:,.0f}" if r["rate"] else "INVALID"
        cpu = f"{r['cpu_us_per_msg']:.1f}" if r["cpu_us_per_msg"] else "-"
        lines.append(
            f"| {r['label']} | {r['size']} B | {rate} | {cpu} | {r['errors']} | "
            f"{ratio(r, 'uvicorn')} | {ratio(r, 'socketify')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated rows: fasterapi,cpp,uvicorn,granian,socketify")
    p.add_argument("--sizes", default="32,4096", help="message sizes in bytes (< 65536)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--runs", type=int, default=3, help="measured runs per row and size")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per size")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--json", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    binary = build_tool("ws_echo_load")
    port = procs.free_port()
    wanted = set(args.only.split(",")) if args.only else None
    load_before = meta.loadavg()
    results: list[dict[str, Any]] = []
    for row in rows(port):
        if wanted is not None and row.key not in wanted:
            continue
        if not importable(row.needs):
            print(f"skipping {row.key}: `{row.needs}` does not import", file=sys.stderr)
            continue
        print(f"measuring {row.label} ...", file=sys.stderr)
        results.extend(measure_row(row, args, binary, port))
        time.sleep(0.5)  # the port is free again before the next server binds it
    print(table(results))
    print(f"\nload average before: {load_before}; {args.connections} connections, "
          f"{args.runs} x {args.duration:g} s per cell, server on core {args.server_core}, "
          f"load generator on core {args.client_core}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_before": load_before, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
