"""The servers under test: how to start each one, and why one is skipped when it can't be."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import nginx

E2E_DIR = Path(__file__).resolve().parent.parent
APPS_DIR = E2E_DIR / "apps"
REPO_DIR = E2E_DIR.parent.parent
PY = sys.executable

# argv for a server on port, given a scratch dir it may write to.
ArgvFn = Callable[[int, Path], list[str]]


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    argv: ArgvFn
    missing: Callable[[], str | None]  # returns why the server cannot run, or None
    env: dict[str, str] | None = None


def _modules(*names: str) -> Callable[[], str | None]:
    def check() -> str | None:
        absent = [n for n in names if importlib.util.find_spec(n) is None]
        return f"pip package(s) not installed: {', '.join(absent)}" if absent else None
    return check


def _fasterapi_env() -> dict[str, str]:
    # The in-tree package works without `pip install -e .` when it is on the path.
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": f"{REPO_DIR}{os.pathsep}{path}" if path else str(REPO_DIR)}


def _fasterapi_missing() -> str | None:
    probe = subprocess.run(
        [PY, "-c", "from fasterapi import App; App"], capture_output=True, text=True,
        env=dict(os.environ, **_fasterapi_env()), timeout=60, check=False)
    if probe.returncode == 0:
        return None
    last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
    return f"`from fasterapi import App` fails: {last}"


def _uvicorn(port: int, _tmp: Path) -> list[str]:
    return [PY, "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(APPS_DIR),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning"]


def _granian(port: int, _tmp: Path) -> list[str]:
    return [PY, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "1",
            "--no-ws", "--log-level", "warning", "--working-dir", str(APPS_DIR),
            "fastapi_app:app"]


def _nginx_missing() -> str | None:
    return None if nginx.nginx_binary() else "nginx not installed (scripts/install-deps.sh)"


def _nginx(port: int, tmp: Path) -> list[str]:
    binary = nginx.nginx_binary()
    assert binary is not None, "_nginx: nginx missing"
    return nginx.nginx_argv(binary, tmp, nginx.render_config(tmp, port))


def default_hello_server() -> Path:
    """Returns build-bench/…/hello_server if it exists, else build/…/hello_server."""
    candidates = [REPO_DIR / d / "examples/cpp/hello_server" for d in ("build-bench", "build")]
    return next((c for c in candidates if c.exists()), candidates[0])


def server_specs(hello_server: Path) -> dict[str, ServerSpec]:
    """Returns every server the harness knows, keyed by ServerSpec.key."""
    def hello_missing() -> str | None:
        if os.access(hello_server, os.X_OK):
            return None
        return (f"{hello_server} not built (cmake --build build-bench --target hello_server)")

    # The C++ 1MRC entry (examples/cpp/onemrc_server.cpp), built beside hello_server.
    onemrc_server = hello_server.parent / "onemrc_server"

    def onemrc_missing() -> str | None:
        if os.access(onemrc_server, os.X_OK):
            return None
        return f"{onemrc_server} not built (cmake --build build-bench --target onemrc_server)"

    specs = [
        ServerSpec("fasterapi", "FasterAPI",
                   lambda p, _t: [PY, str(APPS_DIR / "fasterapi_app.py"), "--port", str(p)],
                   _fasterapi_missing, _fasterapi_env()),
        ServerSpec("fastapi", "FastAPI + uvicorn", _uvicorn,
                   _modules("fastapi", "uvicorn", "uvloop", "httptools")),
        ServerSpec("fastapi-async-root", "FastAPI + uvicorn, async `/`", _uvicorn,
                   _modules("fastapi", "uvicorn", "uvloop", "httptools"),
                   {"FA_BENCH_FASTAPI_ROOT": "async"}),
        ServerSpec("granian", "FastAPI + granian", _granian,
                   _modules("fastapi", "granian", "uvloop")),
        ServerSpec("socketify", "socketify",
                   lambda p, _t: [PY, str(APPS_DIR / "socketify_app.py"), "--port", str(p)],
                   _modules("socketify")),
        ServerSpec("hello_server", "C++ hello_server",
                   lambda p, _t: [str(hello_server), "--host", "127.0.0.1", "--port", str(p)],
                   hello_missing),
        ServerSpec("onemrc_server", "C++ onemrc_server",
                   lambda p, _t: [str(onemrc_server), "--host", "127.0.0.1", "--port", str(p)],
                   onemrc_missing),
        ServerSpec("nginx", "nginx return 200", _nginx, _nginx_missing),
    ]
    return {s.key: s for s in specs}
