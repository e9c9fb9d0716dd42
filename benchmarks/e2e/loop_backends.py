"""epoll against io_uring: server CPU per request of the C++ engine on each loop backend.

The issue's io_uring target is "≥ 20% less server CPU per request than epoll on pipelined
plaintext and never more on the others". This runs the C++ TFB entry (tfb_server, built with
the benchmarks) once per backend per run, alternating the backends so a machine whose speed
drifts hurts both alike: the server pinned to one core, the load (wrk, or our loadgen) to
another, and the server's CPU (utime+stime of all its threads, /proc) divided by the
responses the client counted. Cases:

  plaintext-p16  GET /plaintext, 16 requests pipelined per connection (TFB's plaintext test;
                 wrk with benchmarks/e2e/pipeline16.lua, loadgen -p 16)
  plaintext      GET /plaintext, one request in flight per connection
  json           GET /json, one request in flight per connection

Every response is counted by the client; a run with non-2xx responses or socket errors is
reported INVALID and left out of the medians. Figures are only comparable within one
invocation (the machine's state moves more than the backends differ).

Run:
  cmake --build build/dev --target tfb_server loadgen
  python3 benchmarks/e2e/loop_backends.py [--runs 5] [--duration 5] [--connections 64]
      [--cases plaintext-p16,plaintext,json] [--client wrk|loadgen] [--json OUT]

A server below 100% of its core is either asleep (waiting for I/O: the client or the
backend's own delays) or runnable while another process has the core; the second share is
printed ("waiting for it", from /proc/PID/task/*/schedstat), so a busy machine is not taken for
a backend that waits.

For the user-space share, deterministic on a busy machine, count instructions per request
with callgrind: `benchmarks/e2e/loop_backends_callgrind.sh` (see its header).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from harness import procs  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PIPELINE_LUA = HERE / "pipeline16.lua"
CASES = {"plaintext-p16": ("/plaintext", 16), "plaintext": ("/plaintext", 1), "json": ("/json", 1)}
BACKENDS = ("epoll", "uring")
LOADGEN_SLACK_S = 30


@dataclass
class Run:
    case: str
    backend: str
    requests: int
    rps: float
    cpu_us_per_req: float
    cpu_share: float  # of one core, over the measured window
    errors: int
    user_us_per_req: float = 0.0  # of cpu_us_per_req, in user space (the rest: the kernel)
    sys_us_per_req: float = 0.0
    # Of the measured window, the share the server was runnable but not running (another
    # process had its core): cpu_share + runq_share < 1 by what it slept, waiting for I/O.
    runq_share: float = 0.0


def user_sys_ticks(pid: int) -> tuple[int, int]:
    """utime and stime (ticks, all threads) of one process, from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[11]), int(rest[12])


