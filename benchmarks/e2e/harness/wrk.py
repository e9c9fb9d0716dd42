"""Runs wrk pinned to a core and parses its summary."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK_SLACK_S = 30  # wrk stops itself after --duration; kill it if it hangs this much longer

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    non_2xx: int  # wrk's "Non-2xx or 3xx responses: N"
    socket_errors: int  # the sum of wrk's "Socket errors: connect A, read B, write C, timeout D"
    latency_avg_ms: float | None
    latency_p99_ms: float | None
    socket_error_detail: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def _ms(value: str) -> float | None:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(text: str) -> WrkResult:
    """Returns the figures in wrk's summary; raises ValueError if it has no request count."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if not done:
        raise ValueError(f"parse_wrk: no request count in wrk output: {text[-300:]!r}")
    seconds = float(done.group(2)) * _UNITS[done.group(3)] / 1e3
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock is None and "Socket errors" in text:  # never count a line we cannot read as 0
        raise ValueError(f"parse_wrk: unreadable socket errors line in {text[-300:]!r}")
    if non_2xx is None and "Non-2xx" in text:
        raise ValueError(f"parse_wrk: unreadable Non-2xx line in {text[-300:]!r}")
    lat = re.search(r"Latency\s+(\S+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    requests = int(done.group(1))
    return WrkResult(
        requests=requests,
        seconds=seconds,
        rps=float(rps.group(1)) if rps else requests / seconds,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        socket_error_detail=dict(zip(("connect", "read", "write", "timeout"),
                                     (int(g) for g in sock.groups()), strict=True))
        if sock else {},
        latency_avg_ms=_ms(lat.group(1)) if lat else None,
        latency_p99_ms=_ms(p99.group(1)) if p99 else None,
    )


def run_wrk(url: str, *, duration_s: float, connections: int, threads: int = 1,
            core: str = "1", script: Path | None = None) -> WrkResult:
    """Runs wrk against url pinned to core; raises RuntimeError if wrk fails."""
    argv = ["taskset", "-c", core, "wrk", f"-t{threads}", f"-c{connections}",
            f"-d{max(1, round(duration_s))}s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=duration_s + WRK_SLACK_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk did not stop {WRK_SLACK_S} s after its duration") from exc
    if out.returncode != 0:
        raise RuntimeError(f"wrk exited with {out.returncode}: {out.stderr.strip()[-300:]}")
    return parse_wrk(out.stdout)
