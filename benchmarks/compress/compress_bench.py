"""Compressed responses: MB/s (of the uncompressed 100 KB JSON document served) and ratio per
codec, FasterAPI's engine compression (zstd, br, gzip at the engine's default levels; gzip at
level 9 through GZipMiddleware) vs FastAPI on uvicorn with Starlette's GZipMiddleware (level
9), one worker each. Load: wrk with the codec's Accept-Encoding; ratio from one curl request;
server CPU per request from /proc. Provisional on a shared machine.

Usage: python3 benchmarks/compress/compress_bench.py [--seconds 5] [--connections 16]"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not start")


def sizes(port: int, coding: str) -> tuple[int, int, str]:
    """(bytes on the wire, bytes decoded, content-encoding) for one request."""
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-H",
            f"Accept-Encoding: {coding}",
            f"http://127.0.0.1:{port}/doc",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wire = int(out.strip().splitlines()[-1])
    enc = re.search(r"(?im)^content-encoding:\s*(\S+)", out)
    plain = subprocess.run(
        [
            "curl",
            "-s",
            "--compressed",
            "-H",
            f"Accept-Encoding: {coding}",
            f"http://127.0.0.1:{port}/doc",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return wire, len(plain), enc.group(1) if enc else "identity"


def wrk(port: int, coding: str, seconds: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Accept-Encoding: {coding}",
            f"http://127.0.0.1:{port}/doc",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return rps, 0 if errors is None else 1


def run(name: str, cmd: list[str], port: int, coding: str, args: argparse.Namespace) -> None:
    proc = subprocess.Popen(cmd, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        wire, plain, enc = sizes(port, coding)
        cpu0 = cpu_seconds(proc.pid)
        rps, errors = wrk(port, coding, args.seconds, args.connections)
        cpu = cpu_seconds(proc.pid) - cpu0
        requests = rps * args.seconds
        print(
            f"{name:<34} {enc:<8} {plain / 1024:6.1f} KB -> {wire / 1024:6.1f} KB "
            f"ratio {plain / wire:5.1f}x  {rps:8.0f} req/s  {rps * plain / 1e6:7.1f} MB/s  "
            f"{cpu / requests * 1e6:7.0f} us CPU/req{'  (errors!)' if errors else ''}"
        )
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    py = sys.executable
    print(
        "server                             coding   document -> wire       ratio   "
        "throughput (uncompressed MB/s)   server CPU"
    )
    for mode, coding in [
        ("identity", "identity"),
        ("zstd", "zstd"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip-mw", "gzip"),
    ]:
        port = free_port()
        label = f"FasterAPI {mode}" + (" (GZipMiddleware, 9)" if mode == "gzip-mw" else "")
        run(label, [py, "apps.py", "fasterapi", str(port), mode], port, coding, args)
    port = free_port()
    run(
        "FastAPI+uvicorn GZipMiddleware (9)",
        [py, "-m", "uvicorn", "apps:fastapi_app", "--port", str(port), "--log-level", "warning"],
        port,
        "gzip",
        args,
    )


if __name__ == "__main__":
    main()