def runq_ns(pid: int) -> int:
    """Nanoseconds the process's threads spent runnable, waiting for a CPU (the second field
    of /proc/PID/task/TID/schedstat): tells a server that waits for its core (a busy machine)
    from one that waits for I/O (asleep in epoll_wait or io_uring_enter)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            pass  # a thread that exited meanwhile; a kernel without schedstat counts 0
    return total


def load(args: argparse.Namespace, port: int, path: str,
         depth: int) -> tuple[int, float, float, int]:
    """Drives the server; returns (responses, seconds, rps, errors)."""
    url = f"http://127.0.0.1:{port}{path}"
    if args.client == "wrk":
        r = run_wrk(url, duration_s=args.duration, connections=args.connections,
                    core=args.client_core, script=PIPELINE_LUA if depth > 1 else None)
        return r.requests, r.seconds, r.rps, r.errors
    argv = ["taskset", "-c", args.client_core, str(args.loadgen), "-c", str(args.connections),
            "-d", f"{args.duration}s", "-p", str(depth), "--json", url]
    out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=args.duration + LOADGEN_SLACK_S, check=False)
    lines = out.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"loadgen exited with {out.returncode}: {out.stderr.strip()[-300:]}")
    s: dict[str, Any] = json.loads(lines[-1])
    errors = int(s["non2xx"]) + sum(int(v) for v in s["errors"].values()) + int(s["lost"])
    return int(s["requests"]), float(s["seconds"]), float(s["rps"]), errors


def measure(args: argparse.Namespace, case: str, backend: str) -> Run:
    path, depth = CASES[case]
    port = procs.free_port()
    server = procs.Server(f"tfb_server ({backend})",
                          [str(args.server), "--host", "127.0.0.1", "--port", str(port),
                           "--loop", backend], port, core=args.server_core)
    server.start()
    try:
        server.wait_ready(path)
        if args.warmup:  # connections, caches, the ring's buffers
            load(args, port, path, depth)
        before = server.cpu_ticks()
        user0, sys0 = user_sys_ticks(server.pid)
        runq0 = runq_ns(server.pid)
        requests, seconds, rps, errors = load(args, port, path, depth)
        cpu_us = procs.ticks_to_us(server.cpu_ticks() - before)
        user1, sys1 = user_sys_ticks(server.pid)
        runq1 = runq_ns(server.pid)
    finally:
        server.stop()
    n = max(requests, 1)
    secs = max(seconds, 1e-9)
    return Run(case, backend, requests, rps, cpu_us / n, cpu_us / 1e6 / secs,
               errors, procs.ticks_to_us(user1 - user0) / n, procs.ticks_to_us(sys1 - sys0) / n,
               (runq1 - runq0) / 1e9 / secs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", type=Path,
                   default=REPO / "build/dev/benchmarks/techempower/cpp/tfb_server")
    p.add_argument("--loadgen", type=Path, default=REPO / "build/dev/benchmarks/loadgen/loadgen")
    p.add_argument("--client", choices=("wrk", "loadgen"), default="wrk")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="skip the unmeasured load run before each measured one")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--json", type=Path, help="write the runs and medians here")
    args = p.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    if unknown := [c for c in cases if c not in CASES]:
        p.error(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    for binary in (args.server, args.loadgen if args.client == "loadgen" else args.server):
        if not binary.exists():
            p.error(f"{binary} is missing: cmake --build build/dev --target tfb_server loadgen")

    runs: list[Run] = []
    for case in cases:
        for i in range(args.runs):
            # Alternate which backend goes first, so neither always follows the other.
            for backend in BACKENDS if i % 2 == 0 else BACKENDS[::-1]:
                r = measure(args, case, backend)
                runs.append(r)
                flag = "  INVALID (errors)" if r.errors else ""
                print(f"{case:14} {backend:6} {r.rps:>12,.0f} req/s  "
                      f"{r.cpu_us_per_req:6.3f} µs CPU/req (user {r.user_us_per_req:5.3f}, "
                      f"kernel {r.sys_us_per_req:5.3f})  "
                      f"(server at {r.cpu_share:4.0%} of a core, {r.runq_share:4.0%} waiting "
                      f"for it){flag}", flush=True)

    print(f"\nmedians ({args.client}, {args.connections} connections, {args.duration:g} s, "
          f"{args.runs} runs each; server on core {args.server_core}, load on {args.client_core})")
    print(f"{'case':14} {'epoll req/s':>12} {'uring req/s':>12} {'epoll µs/req':>13} "
          f"{'uring µs/req':>13} {'uring/epoll CPU':>16}")
    medians: dict[str, dict[str, float]] = {}
    for case in cases:
        m: dict[str, float] = {}
        for backend in BACKENDS:
            ok = [r for r in runs if r.case == case and r.backend == backend and not r.errors]
            if ok:
                m[f"{backend}_rps"] = statistics.median(r.rps for r in ok)
                m[f"{backend}_us"] = statistics.median(r.cpu_us_per_req for r in ok)
        medians[case] = m
        if len(m) == 4:
            print(f"{case:14} {m['epoll_rps']:>12,.0f} {m['uring_rps']:>12,.0f} "
                  f"{m['epoll_us']:>13.3f} {m['uring_us']:>13.3f} "
                  f"{m['uring_us'] / m['epoll_us']:>15.2f}x")
        else:
            print(f"{case:14} (no valid run for a backend)")
    if args.json:
        args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "medians": medians,
                                         "args": {k: str(v) for k, v in vars(args).items()}},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
