#!/usr/bin/env python3
"""Instructions per request of each server, counted by valgrind's callgrind: a figure that a
busy machine does not disturb (CPU µs from bench_asgi.py do), for comparing where the work
is when timings are noisy. Each server runs under callgrind; after a warm-up the counters are
zeroed (callgrind_control -z), wrk drives the route for --seconds, the counters are dumped,
and the dump's instruction total is divided by wrk's request count.

    python3 benchmarks/asgi/count_instructions.py [--servers fasterapi,uvicorn]
        [--apps bench_app:app,bench_app:raw] [--seconds 10] [--connections 16]

Under callgrind a request costs ~50x its native time, so the counts cover a few hundred to a
few thousand requests. Instructions are not time (cache misses and IPC are not counted): a
server whose count is lower can still be slower; the count shows whose code runs more.
--cache-sim adds callgrind's simulated cache misses (D1/LL data, I1/LL instruction) and
branch mispredictions (Bcm conditional, Bim indirect) per request: where equal instruction
counts still cost unequal time."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks" / "e2e"))

from harness import callgrind  # noqa: E402
from harness.procs import Server, free_port  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PATH = "/items/1?q=x"
PY = callgrind.python_binary()
SERVERS = {
    "fasterapi": ["-m", "fasterapi", "run", "{app}", "--port", "{port}", "--log-level",
                  "warning", "--no-access-log"],
    "uvicorn": ["-m", "uvicorn", "{app}", "--port", "{port}", "--http", "httptools", "--loop",
                "uvloop", "--log-level", "warning", "--no-access-log"],
}  # fmt: skip


def count(server: str, app: str, args: argparse.Namespace) -> tuple[int, dict[str, int]]:
    """(requests, {event: total}) over the counted run: Ir (instructions), and with
    --cache-sim the simulated cache misses (D1mr, DLmr, ...) and branch mispredictions."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"callgrind-{server}-") as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            *(["--cache-sim=yes", "--branch-sim=yes"] if args.cache_sim else []),
            *([f"--LL={args.ll}"] if args.cache_sim and args.ll else []),
            PY,
            *(a.format(app=app, port=port) for a in SERVERS[server]),
        ]
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
            proc.wait_ready(PATH, timeout=300)  # imports under callgrind take a minute
            url = f"http://127.0.0.1:{port}{PATH}"
            run_wrk(url, duration_s=3, connections=args.connections, core=args.wrk_cpu)
            callgrind.zero(proc.pid)
            res = run_wrk(
                url, duration_s=args.seconds, connections=args.connections, core=args.wrk_cpu
            )
            callgrind.dump(proc.pid)
            totals = callgrind.newest_totals(Path(tmp) / "callgrind.out.")
            return res.requests, totals
        finally:
            proc.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--servers", default="fasterapi,uvicorn")
    p.add_argument("--apps", default="bench_app:app,bench_app:raw")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--server-cpu", default="1")
    p.add_argument("--wrk-cpu", default="0")
    p.add_argument(
        "--cache-sim",
        action="store_true",
        help="also simulate caches and branches: misses per request (slower still)",
    )
    p.add_argument(
        "--ll",
        default="",
        help="with --cache-sim: the simulated last-level cache as size,assoc,line "
        "(524288,8,64 makes it a Zen 2/3 core's private L2; default: the host's L3)",
    )
    args = p.parse_args()
    for tool in ("valgrind", "callgrind_control", "wrk"):
        if shutil.which(tool) is None:
            p.error(f"{tool} not found")
    shown = ["Ir", "D1mr", "D1mw", "DLmr", "DLmw", "I1mr", "ILmr", "Bcm", "Bim"]
    if not args.cache_sim:
        shown = shown[:1]
    print(
        "| app | server | requests counted | "
        + " | ".join(f"{e} per request" for e in shown)
        + " |"
    )
    print("|---|---|---:|" + "---:|" * len(shown))
    for app in args.apps.split(","):
        for server in args.servers.split(","):
            n, totals = count(server, app, args)
            cells = " | ".join(f"{totals.get(e, 0) // max(1, n):,}" for e in shown)
            print(f"| {app} | {server} | {n} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
