"""PostgreSQL's own CPU per request of a TFB entry: the part count_instructions.py cannot see
(the server is another process). The entry runs with its connections tagged by
application_name; after a warm-up, the run time of exactly those backends
(/proc/<pid>/schedstat, first field, ns) is read before and after a wrk run and divided by the
requests wrk completed. Also prints the entry's own CPU per request (/proc/<pid>/stat).

    python3 benchmarks/pg/tfb_pg_cpu.py [--app benchmarks/techempower/app_fasterapi.py]
        [--path '/queries?queries=20'] [--seconds 5] [--connections 64]

Timed on a shared machine these figures are provisional; they compare variants run alike
(one Sync per query with fetchrow_each, one per batch with fetchmany)."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TAG = f"fa_tfb_cpu_{os.getpid()}"


def backends(tag: str) -> list[int]:
    out = subprocess.run(
        ["psql", DSN, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE application_name = '{tag}'"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [int(p) for p in out.split()]


def run_ns(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=str(ROOT / "benchmarks/techempower/app_fasterapi.py"))
    ap.add_argument("--path", default="/queries?queries=20")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--port", type=int, default=8097)
    a = ap.parse_args()
    sep = "&" if "?" in DSN else "?"
    env = dict(os.environ, PORT=str(a.port), FASTERAPI_PG_DSN=f"{DSN}{sep}application_name={TAG}")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "benchmarks/techempower"), env.get("PYTHONPATH", "")]
    )
    server = subprocess.Popen([sys.executable, a.app], env=env)
    url = f"http://127.0.0.1:{a.port}{a.path}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        wrk = ["wrk", "-t1", f"-c{a.connections}", url]
        subprocess.run([*wrk, "-d2s"], capture_output=True, check=True)  # warm-up
        pids = backends(TAG)
        pg0, app0 = run_ns(pids), proc_cpu_s(server.pid)
        out = subprocess.run(
            [*wrk, f"-d{a.seconds}s"], capture_output=True, text=True, check=True
        ).stdout
        pg_ns, app_s = run_ns(pids) - pg0, proc_cpu_s(server.pid) - app0
        m = re.search(r"(\d+) requests in", out)
        n = int(m.group(1)) if m else 0
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        print(
            f"{Path(a.app).name} {a.path}: {n} requests ({rps.group(1) if rps else '?'} req/s), "
            f"{len(pids)} backends: PostgreSQL {pg_ns / max(n, 1) / 1e3:.1f} µs CPU/request, "
            f"server {app_s / max(n, 1) * 1e6:.1f} µs CPU/request"
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
