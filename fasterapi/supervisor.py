"""Worker processes: N forked children serve one port (SO_REUSEPORT); the parent restarts a
child that dies (with back-off; it gives up, exiting non-zero, when one keeps dying before it
serves) and, on SIGTERM/SIGINT, forwards SIGTERM and waits for the drain. The port is first
probed without SO_REUSEPORT, so a port held by another process is an error, not shared."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from fasterapi.server import Config, new_event_loop, run, serve

if TYPE_CHECKING:
    from fasterapi.app import App

log = logging.getLogger("fasterapi.error")
_BACKOFF_FIRST = 0.25  # seconds before restarting a worker that died young; doubles each time
_BACKOFF_MAX = 10.0  # the longest wait between restarts of one worker
_STABLE_AFTER = 10.0  # seconds a worker must have lived for its next death not to count as rapid
_MAX_STARTUP_FAILURES = 5  # a worker that dies this many times in a row before serving: give up
_KILL_GRACE = 5.0  # seconds past the graceful deadline before SIGKILL
_ERROR_LIMIT = 4000  # bytes of a worker's error reported to the supervisor
STARTUP_FAILURE = 3  # exit status when workers cannot start (as gunicorn and uvicorn use)


def run_workers(load_app: Callable[[], App], config: Config) -> None:
    """Serve `load_app()` with config.workers processes; returns after a graceful stop.
    Exits (SystemExit, non-zero) when the port is held by another process or the workers keep
    dying before they serve."""
    if config.workers > 1:
        if not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
            raise RuntimeError("workers > 1 needs fork() and SO_REUSEPORT (Linux, macOS, BSD)")
        if config.port == 0:
            raise ValueError("workers > 1 need a fixed port: with port=0 each would get its own")
    if config.port != 0:
        # Our workers share the port through SO_REUSEPORT, which would just as silently share
        # it with a foreign process that set it too; so first prove that nobody holds it.
        ensure_port_free(config.host, config.port)
    if config.workers <= 1:
        run(load_app(), config)
        return
    config.reuse_port = True
    app = load_app()  # import once in the parent; children inherit it through fork()
    Supervisor(app, config).run()


class PortInUseError(OSError):
    """The address to listen on is taken (or cannot be bound) by someone else."""


def ensure_port_free(host: str, port: int) -> None:
    """Bind (without SO_REUSEPORT, so any holder conflicts) and release host:port, trying the
    addresses the engine would. Logs the reason and exits with status 1 when it cannot."""
    try:
        _probe_bind(host, port)
    except PortInUseError as e:
        log.error("%s", e)
        raise SystemExit(1) from None


def _probe_bind(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as e:
        raise PortInUseError(f"cannot listen on {host}:{port}: cannot resolve {host!r}: {e}") from e
    last: OSError | None = None
    for family, kind, proto, _, addr in infos:
        try:
            with socket.socket(family, kind, proto) as probe:
                # As the engine does: connections of a previous run in TIME_WAIT do not count.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(addr)
                return
        except OSError as e:
            last = e
    assert last is not None
    if last.errno == errno.EADDRINUSE:
        reason = (
            "address already in use: another process is listening on this port "
            "(stop it, or choose another port with --port)"
        )
    else:
        reason = last.strerror or str(last)
    raise PortInUseError(last.errno, f"cannot listen on {host}:{port}: {reason}")


class _Worker:
    __slots__ = ("index", "pid", "pipe", "started")

    def __init__(self, index: int, pid: int, pipe: int) -> None:
        self.index, self.pid, self.pipe = index, pid, pipe
        self.started = time.monotonic()

    def report(self) -> tuple[bool, str]:
        """(became ready, its error text) from what the child wrote to its pipe."""
        data = b""
        try:
            while chunk := os.read(self.pipe, 65536):
                data += chunk
        except BlockingIOError:  # a grandchild holds the write end: take what is there
            pass
        finally:
            os.close(self.pipe)
        ready = data.startswith(b"R")
        _, _, error = data.partition(b"E")
        return ready, error.decode("utf-8", "replace").strip()


class _GiveUp(Exception):
    pass


class Supervisor:
    """Owns the worker pids. One instance per parent process."""

    def __init__(self, app: App, config: Config) -> None:
        self.app, self.config = app, config
        self.children: dict[int, _Worker] = {}  # pid -> worker
        self.restarts: dict[int, float] = {}  # worker index -> monotonic time to restart it
        self.startup_failures: dict[int, int] = {}  # index -> deaths in a row before ready
        self.rapid_failures: dict[int, int] = {}  # index -> deaths in a row soon after start
        self.stopping = False

    def spawn(self, index: int) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_end)
            for other in self.children.values():
                os.close(other.pipe)
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                _run_worker(self.app, self.config, lambda port: _tell(write_end, b"R"))
            except BaseException as e:
                log.exception("worker %d failed", index)
                text = "".join(traceback.format_exception_only(type(e), e)).strip()
                _tell(write_end, b"E" + text.encode("utf-8", "replace")[-_ERROR_LIMIT:])
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        os.close(write_end)
        os.set_blocking(read_end, False)
        self.children[pid] = _Worker(index, pid, read_end)

    def run(self) -> None:
        watched = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
        if self.config.ssl_certfile:  # SIGHUP: each worker re-reads its TLS certificates
            watched.add(signal.SIGHUP)
        signal.pthread_sigmask(signal.SIG_BLOCK, watched)
        try:
            for i in range(self.config.workers):
                self.spawn(i)
            while self.children or self.restarts:
                wait = None
                if self.restarts:
                    wait = max(0.0, min(self.restarts.values()) - time.monotonic())
                sig = _next_signal(watched, wait)
                if sig in (signal.SIGTERM, signal.SIGINT):
                    self.stop()
                    return
                if sig == signal.SIGHUP:
                    for pid in self.children:
                        _kill(pid, signal.SIGHUP)
                    continue
                try:
                    self.reap(restart=True)
                except _GiveUp as e:
                    log.error("%s", e)
                    self.stop()
                    raise SystemExit(STARTUP_FAILURE) from None
                now = time.monotonic()
                for index, due in list(self.restarts.items()):
                    if due <= now:
                        del self.restarts[index]
                        self.spawn(index)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, watched)

    def reap(self, restart: bool) -> None:
        """Collect exited children; schedule a replacement for each unless stopping (with
        exponential back-off while they die young). Raises _GiveUp when one keeps dying
        before it serves."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                for worker in self.children.values():
                    os.close(worker.pipe)
                self.children.clear()
                return
            if pid == 0:
                return
            if pid not in self.children:
                continue
            worker = self.children.pop(pid)
            ready, error = worker.report()
            if not restart or self.stopping:
                continue
            self._schedule(worker, ready, _describe(status) + (f": {error}" if error else ""))

    def _schedule(self, worker: _Worker, ready: bool, why: str) -> None:
        index, now = worker.index, time.monotonic()
        if ready:
            self.startup_failures[index] = 0
        else:
            failures = self.startup_failures[index] = self.startup_failures.get(index, 0) + 1
            if failures >= _MAX_STARTUP_FAILURES:
                raise _GiveUp(
                    f"worker {index} failed {failures} times in a row before it could serve; "
                    f"giving up. Last error: {why}"
                )
        if now - worker.started < _STABLE_AFTER:
            rapid = self.rapid_failures[index] = self.rapid_failures.get(index, 0) + 1
            delay = min(_BACKOFF_FIRST * 2 ** (rapid - 1), _BACKOFF_MAX)
        else:
            self.rapid_failures[index] = 0
            delay = 0.0
        log.warning(
            "worker %d (pid %d) exited (%s)%s; restarting in %.2g s",
            index,
            worker.pid,
            why,
            "" if ready else " before it could serve",
            delay,
        )
        self.restarts[index] = now + delay

    def stop(self) -> None:
        """Forward SIGTERM, wait for the drain, SIGKILL whatever outlives the deadline."""
        self.stopping = True
        self.restarts.clear()
        for pid in self.children:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.timeout_graceful_shutdown + _KILL_GRACE
        while self.children and time.monotonic() < deadline:
            self.reap(restart=False)
            if self.children:
                time.sleep(0.05)  # 50 ms between checks while children drain
        for pid in list(self.children):
            _kill(pid, signal.SIGKILL)
            worker = self.children.pop(pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            os.close(worker.pipe)


def _next_signal(watched: set[signal.Signals], timeout: float | None) -> int | None:
    """The next of the (blocked) `watched` signals, or None after `timeout` seconds."""
    if timeout is None:
        return signal.sigwait(watched)
    if hasattr(signal, "sigtimedwait"):
        info = signal.sigtimedwait(watched, timeout)
        return info.si_signo if info is not None else None
    deadline = time.monotonic() + timeout  # macOS has no sigtimedwait: poll sigpending
    while not (pending := signal.sigpending() & watched):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(left, 0.05))
    return signal.sigwait(pending)


def _run_worker(app: App, config: Config, ready: Callable[[int], None]) -> None:
    """server.run() for a worker process, telling the supervisor once it accepts requests."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(app, config, ready=ready))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


def _tell(fd: int, message: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, message)


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
