"""FastAPI's docs_src security apps (the pinned fastapi commit of tests/compat/pin.py), served
by FastAPI and, imports rewritten, by FasterAPI: every GET route without parameters, with no,
wrong and right credentials, answers the same status, WWW-Authenticate header and body. (The
parity harness in tests/compat compares bodies but not headers.)"""

import base64
import importlib.util
import re
import subprocess
import types
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from fastapi.testclient import TestClient as FastAPIClient

from fasterapi.testing import TestClient


def _compat(name: str) -> Any:
    """tests/compat/<name>.py (the harness's pin and mirror lookup), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"compat_{name}", COMPAT / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COMPAT = ROOT / "tests" / "compat"
FASTAPI_COMMIT = _compat("pin").FASTAPI_COMMIT
mirror = _compat("run").mirror

CREDENTIALS = [
    {},
    {"Authorization": "Bearer nope"},
    {"Authorization": "Basic " + base64.b64encode(b"stanleyjobson:swordfish").decode()},
    {"Authorization": "Basic " + base64.b64encode(b"x:y").decode()},
    {"Authorization": "Basic zz"},
    {"Authorization": "Other x"},
]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(mirror()), *args], capture_output=True, text=True, check=True
    ).stdout


def _apps() -> list[str]:
    names = _git("ls-tree", "-r", "--name-only", FASTAPI_COMMIT, "docs_src/security/").split()
    return [n for n in names if n.endswith(".py") and not n.endswith("__init__.py")]


def _load(source: str, name: str) -> Any:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("path", _apps())
def test_security_app_answers(path: str) -> None:
    source = _git("show", f"{FASTAPI_COMMIT}:{path}")
    name = Path(path).stem
    ref = _load(source, f"fastapi_{name}")
    ours = _load(re.sub(r"\bfastapi\b", "fasterapi", source), f"fasterapi_{name}")
    routes = sorted(
        r.path
        for r in ref.app.routes
        if "GET" in getattr(r, "methods", ())
        and "{" not in r.path
        and not r.path.startswith(("/docs", "/redoc", "/openapi"))
    )
    assert routes, path
    a = FastAPIClient(ref.app)
    with TestClient(ours.app) as b:
        for route in routes:
            for headers in CREDENTIALS:
                ra, rb = a.get(route, headers=headers), b.get(route, headers=headers)
                want = (ra.status_code, ra.headers.get("www-authenticate"), ra.text)
                got = (rb.status_code, rb.headers.get("www-authenticate"), rb.text)
                assert got == want, f"{path} GET {route} {headers}"
