"""The worker supervisor: a worker that keeps dying at startup is retried with back-off and
then the supervisor exits non-zero showing the worker's error; a port another process holds
is a clear error (not a silent SO_REUSEPORT share), for workers=N and for one process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port, python_env

from fasterapi import supervisor

FAILING_APP = textwrap.dedent("""
    import os, pathlib, time
    from fasterapi import App

    app = App()
    MARK = pathlib.Path(os.environ["MARK_DIR"])

    @app.on_event("startup")
    def connect():
        (MARK / f"attempt-{os.getpid()}-{time.monotonic()}").write_text("1")
        raise RuntimeError("database unreachable at db.invalid:5432")

    @app.get("/")
    def index(req, res):
        return "ok"
""")

OK_APP = textwrap.dedent("""
    from fasterapi import App

    app = App()

    @app.get("/")
    def index(req, res):
        return "ok"

    if __name__ == "__main__":
        import sys
        app.run(port=int(sys.argv[1]))
""")


def fasterapi(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fasterapi", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "failing.py").write_text(FAILING_APP)
    (tmp_path / "okapp.py").write_text(OK_APP)
    (tmp_path / "marks").mkdir()
    return tmp_path


@pytest.fixture
def env(app_dir: Path) -> dict[str, str]:
    e = python_env()
    e["MARK_DIR"] = str(app_dir / "marks")
    return e


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    out: list[subprocess.Popen[str]] = []
    yield out
    for p in out:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_workers_dying_at_startup_make_the_supervisor_give_up(
    app_dir: Path, env: dict[str, str], procs: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    args = ["run", "failing:app", "--app-dir", str(app_dir), "--port", str(port)]
    started = time.monotonic()
    proc = fasterapi([*args, "--workers", "2"], ROOT, env)
    procs.append(proc)
    out, _ = proc.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == supervisor.STARTUP_FAILURE, out
    assert "giving up" in out
    assert "database unreachable at db.invalid:5432" in out.split("giving up")[-1]
    attempts = sorted((app_dir / "marks").iterdir())
    # Each worker is tried _MAX_STARTUP_FAILURES times at most (the first to reach it ends it).
    assert len(attempts) <= 2 * supervisor._MAX_STARTUP_FAILURES, attempts
    # With back-off, not a busy loop: at least 0.25 + 0.5 + 1 + 2 s of waiting.
    backoff = sum(
        supervisor._BACKOFF_FIRST * 2**i for i in range(supervisor._MAX_STARTUP_FAILURES - 1)
    )
    assert elapsed >= backoff * 0.9, elapsed


def test_sigterm_during_backoff_stops_promptly(
    app_dir: Path, env: dict[str, str], procs: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    args = ["run", "failing:app", "--app-dir", str(app_dir), "--port", str(port)]
    proc = fasterapi([*args, "--workers", "2"], ROOT, env)
    procs.append(proc)
    for _ in range(500):
        if len(list((app_dir / "marks").iterdir())) >= 4:  # the second round has started
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.fixture(params=["plain", "reuseport"])
def foreign_listener(request: pytest.FixtureRequest) -> Iterator[int]:
    """Another process's socket listening on a port: with SO_REUSEPORT too, in the worst case."""
    s = socket.socket()
    if request.param == "reuseport":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        yield int(s.getsockname()[1])
    finally:
        s.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_port_held_by_another_process_is_an_error(
    app_dir: Path,
    env: dict[str, str],
    procs: list[subprocess.Popen[str]],
    foreign_listener: int,
    workers: str,
) -> None:
    port = foreign_listener
    args = ["run", "okapp:app", "--app-dir", str(app_dir), "--port", str(port)]
    proc = fasterapi([*args, "--workers", workers], ROOT, env)
    procs.append(proc)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out
    assert f"cannot listen on 127.0.0.1:{port}" in out
    assert "already in use" in out
    assert "Traceback" not in out


def test_app_run_on_a_held_port_is_an_error(
    app_dir: Path, env: dict[str, str], foreign_listener: int
) -> None:
    out = subprocess.run(
        [sys.executable, str(app_dir / "okapp.py"), str(foreign_listener)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_probe_accepts_a_free_port_and_rejects_a_held_one() -> None:
    port = free_port()
    supervisor._probe_bind("127.0.0.1", port)  # free: no error
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        with pytest.raises(supervisor.PortInUseError, match="already in use"):
            supervisor._probe_bind("127.0.0.1", port)
    with pytest.raises(supervisor.PortInUseError, match="cannot resolve"):
        supervisor._probe_bind("no-such-host.invalid", port)


@pytest.mark.parametrize("native", [True, False], ids=["sigtimedwait", "sigpending-poll"])
def test_next_signal_times_out_and_returns_signals(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not native:
        monkeypatch.delattr(signal, "sigtimedwait", raising=False)  # as on macOS
    watched = {signal.SIGUSR1}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        started = time.monotonic()
        assert supervisor._next_signal(watched, 0.2) is None
        assert time.monotonic() - started >= 0.15
        # Directed at this thread (blocked here), so no other thread can take it.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
        assert supervisor._next_signal(watched, 5) == signal.SIGUSR1
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
