#!/usr/bin/env python3
"""WebSocket broadcast benchmark: one message to 1,000 sockets, many times. FasterAPI's
`fasterapi.websockets.broadcast` (the frame encoded once, queued to each socket in C++)
against FastAPI on uvicorn sending to each member in turn (FastAPI's ConnectionManager).

The server runs pinned to one core, the receiver (benchmarks/ws/ws_subscribe.cpp: C++,
epoll, built here) to another. Per row: the receiver opens --sockets connections to /sub;
then POST /publish?count=K&size=S makes the server send K messages to every socket. Reported:
messages delivered per second (K x sockets / time from the first to the last message
received), the server's CPU µs per delivered message, the publish call's own time, and
errors (messages missing, connections refused or closed).

    python3 benchmarks/ws/bench_ws_broadcast.py
    python3 benchmarks/ws/bench_ws_broadcast.py --sockets 1000 --count 200 --size 64
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "benchmarks" / "e2e"))
sys.path.insert(0, str(HERE))

from bench_ws_echo import BUILD_DIR, build_tool, importable  # noqa: E402
from harness import meta, procs  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "ws_broadcast.json"


def rows(port: int) -> list[tuple[str, str, list[str], str]]:
    py = sys.executable
    return [
        ("fasterapi", "FasterAPI broadcast()",
         [py, "benchmarks/ws/apps/fasterapi_ws_broadcast.py", "--port", str(port)], "fasterapi"),
        ("uvicorn", "FastAPI + uvicorn, send_text per socket",
         [py, "-m", "uvicorn", "benchmarks.ws.apps.fastapi_ws_broadcast:app", "--port",
          str(port), "--ws", "websockets", "--loop", "uvloop", "--log-level", "warning",
          "--no-access-log"], "uvicorn"),
    ]  # fmt: skip


def measure(key: str, label: str, argv: list[str], args: argparse.Namespace, receiver: Path,
            port: int) -> dict[str, Any]:  # fmt: skip
    server = procs.Server(key, argv, port, core=args.server_core, cwd=str(REPO),
                          log_path=BUILD_DIR / f"broadcast-{key}.log")  # fmt: skip
    server.start()
    try:
        server.wait_ready("/sub")
        sub = subprocess.Popen(
            ["taskset", "-c", args.client_core, str(receiver), "127.0.0.1", str(port), "/sub",
             str(args.sockets), str(args.count), str(args.timeout)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert sub.stdout is not None
        first = sub.stdout.readline().strip()
        if first != "ready":
            raise RuntimeError(f"{key}: the receiver did not get ready: {first!r}")
        time.sleep(0.5)  # every endpoint has joined the room
        before = server.cpu_ticks()
        url = f"http://127.0.0.1:{port}/publish?count={args.count}&size={args.size}"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"),
                                    timeout=args.timeout) as resp:  # fmt: skip
            published = json.loads(resp.read())
        out, _ = sub.communicate(timeout=args.timeout + 30)
        cpu_us = procs.ticks_to_us(server.cpu_ticks() - before)
    finally:
        server.stop()
    got = json.loads(out.strip().splitlines()[-1])
    expected = args.count * args.sockets
    missing = expected - got["messages"]
    return {
        "row": key, "label": label, "sockets": int(published["sockets"]),
        "messages": got["messages"], "expected": expected,
        "rate": got["messages"] / got["seconds"] if got["seconds"] else None,
        "cpu_us_per_msg": cpu_us / got["messages"] if got["messages"] else None,
        "publish_seconds": published["seconds"],
        "errors": got["errors"] + max(missing, 0),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated rows: fasterapi,uvicorn")
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--count", type=int, default=100, help="messages broadcast per run")
    p.add_argument("--size", type=int, default=64, help="bytes per message")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--json", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    receiver = build_tool("ws_subscribe")
    port = procs.free_port()
    wanted = set(args.only.split(",")) if args.only else None
    load_before = meta.loadavg()
    results = []
    for key, label, cmd, module in rows(port):
        if wanted is not None and key not in wanted:
            continue
        if not importable(module):
            print(f"skipping {key}: `{module}` does not import", file=sys.stderr)
            continue
        results.append(measure(key, label, cmd, args, receiver, port))
        time.sleep(0.5)
    print("| server | sockets | messages delivered/s | server CPU µs/msg | publish s | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        rate = f"{r['rate']:,.0f}" if r["rate"] and not r["errors"] else "INVALID"
        cpu = f"{r['cpu_us_per_msg']:.2f}" if r["cpu_us_per_msg"] else "-"
        print(f"| {r['label']} | {r['sockets']} | {rate} | {cpu} | "
              f"{r['publish_seconds']:.3f} | {r['errors']} |")  # fmt: skip
    print(f"\nload average before: {load_before}; {args.count} messages of {args.size} B to "
          f"{args.sockets} sockets; server on core {args.server_core}, receiver on core "
          f"{args.client_core}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_before": load_before, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
