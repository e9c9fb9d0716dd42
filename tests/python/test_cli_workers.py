"""The CLI, graceful SIGTERM and worker processes, as real subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, python_env, start_server

from fasterapi.cli import load_app, parser

APP_SOURCE = textwrap.dedent("""
    import asyncio, os, pathlib
    from fasterapi import App, Response

    app = App()
    MARK = pathlib.Path(os.environ["MARK_DIR"])
    BIG = 48 * 1024 * 1024  # past any loopback socket buffer: most of it waits in our queue

    @app.get("/pid")
    def pid(req, res):
        return {"pid": os.getpid()}

    @app.get("/slow")
    async def slow(req, res):
        (MARK / "slow-started").write_text("1")
        while not (MARK / "release").exists():
            await asyncio.sleep(0.02)
        return {"finished": True}

    @app.get("/stuck")
    async def stuck(req, res):
        (MARK / "stuck-started").write_text("1")
        try:
            await asyncio.sleep(3600)
        finally:
            (MARK / "stuck-finally").write_text("1")

    @app.get("/big")
    def big(req, res):
        (MARK / "big-answered").write_text("1")
        return Response(b"x" * BIG, media_type="application/octet-stream")

    @app.on_event("shutdown")
    def bye():
        (MARK / f"shutdown-{os.getpid()}").write_text("1")
