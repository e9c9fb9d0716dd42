"""Instructions the MCP proxy executes per forwarded call, counted by callgrind: a figure a busy
machine does not disturb (CPU-time figures need a quiet one).

    python3 benchmarks/mcp/proxy_instructions.py --calls 400

Runs examples/mcp/proxy_server.py over stdio under `valgrind --tool=callgrind`, counting only
inside the C++ event loop (`fa::EventLoop::run_once`: parsing, routing, the upstream request
and its answer, the reply; no interpreter start-up), in front of tests/python/mcp/
proxy_upstream.py (our MCPServer, 2026-07-28 era), and sends sequential `tools/call up__add`
requests (after 50 warm-up calls). Prints instructions per call and the top functions by
inclusive count. Needs valgrind (apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="measured calls (after warm-up)")
    parser.add_argument("--top", type=int, default=25, help="functions listed")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    upstream = f"{sys.executable} {ROOT / 'tests/python/mcp/proxy_upstream.py'}"
    proc = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--toggle-collect=fa::EventLoop::run_once*",
            sys.executable,
            str(ROOT / "examples/mcp/proxy_server.py"),
            f"up={upstream}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}}
    rpc(proc.stdin, proc.stdout, 0, "initialize", init)
    proc.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    call = {"name": "up__add", "arguments": {"a": 1, "b": 2}}
    total = WARMUP + args.calls
    for rid in range(1, total + 1):
        answer = rpc(proc.stdin, proc.stdout, rid, "tools/call", call)
        if answer.get("result", {}).get("structuredContent") != {"result": 3}:
            raise RuntimeError(f"unexpected answer: {answer}")
    proc.stdin.close()
    proc.wait(120)
    report = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(out)],
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
