"""Runs the FastAPI parity harness (tests/compat/run.py) and fails when more apps answer
differently from FastAPI than tests/compat/baseline.txt allows.

The ceiling is on apps that differ, not a floor on apps that are equal: how many tutorial apps
import at all on both sides depends on the environment (e.g. 313 under Python 3.11 with
pydantic 2.13, 310 under 3.12 with pydantic 2.14), while the number that differ did not."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def baseline() -> dict[str, int]:
    ceiling = {}
    for line in (HERE / "baseline.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split()
            ceiling[key] = int(value)
    return ceiling


def differing(match: re.Match[str]) -> int:
    return int(match.group(2)) - int(match.group(1))


def test_fastapi_tutorial_apps_answer_as_fastapi() -> None:
    run = subprocess.run([sys.executable, str(HERE / "run.py")], capture_output=True,
                         text=True, timeout=600)
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-3000:]
    apps = re.search(r"^apps (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    openapi = re.search(r"^openapi (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    assert apps and openapi, run.stdout
    ceiling = baseline()
    # the tutorial must actually have been replayed: hundreds of apps, not an empty run
    assert int(apps.group(2)) >= 300, run.stdout
    assert int(openapi.group(2)) >= 300, run.stdout
    assert differing(apps) <= ceiling["apps_differing"], run.stdout
    assert differing(openapi) <= ceiling["openapi_differing"], run.stdout


def test_fastapi_tutorial_apps_unchanged_through_the_asgi_adapter() -> None:
    """run.py --asgi: the apps unchanged (real fastapi), served by the engine through
    fasterapi's ASGI adapter (`fasterapi run main:app` for an ASGI app)."""
    run = subprocess.run([sys.executable, str(HERE / "run.py"), "--asgi"], capture_output=True,
                         text=True, timeout=600)
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-3000:]
    apps = re.search(r"^asgi apps (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    openapi = re.search(r"^asgi openapi (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    assert apps and openapi, run.stdout
    ceiling = baseline()
    assert int(apps.group(2)) >= 300, run.stdout
    assert int(openapi.group(2)) >= 300, run.stdout
    assert differing(apps) <= ceiling["asgi_apps_differing"], run.stdout
    assert differing(openapi) <= ceiling["asgi_openapi_differing"], run.stdout
    # the native path for plain FastAPI routes (fasterapi/asgi/fastapi_native.py) was taken
    native = re.search(r"^asgi native routes (\d+) in (\d+) apps", run.stdout, re.MULTILINE)
    assert native and int(native.group(1)) >= 100, run.stdout
