"""MCPProxy's CPU per forwarded call next to a bare relay's (benchmarks/mcp/relay_floor.c) in
front of the same stdio upstream (examples/mcp/bench_fasterapi.py), interleaved runs, user and
system time apart. What the proxy adds above the relay is its own work; the relay's figure is
the machine's price for two sleeps and two wake-ups per sequential call.

    python3 benchmarks/mcp/relay_floor.py --calls 5000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = [sys.executable, str(ROOT / "examples" / "mcp" / "bench_fasterapi.py"), "--transport",
            "stdio"]  # fmt: skip
PROXY = [sys.executable, str(ROOT / "examples" / "mcp" / "bench_proxy.py"), "--transport", "stdio"]
TCK = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime in clock ticks


def run(command: list[str], tool: str, calls: int) -> tuple[float, float, float]:
    """(calls/s, user µs/call, system µs/call) of `command`'s own process."""
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                            cwd=ROOT)  # fmt: skip
    assert proc.stdin and proc.stdout

    def call(i: int, method: str, params: dict[str, object]) -> None:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method,  # type: ignore[union-attr]
                                     "params": params}).encode() + b"\n")  # fmt: skip
        while json.loads(proc.stdout.readline()).get("id") != i:  # type: ignore[union-attr]
            pass

    try:
        call(0, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                               "clientInfo": {"name": "relay_floor", "version": "1"}})  # fmt: skip
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        add = {"name": tool, "arguments": {"a": 1, "b": 2}}
        for i in range(1, 201):  # warm-up
            call(i, "tools/call", add)
        (u0, s0), t0 = cpu(proc.pid), time.perf_counter()
        for i in range(1000, 1000 + calls):
            call(i, "tools/call", add)
        wall = time.perf_counter() - t0
        u1, s1 = cpu(proc.pid)
        return calls / wall, (u1 - u0) / TCK / calls * 1e6, (s1 - s0) / TCK / calls * 1e6
    finally:
        proc.stdin.close()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    relay = ROOT / "build" / "relay_floor"
    relay.parent.mkdir(exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", str(relay), str(Path(__file__).with_suffix(".c"))],
                   check=True)  # fmt: skip
    print("| process | run | calls/s | user µs/call | sys µs/call |\n|---|---:|---:|---:|---:|")
    for n in range(1, args.runs + 1):
        for name, command, tool in (("relay_floor", [str(relay), *UPSTREAM], "add"),
                                    ("MCPProxy", PROXY, "fa__add")):  # fmt: skip
            rate, user, system = run(command, tool, args.calls)
            print(f"| {name} | {n} | {rate:,.0f} | {user:.1f} | {system:.1f} |", flush=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
