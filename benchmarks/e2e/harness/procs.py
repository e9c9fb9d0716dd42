"""Pinned server processes: start, wait until they answer, measure their CPU, stop them."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")  # clock ticks per second, the unit of /proc/PID/stat times
READY_TIMEOUT_S = 30.0  # a Python app that imports FastAPI takes ~2 s; a cold build more
STOP_GRACE_S = 5.0  # SIGTERM, then SIGKILL after this long


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_stat(text: str) -> tuple[int, int]:
    """Returns (ppid, utime+stime in ticks) from the text of /proc/PID/stat."""
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def _all_stats() -> dict[int, tuple[int, int]]:
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stats[int(entry)] = parse_stat(Path(f"/proc/{entry}/stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return stats


def tree_cpu_ticks(root: int) -> int:
    """Returns utime+stime (ticks, all threads) summed over root and all its descendants."""
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def ticks_to_us(ticks: int) -> float:
    return ticks * 1_000_000 / CLK_TCK


@dataclass
class Server:
    """A server started under `taskset -c CORE` in its own process group."""

    name: str
    argv: Sequence[str]
    port: int
    core: str = "0"
    cwd: str | None = None
    env: dict[str, str] | None = None
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        env = dict(os.environ, **(self.env or {}))
        log_path = self.log_path or Path(os.devnull)
        with open(log_path, "wb") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(
                ["taskset", "-c", self.core, *self.argv],
                cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None, "Server.pid: not started"
        return self.proc.pid

    def cpu_ticks(self) -> int:
        return tree_cpu_ticks(self.pid)

    def wait_ready(self, path: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Returns once GET path answers with any HTTP status; raises RuntimeError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None, "Server.wait_ready: not started"
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}"
                                   f"{self._log_tail()}")
            if http_get_status(self.port, path) is not None:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer on port {self.port} in {timeout:.0f} s"
                           f"{self._log_tail()}")

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        return (": " + " | ".join(lines)) if lines else ""

    def stop(self) -> None:
        """Stops the whole process group (workers too); safe to call twice."""
        if self.proc is None or (self.proc.poll() is not None and not _group_alive(self.pid)):
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            if not _group_alive(self.pid):
                break
            time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def http_get_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """Returns the status code of GET path on 127.0.0.1:port, or None if nothing answered."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                      .encode())
            head = s.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    return int(parts[1])


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes] | None:
    """Returns (status, body) of GET path on 127.0.0.1:port, or None if nothing answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
