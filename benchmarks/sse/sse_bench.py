"""SSE throughput: events/s from one FasterAPI worker to C concurrent clients, and the server's
CPU time per event (utime+stime from /proc). The clients are curl processes (one stream
each); each stream's decoded size must equal its events' bytes exactly.

Usage: python3 benchmarks/sse/sse_bench.py [--clients 100] [--events 10000] [--runs 3]
Prints one line per run and the median. Provisional on a shared machine."""

from __future__ import annotations

import argparse
import os
import socket
import statistics
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
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def expected_bytes(n: int) -> int:
    return sum(len(f'data: {{"n":{i}}}\n\n') for i in range(n))


def run_once(port: int, clients: int, n: int) -> tuple[float, int]:
    """C curl processes read one stream each (C code: the client is not the bottleneck)."""
    want = expected_bytes(n)
    url = f"http://127.0.0.1:{port}/events?n={n}"
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            ["curl", "-sN", "-o", "/dev/null", "-w", "%{size_download}", url],
            stdout=subprocess.PIPE,
        )
        for _ in range(clients)
    ]
    sizes = [int(p.communicate()[0] or 0) for p in procs]
    elapsed = time.perf_counter() - start
    short = [s for s in sizes if s != want]
    if short:
        raise SystemExit(f"{len(short)} stream(s) incomplete: {short[:3]} != {want} bytes")
    return elapsed, clients * n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--events", type=int, default=10_000, help="events per client")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "sse_app.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        run_once(port, 4, 100)  # warm-up
        rates, cpu_us = [], []
        for r in range(args.runs):
            cpu0 = cpu_seconds(server.pid)
            elapsed, events = run_once(port, args.clients, args.events)
            cpu = cpu_seconds(server.pid) - cpu0
            rates.append(events / elapsed)
            cpu_us.append(cpu / events * 1e6)
            print(
                f"run {r + 1}: {events} events to {args.clients} clients in {elapsed:.2f} s = "
                f"{events / elapsed:,.0f} events/s; server CPU {cpu:.2f} s = "
                f"{cpu / events * 1e6:.2f} us/event"
            )
        print(
            f"median: {statistics.median(rates):,.0f} events/s, "
            f"{statistics.median(cpu_us):.2f} us server CPU per event "
            f"(target >= 100,000 events/s to 100 clients from one worker)"
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
