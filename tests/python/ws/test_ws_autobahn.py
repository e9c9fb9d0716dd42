"""Autobahn's fuzzing cases (kosoku) against the Python App's echo route, the CI subset:
every section, the long ones (9, 12, 13) cut to a few cases. The whole suite:
`python3 benchmarks/ws/autobahn_app.py`."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, require_module

require_module("kosoku")


@pytest.mark.timeout(600)
def test_autobahn_reduced_against_the_python_app() -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/ws/autobahn_app.py", "--reduced"],
        cwd=ROOT, capture_output=True, text=True, timeout=580,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout
    count = int(done.stdout.split(" cases in ")[0].rsplit("\n", 1)[-1])
    assert count >= 250, done.stdout  # the subset really ran
