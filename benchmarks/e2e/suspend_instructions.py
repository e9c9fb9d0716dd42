#!/usr/bin/env python3
"""Instructions (valgrind's callgrind) per request of the Python App's dispatch of a plain sync
handler, an async handler that never waits, and one that waits once (`await asyncio.sleep(0)`):
what a suspension costs the framework (the asyncio Task, the resume step, the finish callbacks,
one more event-loop pass). The TFB db test pays it once per request, updates twice.

A throwaway app is served by the App under callgrind; for each route, after a warm-up, one
keep-alive client sends --small then --large requests, each batch between callgrind_control -z
and --dump, and the figure is the difference divided by the difference of the counts (the fixed
cost of a batch cancels out).

    python3 benchmarks/e2e/suspend_instructions.py [--small 200] [--large 600] [--python PY]
        [--keep DIR]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from harness import callgrind  # noqa: E402
from harness.procs import free_port  # noqa: E402

APP = textwrap.dedent(
    """
    import asyncio, os
    from fasterapi import App

    app = App()

    @app.get("/sync")
    def sync_route(req, res):
        return b"x"

    @app.get("/async")
    async def async_route(req, res):
        return b"x"

    @app.get("/suspend")
    async def suspend_route(req, res):
        await asyncio.sleep(0)
        return b"x"

    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
    """
)
ROUTES = ("/sync", "/async", "/suspend")


def send(conn: http.client.HTTPConnection, path: str, n: int) -> None:
    for _ in range(n):
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or body != b"x":
            raise RuntimeError(f"GET {path}: {resp.status} {body[:200]!r}")


def connect(port: int, proc: subprocess.Popen[bytes], log: Path) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 300  # imports under callgrind take a while
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            send(conn, "/sync", 1)
            return conn
        except OSError:
            conn.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.5)


def counted(pid: int, out: Path, conn: http.client.HTTPConnection, path: str, n: int) -> int:
    callgrind.zero(pid)
    send(conn, path, n)
    callgrind.dump(pid)
    return callgrind.newest_instructions(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--large", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--python", default=callgrind.python_binary())
    ap.add_argument("--keep", help="copy the callgrind dumps into this folder")
    args = ap.parse_args()
    port = free_port()
    env = dict(os.environ, PORT=str(port))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="suspend-count-") as tmp:
        app = Path(tmp) / "app.py"
        app.write_text(APP)
        out = Path(tmp) / "out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", args.python, app]
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
            try:
                conn = connect(port, proc, log_path)
                results = {}
                for path in ROUTES:
                    send(conn, path, args.warmup)
                    small = counted(proc.pid, out, conn, path, args.small)
                    large = counted(proc.pid, out, conn, path, args.large)
                    results[path] = (large - small) / (args.large - args.small)
                    print(f"{path:<9} {results[path]:>9,.0f} instructions/request", flush=True)
                conn.close()
                extra = results["/suspend"] - results["/async"]
                print(f"suspension {extra:>9,.0f} instructions (/suspend - /async)")
            finally:
                proc.terminate()
                proc.wait(timeout=120)
        if args.keep:  # parts 2k+1 / 2k+2: --small / --large of route k (ROUTES order)
            callgrind.keep_dumps(tmp, args.keep, "out*")


if __name__ == "__main__":
    main()
