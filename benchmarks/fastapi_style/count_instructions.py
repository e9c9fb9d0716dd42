#!/usr/bin/env python3
"""Instructions per request of the FastAPI-style routes on FasterAPI, counted by valgrind's
callgrind: a figure a busy machine does not disturb (bench.py's CPU µs are). The server runs
items_app.py under callgrind; after a warm-up the counters are zeroed (callgrind_control -z),
one keep-alive client sends exactly --requests requests of each route, one route at a time,
and the instructions counted meanwhile (callgrind_control --dump) are divided by that count.

    python3 benchmarks/fastapi_style/count_instructions.py [--requests 500]
        [--framework fasterapi|fastapi|asgi]

--framework fastapi counts FastAPI on uvicorn (httptools, uvloop) the same way, --framework
asgi the same FastAPI app on FasterAPI's ASGI mode (`fasterapi run`). Under callgrind
a request costs ~50x its native time. Instructions are not time (cache misses are not
counted), but they show whose code runs more, and where (callgrind_annotate on --keep)."""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "benchmarks" / "e2e"))

from bench import ROUTES, Route, post_body  # noqa: E402
from harness import callgrind  # noqa: E402
from harness.procs import free_port  # noqa: E402

PY = callgrind.python_binary()
SERVERS = {
    "fasterapi": ["-m", "fasterapi", "run", "items_app:app", "--port", "{port}", "--log-level",
                  "warning", "--no-access-log"],
    "fastapi": ["-m", "uvicorn", "items_app:app", "--port", "{port}", "--http", "httptools",
                "--loop", "uvloop", "--log-level", "warning", "--no-access-log"],
    # the FastAPI app (FASTAPI_STYLE_FRAMEWORK=fastapi) on FasterAPI's ASGI mode
    "asgi": ["-m", "fasterapi", "run", "items_app:app", "--port", "{port}", "--log-level",
             "warning", "--no-access-log"],
}  # fmt: skip
FRAMEWORK = {"fasterapi": "fasterapi", "fastapi": "fastapi", "asgi": "fastapi"}


def send(conn: http.client.HTTPConnection, route: Route, n: int) -> None:
    body = post_body() if route.method == "POST" else None
    headers = {"Content-Type": "application/json"} if body else {}
    for _ in range(n):
        conn.request(route.method, route.path, body, headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{route.method} {route.path}: status {resp.status}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--framework", choices=sorted(SERVERS), default="fasterapi")
    ap.add_argument("--keep", help="copy the callgrind dumps into this folder")
    ap.add_argument("--start-timeout", type=float, default=900,
                    help="seconds for the server's first answer (imports and a first request "
                         "under callgrind take minutes on a loaded machine)")  # fmt: skip
    args = ap.parse_args()
    port = free_port()
    env = dict(os.environ, FASTAPI_STYLE_FRAMEWORK=FRAMEWORK[args.framework])
    with tempfile.TemporaryDirectory(prefix="fastapi-style-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", PY,
                *(a.format(port=port) for a in SERVERS[args.framework])]  # fmt: skip
        log = open(Path(tmp) / "server.log", "wb")  # closed in finally
        proc = subprocess.Popen(argv, cwd=HERE, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + args.start_timeout
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    send(conn, ROUTES[-1], 1)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        why = (
                            f"exit status {proc.returncode}"
                            if proc.returncode is not None
                            else f"no answer in {args.start_timeout:g} s"
                        )
                        log_text = (Path(tmp) / "server.log").read_text()
                        raise RuntimeError(f"server: {why}\n{log_text}") from None
                    time.sleep(0.5)
            for route in ROUTES:
                send(conn, route, args.warmup)
                callgrind.zero(proc.pid)
                send(conn, route, args.requests)
                callgrind.dump(proc.pid)
                per_request = callgrind.newest_instructions(out) / args.requests
                print(f"{args.framework} {route.name}: {per_request:,.0f} instructions/request")
            conn.close()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()
            if args.keep:
                callgrind.keep_dumps(tmp, args.keep, "callgrind.out*")


if __name__ == "__main__":
    main()
