"""The official MCP conformance suite's client scenarios, run with
examples/mcp/conformance_client.py (fasterapi.mcp.MCPClient), as a pytest judge: passes when the
failing scenarios are exactly those in expected-failures/fasterapi-client-<version>.yml. Skips
locally when Node 22 or a suite is missing; under CI=true that is a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "run_client_conformance.py"
ROOT = HERE.parents[3]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> list[str]:
    sys.path.insert(0, str(HERE))
    try:
        from run_conformance import missing_tools
    finally:
        sys.path.remove(str(HERE))
    return missing_tools()


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("version", ["0.1.16", "0.2.0-alpha.12"])
def test_client_conformance(version: str, tmp_path: Path) -> None:
    if missing := _missing():
        msg = "not installed (bash scripts/install-node22.sh): " + ", ".join(missing)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    cmd = [sys.executable, str(RUNNER), "--version", version, "--out", str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"
