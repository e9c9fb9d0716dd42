"""Checks loadgen against wrk on the C++ hello_server's `GET /` (plaintext-sized JSON).

hello_server runs on core 0, the load (wrk or loadgen) on core 1, same connections and
duration. Non-pipelined: the two should agree within a few percent (the same work per
request on the client side is small next to the server's). Pipelined x16: wrk's request
batch comes from benchmarks/e2e/pipeline16.lua; loadgen uses -p 16 (the same batch-then-wait
model), and there the ceiling of wrk's one Lua thread is what loadgen exists to lift.

Run:
  python3 benchmarks/loadgen/compare_wrk.py [--runs 3] [--duration 5] [--connections 64]
      [--loop epoll|uring] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "e2e"))

from harness import procs  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PIPELINE_LUA = REPO / "benchmarks" / "e2e" / "pipeline16.lua"
SLACK_S = 30


def run_loadgen(binary: Path, url: str, *, duration_s: float, connections: int, pipeline: int,
                loop: str, core: str) -> dict[str, Any]:
    """Runs loadgen --json pinned to core; returns its JSON summary."""
    argv = ["taskset", "-c", core, str(binary), "-c", str(connections), "-d", f"{duration_s}s",
            "-p", str(pipeline), "--loop", loop, "--json", url]
    out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=duration_s + SLACK_S, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"loadgen exited with {out.returncode}: "
                           f"{(out.stderr or out.stdout).strip()[-300:]}")
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def children_cpu_s() -> float:
    """CPU seconds used so far by this script's finished children (the load generators)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def loadgen_errors(s: dict[str, Any]) -> int:
    return int(s["non2xx"]) + sum(int(v) for v in s["errors"].values())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hello-server", type=Path,
                   default=REPO / "build/dev/examples/cpp/hello_server")
    p.add_argument("--loadgen", type=Path, default=REPO / "build/dev/benchmarks/loadgen/loadgen")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--loop", default="epoll", help="hello_server's and loadgen's loop backend")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--json", type=Path, help="write the runs and medians here")
    args = p.parse_args()
    for binary in (args.hello_server, args.loadgen):
        if not binary.exists():
            p.error(f"{binary} is missing: cmake --build build/dev --target hello_server loadgen")

    port = procs.free_port()
    server = procs.Server("hello_server", [str(args.hello_server), "--host", "127.0.0.1",
                                           "--port", str(port), "--loop", args.loop],
                          port, core=args.server_core)
    url = f"http://127.0.0.1:{port}/"
    results: dict[str, Any] = {"connections": args.connections, "duration_s": args.duration,
                               "loop": args.loop, "cases": {}}
    server.start()
    try:
        server.wait_ready("/")
        # One unmeasured second so both tools meet a warm server.
        run_wrk(url, duration_s=1, connections=args.connections, core=args.client_core)
        for case, depth in (("plain", 1), ("pipeline16", 16)):
            wrk_rps: list[float] = []
            lg_rps: list[float] = []
            cpu = {"wrk": 0.0, "loadgen": 0.0}  # client CPU seconds
            done = {"wrk": 0, "loadgen": 0}     # responses
            errors = 0
            for _ in range(args.runs):  # alternate, so that drift in the machine hits both
                t0 = children_cpu_s()
                w = run_wrk(url, duration_s=args.duration, connections=args.connections,
                            core=args.client_core,
                            script=PIPELINE_LUA if depth > 1 else None)
                t1 = children_cpu_s()
                cpu["wrk"] += t1 - t0
                done["wrk"] += w.requests
                wrk_rps.append(w.rps)
                errors += w.errors
                s = run_loadgen(args.loadgen, url, duration_s=args.duration,
                                connections=args.connections, pipeline=depth, loop=args.loop,
                                core=args.client_core)
                cpu["loadgen"] += children_cpu_s() - t1
                done["loadgen"] += int(s["requests"])
                lg_rps.append(float(s["rps"]))
                errors += loadgen_errors(s)
            wm, lm = statistics.median(wrk_rps), statistics.median(lg_rps)
            # Client CPU per response: how far each tool is from being the bottleneck.
            us = {k: 1e6 * cpu[k] / done[k] if done[k] else float("nan") for k in cpu}
            results["cases"][case] = {"wrk_rps": wrk_rps, "loadgen_rps": lg_rps,
                                      "wrk_median": wm, "loadgen_median": lm,
                                      "ratio": lm / wm if wm else None, "errors": errors,
                                      "client_cpu_us_per_request": us}
            print(f"{case:>10}: wrk {' '.join(f'{r:,.0f}' for r in wrk_rps)} (median {wm:,.0f})"
                  f" | loadgen {' '.join(f'{r:,.0f}' for r in lg_rps)} (median {lm:,.0f})"
                  f" | loadgen/wrk {lm / wm if wm else float('nan'):.3f}"
                  f" | client CPU/req wrk {us['wrk']:.2f} us, loadgen {us['loadgen']:.2f} us"
                  f"{'' if errors == 0 else f' | {errors} errors: INVALID'}", flush=True)
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(c["errors"] == 0 for c in results["cases"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
