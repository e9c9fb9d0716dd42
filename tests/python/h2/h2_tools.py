"""Helpers of the HTTP/2 tests: curl/nghttp located on PATH, the C++ hello_server binary,
server subprocesses started and awaited."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, missing, python_env, wait_for_port


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (scripts/install-deps.sh: curl, nghttp2-client)")
    assert path is not None
    return path


def hello_server_binary() -> Path:
    found = [
        p
        for p in (
            ROOT / "build/release/examples/cpp/hello_server",
            ROOT / "build/dev/examples/cpp/hello_server",
        )
        if p.exists()
    ]
    if not found:
        missing("hello_server is not built (cmake --build build/release)")
    return max(found, key=lambda p: p.stat().st_mtime)


def start(
    cmd: list[str], procs: list[subprocess.Popen[bytes]], port: int
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    procs.append(proc)
    wait_for_port(port, proc)
    return proc


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("curl"), "-sS", "--max-time", "10", *args], capture_output=True, text=True, check=True
    )