""")


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "slowapp.py").write_text(APP_SOURCE)
    monkeypatch.setenv("MARK_DIR", str(tmp_path))
    return tmp_path


def wait_for_file(path: Path, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(1500):  # up to ~30 s
        if path.exists():
            return
        assert proc.poll() is None, "server died"
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def test_parser_uses_uvicorn_flag_names() -> None:
    args = parser().parse_args(
        [
            "run",
            "m:app",
            "--host",
            "0.0.0.0",
            "--port",
            "9",
            "--workers",
            "3",
            "--log-level",
            "debug",
            "--no-access-log",
            "--timeout-keep-alive",
            "7",
            "--timeout-graceful-shutdown",
            "2",
            "--reload",
        ]
    )
    assert (args.host, args.port, args.workers, args.log_level) == ("0.0.0.0", 9, 3, "debug")
    assert (args.access_log, args.timeout_keep_alive, args.timeout_graceful_shutdown) == (
        False,
        7.0,
        2.0,
    )
    assert args.reload is True


def test_load_app_errors_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "notapp.py").write_text("app = 42\n")
    with pytest.raises(SystemExit, match="module:app"):
        load_app("no_colon")
    with pytest.raises(SystemExit, match="could not import module 'missing_mod_xyz'"):
        load_app("missing_mod_xyz:app", str(tmp_path))
    with pytest.raises(SystemExit, match="no attribute 'nope'"):
        load_app("notapp:nope", str(tmp_path))
    with pytest.raises(SystemExit, match=r"not a fasterapi\.App"):
        load_app("notapp:app", str(tmp_path))


def test_cli_serves_seed_example(serve_cmd: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    proc = start_server(
        ["run", "hello:app", "--app-dir", "examples", "--port", str(port)], serve_cmd, port
    )
    assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"message": "Hello, World!"}
    assert httpx.get(f"http://127.0.0.1:{port}/users/42").json() == {"id": "42", "name": "John Doe"}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0


def test_sigterm_lets_in_flight_request_finish(
    app_dir: Path, serve_cmd: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    proc = start_server(
        ["run", "slowapp:app", "--app-dir", str(app_dir), "--port", str(port)], serve_cmd, port
    )
    result: dict[str, object] = {}

    def call_slow() -> None:
        r = httpx.get(f"http://127.0.0.1:{port}/slow", timeout=60)
        result["status"], result["body"] = r.status_code, r.json()

    t = threading.Thread(target=call_slow)
    t.start()
    wait_for_file(app_dir / "slow-started", proc)
    proc.send_signal(signal.SIGTERM)
    # New connections are refused once the listener is closed; the slow request is still open.
    for _ in range(1500):
        try:
            httpx.get(f"http://127.0.0.1:{port}/pid", timeout=5)
        except httpx.TransportError:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("server kept accepting after SIGTERM")
    assert proc.poll() is None
    (app_dir / "release").write_text("1")
    t.join(60)
    assert result == {"status": 200, "body": {"finished": True}}
    assert proc.wait(30) == 0
    assert (app_dir / f"shutdown-{proc.pid}").exists()


def test_two_workers_share_a_port_and_are_restarted(
    app_dir: Path, serve_cmd: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    proc = start_server(
        [
            "run",
            "slowapp:app",
            "--app-dir",
            str(app_dir),
            "--port",
            str(port),
            "--workers",
            "2",
            "--timeout-graceful-shutdown",
            "5",
        ],
        serve_cmd,
        port,
    )

    def pids(wanted: int) -> set[int]:
        seen: set[int] = set()
        for _ in range(400):
            try:
                seen.add(httpx.get(f"http://127.0.0.1:{port}/pid", timeout=5).json()["pid"])
            except httpx.TransportError:
                time.sleep(0.02)
            if len(seen) >= wanted:
                break
        return seen

    first = pids(2)
    assert len(first) == 2 and proc.pid not in first
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    replacement: set[int] = set()
    for _ in range(100):
        replacement = pids(2)
        if victim not in replacement and len(replacement) == 2:
            break
    assert len(replacement) == 2 and victim not in replacement
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    for pid in replacement:
        assert (app_dir / f"shutdown-{pid}").exists()


def test_python_m_fasterapi_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fasterapi", "run", "--help"],
        env=python_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in (
        "--host",
        "--port",
        "--workers",
        "--log-level",
        "--reload",
        "--access-log",
        "--no-access-log",
        "--timeout-keep-alive",
        "--timeout-graceful-shutdown",
    ):
        assert flag in out.stdout


def test_reload_restarts_on_change(
    tmp_path: Path, serve_cmd: list[subprocess.Popen[bytes]]
) -> None:
    src = "from fasterapi import App\napp = App()\n\n"
    src += "@app.get('/')\ndef v(req, res):\n    return '{}'\n"
    (tmp_path / "reloadme.py").write_text(src.format("v1"))
    port = free_port()
    proc = start_server(
        ["run", "reloadme:app", "--app-dir", str(tmp_path), "--port", str(port), "--reload"],
        serve_cmd,
        port,
    )
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "v1"
    (tmp_path / "reloadme.py").write_text(src.format("version-2"))
    seen = ""
    for _ in range(1500):  # up to ~30 s for the watcher to notice and the child to restart
        try:
            seen = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
        except httpx.TransportError:
            pass
        if seen == "version-2":
            break
        time.sleep(0.02)
    assert seen == "version-2"
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_graceful_deadline_cancels_stuck_handlers(
    app_dir: Path, serve_cmd: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    args = ["run", "slowapp:app", "--app-dir", str(app_dir), "--port", str(port)]
    proc = start_server([*args, "--timeout-graceful-shutdown", "0.2"], serve_cmd, port)

    def call_stuck() -> None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/stuck", timeout=60)
        except httpx.TransportError:
            pass

    t = threading.Thread(target=call_stuck)
    t.start()
    wait_for_file(app_dir / "stuck-started", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0  # exits although the handler would never finish by itself
    t.join(30)
    assert (app_dir / "stuck-finally").exists()
    assert (app_dir / f"shutdown-{proc.pid}").exists()


def test_sigterm_does_not_cut_a_queued_response_short(
    app_dir: Path, serve_cmd: list[subprocess.Popen[bytes]]
) -> None:
    """A response already handed to the engine but still queued for a slow reader goes out in
    full after SIGTERM: the drain waits for the connection, not only for the handler."""
    port = free_port()
    args = ["run", "slowapp:app", "--app-dir", str(app_dir), "--port", str(port)]
    proc = start_server(args, serve_cmd, port)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for_file(app_dir / "big-answered", proc)
        time.sleep(0.3)  # the handler has returned: the exchange is over, the bytes queued
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the drain runs while we have read nothing yet
        received = bytearray()
        sock.settimeout(30)
        while chunk := sock.recv(1 << 20):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length: 50331648" in head.lower()
    assert len(body) == 48 * 1024 * 1024
    assert proc.wait(30) == 0
