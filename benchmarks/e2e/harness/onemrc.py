"""Builds and runs the 1 Million Request Challenge client (onemrc/onemrc_client.cpp)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent.parent / "onemrc"
# The client gives up by itself after 30 s without any response; this bounds a slow trickle
# (1,000,000 requests at 1,000 req/s on a busy machine).
CLIENT_TIMEOUT_S = 1200


@dataclass
class OneMrcResult:
    requests: int
    responses: int
    seconds: float
    rps: float
    errors: int
    exact: bool
    output: str


def build_client(build_dir: Path) -> Path:
    """Compiles the client into build_dir if it is missing or older than its sources."""
    binary = build_dir / "onemrc_client"
    sources = list(SOURCE_DIR.glob("*.cpp")) + list(SOURCE_DIR.glob("*.h"))
    newest = max(p.stat().st_mtime for p in sources)
    if not binary.exists() or binary.stat().st_mtime < newest:
        build_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["g++", "-O2", "-std=c++20", "-Wall", "-Wextra", "-o", str(binary),
                        str(SOURCE_DIR / "onemrc_client.cpp")], check=True)
    return binary


def run_client(binary: Path, port: int, *, requests: int, connections: int,
               core: str = "1") -> OneMrcResult:
    """Runs the client pinned to core; raises RuntimeError if it prints no summary."""
    argv = ["taskset", "-c", core, str(binary), "--port", str(port),
            "--requests", str(requests), "--connections", str(connections)]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=CLIENT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"onemrc_client still running after {CLIENT_TIMEOUT_S} s") from exc
    lines = out.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"onemrc_client exited with {out.returncode}: "
                           f"{(out.stderr or out.stdout).strip()[-300:]}")
    summary = json.loads(lines[-1])
    return OneMrcResult(
        requests=summary["requests"], responses=summary["responses"],
        seconds=summary["seconds"], rps=summary["rps"], errors=summary["errors"],
        exact=summary["exact"], output="\n".join(lines[:-1]),
    )
