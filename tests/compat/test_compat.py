"""Runs the FastAPI parity harness (tests/compat/run.py) and fails when fewer apps answer as
FastAPI does than tests/compat/baseline.txt records."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def baseline() -> dict[str, int]:
    floor = {}
    for line in (HERE / "baseline.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split()
            floor[key] = int(value)
    return floor


def test_fastapi_tutorial_apps_answer_as_fastapi() -> None:
    run = subprocess.run([sys.executable, str(HERE / "run.py")], capture_output=True,
                         text=True, timeout=600)
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-3000:]
    apps = re.search(r"^apps (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    openapi = re.search(r"^openapi (\d+)/(\d+) equal", run.stdout, re.MULTILINE)
    assert apps and openapi, run.stdout
    floor = baseline()
    # the tutorial must actually have been replayed: hundreds of apps, not an empty run
    assert int(apps.group(2)) >= 300, run.stdout
    assert int(apps.group(1)) >= floor["apps"], run.stdout
    assert int(openapi.group(1)) >= floor["openapi"], run.stdout


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
    floor = baseline()
    assert int(apps.group(2)) >= 300, run.stdout
    assert int(apps.group(1)) >= floor["asgi_apps"], run.stdout
    assert int(openapi.group(1)) >= floor["asgi_openapi"], run.stdout
