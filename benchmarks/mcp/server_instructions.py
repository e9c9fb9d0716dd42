"""Instructions an MCPServer executes per sequential stdio `tools/call`, the whole process
counted by callgrind (the uvloop or asyncio loop, the C++ transport and core, the Python tool
runner): a figure a busy machine does not disturb.

    python3 benchmarks/mcp/server_instructions.py              # 1000 and 3000 calls
    python3 benchmarks/mcp/server_instructions.py --calls 500 1500

Runs examples/mcp/bench_fasterapi.py (the benchmark's `add(a, b)` tool) under `valgrind
--tool=callgrind` twice, with N1 and N2 calls after the same warm-up, and prints the difference
of the two totals per call: start-up and shut-down cancel out. Needs valgrind.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from proxy_instructions import rpc

ROOT = Path(__file__).resolve().parents[2]
WARMUP = 200


def total_instructions(calls: int) -> int:
    out = Path(tempfile.mkdtemp()) / "callgrind.out"
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         str(ROOT / "examples/mcp/bench_fasterapi.py"), "--transport", "stdio"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        bufsize=1,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}}
    rpc(proc.stdin, proc.stdout, 0, "initialize", init)
    proc.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    for rid in range(1, WARMUP + calls + 1):
        answer = rpc(proc.stdin, proc.stdout, rid, "tools/call",
                     {"name": "add", "arguments": {"a": rid, "b": 1}})  # fmt: skip
        if answer.get("result", {}).get("structuredContent") != {"result": rid + 1}:
            raise RuntimeError(f"unexpected answer: {answer}")
    proc.stdin.close()
    proc.wait(timeout=300)
    for line in out.read_text().splitlines():
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs=2, default=[1000, 3000], metavar=("N1", "N2"))
    args = parser.parse_args()
    n1, n2 = args.calls
    t1, t2 = total_instructions(n1), total_instructions(n2)
    print(f"{(t2 - t1) / (n2 - n1):,.0f} instructions per tools/call "
          f"({n1} and {n2} calls' difference)")  # fmt: skip


if __name__ == "__main__":
    main()
