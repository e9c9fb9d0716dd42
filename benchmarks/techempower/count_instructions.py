#!/usr/bin/env python3
"""Instructions (valgrind's callgrind) and syscalls (strace -c -f) per request of the TFB
database types, for the Python App's entry or FastAPI's: figures a busy machine does not
disturb, where run.py's req/s are. The server runs under the tool; after a warm-up the
counters are zeroed (callgrind_control -z), --clients keep-alive clients (threads, so several
requests are in flight and batches form as under load) send exactly --requests requests of one
type in all, and the instructions counted meanwhile (callgrind_control --dump) are divided by
that count. --tool strace counts the whole run's syscalls instead (warm-up included, printed
per request of the run).

    python3 benchmarks/techempower/count_instructions.py [--server fasterapi|fastapi]
        [--types db,queries,updates,fortunes] [--requests 400] [--clients 8] [--tool strace]

PostgreSQL's own instructions are not counted (it is another process)."""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "e2e"))

from harness import callgrind  # noqa: E402
from harness.procs import free_port  # noqa: E402

PY = callgrind.python_binary()
SERVERS = {
    "fasterapi": ([PY, str(HERE / "app_fasterapi.py")], HERE),
    "fastapi": ([PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--loop",
                 "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log",
                 "fastapi_app:app"], HERE / "peers"),
}  # fmt: skip
PATHS = {
    "db": "/db",
    "queries": "/queries?queries=20",
    "updates": "/updates?queries=20",
    "fortunes": "/fortunes",
    "json": "/json",
}


def send(port: int, path: str, n: int, clients: int) -> None:
    errors: list[BaseException] = []

    def one(count: int) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            for _ in range(count):
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"GET {path}: status {resp.status}")
            conn.close()
        except BaseException as e:  # reported by the caller
            errors.append(e)

    threads = [
        threading.Thread(target=one, args=(n // clients + (i < n % clients),))
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300  # imports under callgrind take a minute
    while True:
        try:
            send(port, "/json", 1, 1)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", choices=sorted(SERVERS), default="fasterapi")
    ap.add_argument("--types", default="db,queries,updates,fortunes")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--tool", choices=["callgrind", "strace"], default="callgrind")
    ap.add_argument("--keep", help="copy the callgrind dumps into this folder")
    args = ap.parse_args()
    types = args.types.split(",")
    port = free_port()
    argv0, cwd = SERVERS[args.server]
    server_argv = [a.replace("{port}", str(port)) for a in argv0]
    env = dict(os.environ, PORT=str(port))
    with tempfile.TemporaryDirectory(prefix="tfb-count-") as tmp:
        out = Path(tmp) / "out"
        if args.tool == "callgrind":
            argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *server_argv]
        else:
            argv = ["strace", "-c", "-f", "-o", str(out), *server_argv]
        log_path = Path(tmp) / "server.log"
        log = open(log_path, "wb")  # closed in finally
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=log)
        try:
            wait_ready(port, proc, log_path)
            if args.tool == "strace":
                # one type per server run: strace -c only reports at exit
                send(port, PATHS[types[0]], args.warmup + args.requests, args.clients)
            else:
                for kind in types:
                    send(port, PATHS[kind], args.warmup, args.clients)
                    callgrind.zero(proc.pid)
                    send(port, PATHS[kind], args.requests, args.clients)
                    callgrind.dump(proc.pid)
                    per = callgrind.newest_instructions(out) / args.requests
                    print(f"{args.server} {kind}: {per:,.0f} instructions/request", flush=True)
        finally:
            if args.tool == "strace":  # strace -c reports when the traced server exits
                subprocess.run(["pkill", "-TERM", "-P", str(proc.pid)], check=False)
            proc.terminate()
            proc.wait(timeout=120)
            log.close()
            if args.tool == "strace":
                n = args.warmup + args.requests + 1
                text = out.read_text()
                print(f"{args.server} {types[0]}: strace -c -f over {n} requests")
                for line in text.splitlines():
                    cols = line.split()
                    if len(cols) >= 5 and cols[3].isdigit():
                        print(f"  {cols[-1]:<16} {int(cols[3]) / n:8.2f} calls/request")
            if args.keep:
                callgrind.keep_dumps(tmp, args.keep, "out*")


if __name__ == "__main__":
    main()
