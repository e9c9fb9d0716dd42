"""The seed's 1 Million Request Challenge driven by loadgen (`--1mrc`).

Starts a fresh FasterAPI 1MRC server (benchmarks/e2e/apps/fasterapi_app.py: POST /event,
GET /stats; with --server cpp the C++ entry, examples/cpp/onemrc_server.cpp) on core 0 and
runs `loadgen --1mrc` on core 1: exactly --requests POST /event over --connections
connections, then GET /stats, whose totals must match (EXACT). With --also-onemrc-client
the same is run once more, on another fresh server, with the e2e harness's own client
(benchmarks/e2e/onemrc/onemrc_client.cpp), to compare the two clients.

Run:
  python3 benchmarks/loadgen/onemrc.py [--requests 1000000] [--connections 1000]
      [--pipeline 1] [--loop epoll|uring] [--server python|cpp] [--also-onemrc-client]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "e2e"))

from harness import onemrc, procs, servers  # noqa: E402

CLIENT_TIMEOUT_S = 1200


def children_cpu_s() -> float:
    """CPU seconds of this script's finished children: taken around a client's run only."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def start_server(args: argparse.Namespace, tmp: Path) -> procs.Server:
    port = procs.free_port()
    if args.server == "cpp":
        server = procs.Server("onemrc_server",
                              [str(args.onemrc_server), "--host", "127.0.0.1", "--port", str(port)],
                              port, core=args.server_core, log_path=tmp / "server.log")
    else:
        server = procs.Server("fasterapi-1mrc",
                              [sys.executable, str(REPO / "benchmarks/e2e/apps/fasterapi_app.py"),
                               "--port", str(port)],
                              port, core=args.server_core, env=servers._fasterapi_env(),
                              log_path=tmp / "server.log")
    server.start()
    server.wait_ready("/stats")
    return server


def run_loadgen(args: argparse.Namespace, port: int) -> dict[str, Any]:
    argv = ["taskset", "-c", args.client_core, str(args.loadgen), "--1mrc",
            "-n", str(args.requests), "-c", str(args.connections), "-p", str(args.pipeline),
            "--loop", args.loop, "--json", f"http://127.0.0.1:{port}/event"]
    out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=CLIENT_TIMEOUT_S, check=False)
    print(out.stdout.rstrip(), flush=True)
    lines = out.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"loadgen exited with {out.returncode}: {out.stderr.strip()[-300:]}")
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--loadgen", type=Path, default=REPO / "build/dev/benchmarks/loadgen/loadgen")
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--pipeline", type=int, default=1,
                   help="requests in flight per connection (the challenge: 1)")
    p.add_argument("--loop", default="epoll", help="loadgen's loop backend")
    p.add_argument("--server", choices=["python", "cpp"], default="python",
                   help="the Python App entry or the C++ one (examples/cpp/onemrc_server)")
    p.add_argument("--onemrc-server", type=Path,
                   default=REPO / "build/dev/examples/cpp/onemrc_server")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--also-onemrc-client", action="store_true",
                   help="also run benchmarks/e2e's onemrc_client on a fresh server")
    p.add_argument("--build-dir", type=Path, default=REPO / "build-bench",
                   help="where onemrc_client is compiled")
    args = p.parse_args()
    if not args.loadgen.exists():
        p.error(f"{args.loadgen} is missing: cmake --build build/dev --target loadgen")
    if args.server == "cpp" and not args.onemrc_server.exists():
        p.error(f"{args.onemrc_server} is missing: cmake --build build/dev --target onemrc_server")
    tmp = Path("/tmp") / "fa-loadgen-1mrc"
    tmp.mkdir(exist_ok=True)
    ok = True
    server = start_server(args, tmp)
    try:
        t0 = children_cpu_s()
        s = run_loadgen(args, server.port)
        cpu_us = 1e6 * (children_cpu_s() - t0) / args.requests
        ok = ok and bool(s["onemrc"]["exact"])
        print(f"loadgen 1MRC: {s['rps']:,.0f} req/s, "
              f"{'EXACT' if s['onemrc']['exact'] else 'MISMATCH'}, "
              f"client CPU {cpu_us:.2f} us/request", flush=True)
    finally:
        server.stop()
    if args.also_onemrc_client:
        client = onemrc.build_client(args.build_dir)
        server = start_server(args, tmp)
        try:
            t0 = children_cpu_s()
            r = onemrc.run_client(client, server.port, requests=args.requests,
                                  connections=args.connections, core=args.client_core)
            cpu_us = 1e6 * (children_cpu_s() - t0) / args.requests
            ok = ok and r.exact
            print(f"onemrc_client 1MRC: {r.rps:,.0f} req/s, "
                  f"{'EXACT' if r.exact else 'MISMATCH'}, client CPU {cpu_us:.2f} us/request",
                  flush=True)
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
