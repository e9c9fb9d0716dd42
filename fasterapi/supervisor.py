"""Worker processes: N forked children serve one port (SO_REUSEPORT); the parent restarts a
child that dies and, on SIGTERM/SIGINT, forwards SIGTERM and waits for the drain."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fasterapi.server import Config, run

if TYPE_CHECKING:
    from fasterapi.app import App

log = logging.getLogger("fasterapi.error")
_RESTART_BACKOFF = 0.5  # seconds between restarts of crashing workers, so a crash loop idles
_KILL_GRACE = 5.0  # seconds past the graceful deadline before SIGKILL


def run_workers(load_app: Callable[[], App], config: Config) -> None:
    """Serve `load_app()` with config.workers processes; returns after a graceful stop."""
    if config.workers <= 1:
        run(load_app(), config)
        return
    if not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
        raise RuntimeError("workers > 1 needs fork() and SO_REUSEPORT (Linux, macOS, BSD)")
    if config.port == 0:
        raise ValueError("workers > 1 need a fixed port: with port=0 each would get its own")
    config.reuse_port = True
    app = load_app()  # import once in the parent; children inherit it through fork()
    Supervisor(app, config).run()


class Supervisor:
    """Owns the worker pids. One instance per parent process."""

    def __init__(self, app: App, config: Config) -> None:
        self.app, self.config = app, config
        self.children: dict[int, int] = {}  # pid -> worker index
        self.stopping = False

    def spawn(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # child
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                run(self.app, self.config)
            except BaseException:
                log.exception("worker %d failed", index)
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = index

    def run(self) -> None:
        watched = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, watched)
        try:
            for i in range(self.config.workers):
                self.spawn(i)
            while self.children:
                sig = signal.sigwait(watched)
                if sig in (signal.SIGTERM, signal.SIGINT):
                    self.stop()
                    return
                self.reap(restart=True)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)

    def reap(self, restart: bool) -> None:
        """Collect exited children; start a replacement for each unless stopping."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            index = self.children.pop(pid, None)
            if index is None:
                continue
            if restart and not self.stopping:
                log.warning(
                    "worker %d (pid %d) exited with %s; restarting", index, pid, _describe(status)
                )
                time.sleep(_RESTART_BACKOFF)
                self.spawn(index)

    def stop(self) -> None:
        """Forward SIGTERM, wait for the drain, SIGKILL whatever outlives the deadline."""
        self.stopping = True
        for pid in self.children:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.timeout_graceful_shutdown + _KILL_GRACE
        while self.children and time.monotonic() < deadline:
            self.reap(restart=False)
            if self.children:
                time.sleep(0.05)  # 50 ms between checks while children drain
        for pid in list(self.children):
            _kill(pid, signal.SIGKILL)
            self.children.pop(pid)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"code {os.WEXITSTATUS(status)}"


if sys.platform == "win32":  # pragma: no cover
    raise ImportError("fasterapi.supervisor needs POSIX processes")
