"""`fasterapi run module:app` in a child process, for the ASGI tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

APPS = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CliServer:
    """`python -m fasterapi run <spec> --app-dir apps/ --port N`; stop() sends SIGTERM."""

    def __init__(self, spec: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fasterapi",
                "run",
                spec,
                "--app-dir",
                str(APPS),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        _out, err = self.stop()
        raise RuntimeError(f"fasterapi run {spec} did not start:\n{err}")

    def stop(self) -> tuple[str, str]:
        """SIGTERM (graceful: lifespan shutdown runs); returns (stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out.decode(errors="replace"), err.decode(errors="replace")
