"""Instructions per MCP tools/call in the C++ core (parse + dispatch + encode, BM_ToolCall's
body), counted by callgrind: the figure a noisy machine does not disturb (mcp_bench's ns need a
quiet one).

    cmake --build build/dev --target mcp_bench
    python3 benchmarks/mcp/toolcall_instructions.py [--bench build/dev/benchmarks/micro/mcp_bench]

Runs `mcp_bench --tool-calls=N` under `valgrind --tool=callgrind` for two values of N and divides
the difference of the program totals by the difference of N, so start-up, the fixture and
simdjson's first-use set-up cancel out. With --annotate, prints the top functions (inclusive) of
the larger run.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def total_instructions(bench: Path, calls: int, out: Path) -> int:
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(bench),
         f"--tool-calls={calls}"],
        check=True, capture_output=True,
    )  # fmt: skip
    text = out.read_text()
    match = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if not match:
        raise RuntimeError(f"no totals in {out}")
    return int(match.group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", type=Path, default=ROOT / "build/dev/benchmarks/micro/mcp_bench")
    p.add_argument("--small", type=int, default=1000, help="calls in the first run")
    p.add_argument("--large", type=int, default=21000, help="calls in the second run")
    p.add_argument("--annotate", type=int, default=0, help="top functions to list")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    small = total_instructions(args.bench, args.small, tmp / "small.out")
    large = total_instructions(args.bench, args.large, tmp / "large.out")
    per_call = (large - small) / (args.large - args.small)
    print(f"{per_call:,.1f} instructions per tools/call (parse + dispatch + encode; "
          f"{args.large - args.small} calls' difference)")  # fmt: skip
    if args.annotate:
        report = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", str(tmp / "large.out")],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rows = [ln for ln in report.splitlines() if re.match(r"\s*[\d,]+ \(\s*[\d.]+%\)\s+\S", ln)]
        for line in rows[: args.annotate]:
            print(line[:170])


if __name__ == "__main__":
    main()
