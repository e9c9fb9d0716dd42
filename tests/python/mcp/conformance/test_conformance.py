"""The official MCP conformance suite (npm @modelcontextprotocol/conformance) as a pytest judge.

Each test runs run_conformance.py for one server over every pinned suite version and passes when
the failing scenarios are exactly those in expected-failures/<server>-<version>.yml.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "run_conformance.py"
ROOT = HERE.parents[3]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> list[str]:
    sys.path.insert(0, str(HERE))
    try:
        from run_conformance import missing_tools
    finally:
        sys.path.remove(str(HERE))
    return missing_tools()


def _need_tools() -> None:
    """Skips locally when Node 22 or the suites are absent; under CI=true that is a failure."""
    if missing := _missing():
        msg = "not installed (bash scripts/install-node22.sh): " + ", ".join(missing)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def _run(server: str, tmp_path: Path) -> None:
    _need_tools()
    cmd = [sys.executable, str(RUNNER), "--server", server, "--out", str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"


def test_conformance_tools_installed() -> None:
    _need_tools()


@pytest.mark.timeout(1200)
def test_sdk_reference_conformance(tmp_path: Path) -> None:
    """The harness itself: the official SDK serving the same fixtures, judged the same way."""
    _run("sdk", tmp_path)


@pytest.mark.timeout(1200)
def test_fasterapi_conformance(tmp_path: Path) -> None:
    _run("fasterapi", tmp_path)
