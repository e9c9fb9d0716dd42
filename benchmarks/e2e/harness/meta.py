"""What the results JSON records about the machine and the software measured."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PEER_PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools",
                 "granian", "socketify")


def missing_tools(names: Sequence[str]) -> list[str]:
    return [n for n in names if shutil.which(n) is None]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else None


def _git_commit(repo: Path) -> str | None:
    return _version_line(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])


def machine_info(argv: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """Returns the machine, the versions and the command, for the results JSON."""
    versions: dict[str, str | None] = {}
    for name in PEER_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    versions["nginx"] = _version_line(["nginx", "-v"])
    versions["wrk"] = _version_line(["wrk", "--version"])
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python3", *argv]),
        "options": {k: str(v) for k, v in options.items()},
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "git_commit": _git_commit(Path(__file__).resolve().parents[3]),
        "versions": versions,
        "loadavg_before": loadavg(),
    }
