#!/usr/bin/env python3
"""Autobahn's WebSocket fuzzing cases (kosoku, the Python 3 runner of Autobahn's case files)
against the Python App's echo route (examples/ws_echo.py), served by `python3
examples/ws_echo.py` in a child process. Every case must be OK, NON-STRICT or INFORMATIONAL
(closing behaviour OK or INFORMATIONAL). Prints a summary and exits 1 otherwise.

    python3 benchmarks/ws/autobahn_app.py                # all 517 cases (about 10 minutes)
    python3 benchmarks/ws/autobahn_app.py --reduced      # the CI subset (tests/python/ws)
    python3 benchmarks/ws/autobahn_app.py --hello-server build/release/examples/cpp/hello_server
                                                         # the C++ handler's echo route instead
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GOOD_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
GOOD_CLOSE = {"OK", "INFORMATIONAL"}
# Every section, with the long ones cut to their first cases: 9 (limits/performance, large
# messages), 12 and 13 (permessage-deflate) run a few cases each.
REDUCED = [
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*",
    "9.1.1", "9.1.2", "9.2.1", "9.2.2", "9.3.1", "9.4.1", "9.5.1", "9.6.1", "9.7.1", "9.8.1",
    "12.1.1", "12.1.5", "12.2.1", "12.3.1", "12.4.1", "12.5.1",
    "13.1.1", "13.1.5", "13.2.1", "13.3.1", "13.4.1", "13.5.1", "13.6.1", "13.7.1",
]  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the echo server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the echo server is not listening on {port}")


def run_kosoku(url: str, include: list[str], exclude: list[str], outdir: Path,
               parallelism: int) -> dict[str, Any]:  # fmt: skip
    """Runs kosoku's fuzzing client against url; returns {case: result} from its index.json."""
    args = [sys.executable, "-c", "from kosoku._cli import main; main()", url,
            "-p", str(parallelism), "-o", str(outdir)]  # fmt: skip
    for case in include:
        args += ["-i", case]
    for case in exclude:
        args += ["-x", case]
    subprocess.run(args, capture_output=True, text=True, timeout=3600, check=False)
    index = json.loads((outdir / "index.json").read_text())
    return next(iter(index.values()))  # type: ignore[no-any-return]


def verdicts(results: dict[str, Any]) -> tuple[collections.Counter[str], list[str]]:
    counts: collections.Counter[str] = collections.Counter()
    bad = []
    for case, r in sorted(results.items()):
        counts[f"{r['behavior']}/{r['behaviorClose']}"] += 1
        if r["behavior"] not in GOOD_BEHAVIOR or r["behaviorClose"] not in GOOD_CLOSE:
            bad.append(case)
    return counts, bad


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reduced", action="store_true", help="the CI subset, not every case")
    p.add_argument("--parallelism", type=int, default=4, help="cases run at once")
    p.add_argument("--outdir", type=Path, default=None, help="keep kosoku's reports here")
    p.add_argument("--hello-server", type=Path, default=None,
                   help="serve with this hello_server binary (its /ws echo route)")  # fmt: skip
    args = p.parse_args(argv)
    port = free_port()
    if args.hello_server:
        name, argv0 = "hello_server", [str(args.hello_server.resolve())]
    else:
        name, argv0 = "examples/ws_echo.py", [sys.executable, "examples/ws_echo.py"]
    server = subprocess.Popen(
        [*argv0, "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, server)
        url = f"ws://127.0.0.1:{port}/ws"
        with tempfile.TemporaryDirectory() as tmp:
            outdir = args.outdir or Path(tmp)
            started = time.monotonic()
            results = run_kosoku(url, REDUCED if args.reduced else [], [], outdir,
                                 args.parallelism)  # fmt: skip
            took = time.monotonic() - started
        alive = server.poll() is None
    finally:
        server.kill()
        server.wait()
    counts, bad = verdicts(results)
    print(f"{len(results)} cases in {took:.0f} s against {name}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))  # fmt: skip
    if bad:
        print("FAILED: " + ", ".join(f"{c} {results[c]['behavior']}/{results[c]['behaviorClose']}"
                                      for c in bad))  # fmt: skip
    if not alive:
        print("FAILED: the server died during the run")
    return 1 if bad or not alive or not results else 0


if __name__ == "__main__":
    sys.exit(main())
