"""Instructions the MCP proxy executes per forwarded call, counted by callgrind: a figure a busy
machine does not disturb (CPU-time figures need a quiet one).

    python3 benchmarks/mcp/proxy_instructions.py --calls 400
    python3 benchmarks/mcp/proxy_instructions.py --calls 400 --http   # Streamable HTTP front
    python3 benchmarks/mcp/proxy_instructions.py --calls 400 --upstream-http  # HTTP upstream

Runs examples/mcp/proxy_server.py over stdio under `valgrind --tool=callgrind`, counting only
inside the C++ event loop (`fa::EventLoop::run_once`: parsing, routing, the upstream request
and its answer, the reply; no interpreter start-up), in front of tests/python/mcp/
proxy_upstream.py (our MCPServer, 2026-07-28 era), and sends sequential `tools/call up__add`
requests (after 50 warm-up calls). With --http the proxy serves Streamable HTTP instead and the
calls are POSTs on one keep-alive connection (a 2025-11-25 session). With --upstream-http the
upstream is the same server on Streamable HTTP (started first, outside valgrind), so the proxy's
HTTP client (src/mcp/client/http_upstream.cpp) is what is counted. Prints instructions per call
and the top functions by inclusive count (--exclusive: by self count); --keep DIR keeps the
callgrind dump for callgrind_annotate. Needs valgrind (apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
WARMUP = 50


def rpc(
    stdin: IO[str], stdout: IO[str], rid: int, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
    stdin.write("\n")
    stdin.flush()
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError("the proxy closed its stdout")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("id") == rid:
            return answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def drive_stdio(proc: subprocess.Popen[str], total: int, warm: Callable[[], None]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}}
    rpc(proc.stdin, proc.stdout, 0, "initialize", init)
    proc.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    call = {"name": "up__add", "arguments": {"a": 1, "b": 2}}
    for rid in range(1, total + 1):
        if rid == WARMUP + 1:
            warm()
        answer = rpc(proc.stdin, proc.stdout, rid, "tools/call", call)
        if answer.get("result", {}).get("structuredContent") != {"result": 3}:
            raise RuntimeError(f"unexpected answer: {answer}")


def connect(port: int, deadline_s: float) -> http.client.HTTPConnection:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.connect()
            return conn
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def drive_http(port: int, total: int, warm: Callable[[], None]) -> None:
    # The proxy starts slowly under valgrind, slower when the machine is busy.
    conn = connect(port, 600)
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

    def post(rid: int | None, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if rid is not None:
            body["id"] = rid
        conn.request("POST", "/mcp", json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        if session := response.getheader("Mcp-Session-Id"):
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = "2025-11-25"
        if rid is None:
            return {}
        text = data.decode()
        if text.startswith(("event:", "data:", "id:")):  # an SSE stream: its data line
            text = next(ln[5:] for ln in text.splitlines() if ln.startswith("data:"))
        answer: dict[str, Any] = json.loads(text)
        return answer

    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}}
    post(0, "initialize", init)
    post(None, "notifications/initialized", {})
    call = {"name": "up__add", "arguments": {"a": 1, "b": 2}}
    for rid in range(1, total + 1):
        if rid == WARMUP + 1:
            warm()
        answer = post(rid, "tools/call", call)
        if answer.get("result", {}).get("structuredContent") != {"result": 3}:
            raise RuntimeError(f"unexpected answer: {answer}")


def print_syscalls(summary: str, calls: int) -> None:
    """strace -c's table as system calls per forwarded call."""
    rows: list[tuple[str, int]] = []
    for line in summary.splitlines():
        cols = line.split()
        # % time, seconds, usecs/call, calls, [errors,] syscall
        if len(cols) >= 5 and cols[3].isdigit() and cols[-1] != "total":
            rows.append((cols[-1], int(cols[3])))
    total = sum(n for _, n in rows)
    print(f"{total / calls:.2f} system calls per forwarded call ({calls} calls)")
    for name, n in sorted(rows, key=lambda r: -r[1]):
        print(f"  {n / calls:6.2f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="measured calls (after warm-up)")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    parser.add_argument("--http", action="store_true", help="the proxy serves Streamable HTTP")
    parser.add_argument(
        "--upstream-http", action="store_true", help="the upstream serves Streamable HTTP"
    )
    parser.add_argument("--exclusive", action="store_true", help="list functions by self count")
    parser.add_argument("--keep", metavar="DIR", help="copy the callgrind dump into DIR")
    parser.add_argument(
        "--strace",
        action="store_true",
        help="no valgrind: count the proxy's system calls over the measured calls (strace -c)",
    )
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    upstream_script = ROOT / "tests/python/mcp/proxy_upstream.py"
    upstream = f"{sys.executable} {upstream_script}"
    upstream_proc: subprocess.Popen[bytes] | None = None
    if args.upstream_http:
        upstream_port = free_port()
        upstream_proc = subprocess.Popen(
            [sys.executable, str(upstream_script), "http", str(upstream_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            connect(upstream_port, 60).close()
        except OSError:
            upstream_proc.kill()
            raise
        upstream = f"http://127.0.0.1:{upstream_port}/mcp"
    port = free_port()
    valgrind = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        "--toggle-collect=fa::EventLoop::run_once*",
    ]
    proc = subprocess.Popen(
        [
            *([] if args.strace else valgrind),
            sys.executable,
            str(ROOT / "examples/mcp/proxy_server.py"),
            *(["--http", str(port)] if args.http else []),
            f"up={upstream}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )
    total = WARMUP + args.calls
    tracer: subprocess.Popen[bytes] | None = None
    trace = out.with_name("strace.txt")

    def warm() -> None:
        nonlocal tracer
        if not args.strace:
            return
        # Attached after the warm-up, so the upstream child (spawned already) is not followed;
        # -f follows the proxy's threads.
        tracer = subprocess.Popen(
            ["strace", "-c", "-f", "-q", "-o", str(trace), "-p", str(proc.pid)],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # strace attaches to every thread

    try:
        if args.http:
            drive_http(port, total, warm)
        else:
            drive_stdio(proc, total, warm)
        if tracer is not None:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(60)
        if args.http:
            proc.terminate()
        else:
            assert proc.stdin is not None
            proc.stdin.close()
        proc.wait(120)
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.kill()
            tracer.wait()
        if proc.poll() is None:  # a failed run must not leave the proxy (and its upstream) behind
            proc.kill()
            proc.wait()
        if upstream_proc is not None:
            upstream_proc.terminate()
            upstream_proc.wait(30)
    if args.strace:
        print_syscalls(trace.read_text(), args.calls)
        return
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(args.keep) / "callgrind.out")
    report = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'no' if args.exclusive else 'yes'}", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", report)
    if not match:
        raise RuntimeError("no total in callgrind's report")
    instructions = int(match.group(1).replace(",", ""))
    # Every call (warm-up included) ran inside the counted loop; initialize is negligible.
    print(f"{instructions / total:,.0f} instructions per forwarded call ({total} calls)")
    rows = [ln for ln in report.splitlines() if re.match(r"\s*[\d,]+ \(\s*[\d.]+%\)\s+\S", ln)]
    for line in rows[: args.top]:
        print(line[:160])


if __name__ == "__main__":
    main()
