"""Autobahn's WebSocket fuzzing cases (driven by kosoku) against a WebSocket echo endpoint.

Every case must end OK, NON-STRICT or INFORMATIONAL; any other verdict (FAILED, UNIMPLEMENTED,
ERROR, a missing case) makes the run fail. Without --target the script starts the C++
examples/cpp/hello_server (its /ws echo route) on a free port.

    python3 benchmarks/ws/autobahn/run.py                 # full set: sections 1-13
    python3 benchmarks/ws/autobahn/run.py --quick         # the reduced set CI runs
    python3 benchmarks/ws/autobahn/run.py --target 127.0.0.1:8000/ws --summary out.md
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}
FULL = ["*"]
# CI (about 2 minutes on a quiet machine): every protocol section (1-7, 10), the smallest
# case of each large-message group (9) and, for permessage-deflate, the first two message sizes
# of each data set (12) and of each offer/accept combination (13). Exact ids: kosoku's globs
# let `*` cross dots.
QUICK = (
    [f"{s}.*" for s in (1, 2, 3, 4, 5, 6, 7, 10)]
    + [f"9.{g}.1" for g in range(1, 9)]
    + [f"12.{g}.{i}" for g in range(1, 6) for i in (1, 2)]
    + [f"13.{g}.{i}" for g in range(1, 8) for i in (1, 2)]
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start within {timeout} s")


def section_of(case: str) -> int:
    return int(case.split(".", 1)[0])


def summarize(results: dict[str, str]) -> str:
    by_section: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for case, verdict in results.items():
        by_section[section_of(case)][verdict] += 1
    verdicts = sorted({v for c in by_section.values() for v in c})
    lines = [
        "| section | cases | " + " | ".join(verdicts) + " |",
        "|---|---|" + "---|" * len(verdicts),
    ]
    for sec in sorted(by_section):
        c = by_section[sec]
        lines.append(
            f"| {sec} | {sum(c.values())} | "
            + " | ".join(str(c.get(v, 0)) for v in verdicts)
            + " |"
        )
    total: collections.Counter[str] = collections.Counter(results.values())
    lines.append(
        f"| all | {len(results)} | " + " | ".join(str(total.get(v, 0)) for v in verdicts) + " |"
    )
    return "\n".join(lines)


def run(target: str, cases: list[str], parallelism: int, outdir: Path) -> dict[str, str]:
    kosoku = shutil.which("kosoku")
    cmd = [kosoku] if kosoku else [sys.executable, "-m", "kosoku"]
    cmd += [target, "-p", str(parallelism), "-o", str(outdir)]
    for c in cases:
        cmd += ["-i", c]
    subprocess.run(cmd, check=False)  # exits non-zero when a case fails; verdicts judged below
    index = outdir / "index.json"
    if not index.exists():
        raise SystemExit(f"kosoku wrote no {index}")
    data = json.loads(index.read_text())
    return {case: r["behavior"] for agent in data.values() for case, r in agent.items()}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--target", help="host:port/path of the echo endpoint (default: start hello_server)"
    )
    ap.add_argument("--hello-server", default=str(ROOT / "build/dev/examples/cpp/hello_server"))
    ap.add_argument("--quick", action="store_true", help="the reduced case set (CI)")
    ap.add_argument("--case", action="append", default=[], help="case id or glob (repeatable)")
    ap.add_argument("-p", "--parallelism", type=int, default=2)
    ap.add_argument("--outdir", help="report directory (default: a temporary one)")
    ap.add_argument("--summary", help="also write the markdown summary to this file")
    args = ap.parse_args()

    cases = args.case or (QUICK if args.quick else FULL)
    server: subprocess.Popen[bytes] | None = None
    target = args.target
    if target is None:
        port = free_port()
        server = subprocess.Popen(
            [args.hello_server, "--port", str(port)], stdout=subprocess.DEVNULL
        )
        wait_listening(port)
        target = f"127.0.0.1:{port}/ws"
    outdir = Path(args.outdir) if args.outdir else Path(tempfile.mkdtemp(prefix="autobahn-"))
    started = time.monotonic()
    try:
        results = run(target, cases, args.parallelism, outdir)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    elapsed = time.monotonic() - started
    if server is not None and server.returncode not in (0, -15):
        print(f"hello_server exited with {server.returncode}", file=sys.stderr)
        return 1
    bad = {c: v for c, v in results.items() if v not in ACCEPTED}
    summary = summarize(results)
    print(summary)
    print(f"\n{len(results)} cases against {target} in {elapsed:.0f} s; reports in {outdir}")
    if args.summary:
        Path(args.summary).write_text(summary + "\n")
    if not results:
        print("no cases ran", file=sys.stderr)
        return 1
    for case, verdict in sorted(bad.items()):
        print(f"NOT ACCEPTED: {case}: {verdict}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
