"""Suites must not go green by skipping: without the extension they fail; in CI (CI set) a
missing dev dependency fails too. Checked by running them with the import made to fail."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, python_env

HERE = Path(__file__).resolve().parent

BLOCKER = textwrap.dedent("""
    import sys

    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name in {BLOCKED!r}:
                raise ModuleNotFoundError(f"{{name}} blocked by the test", name=name)
            return None

    sys.meta_path.insert(0, _Block())
""")


def run_blocked(
    tmp_path: Path, blocked: set[str], args: list[str], ci: bool, require_pg: bool = False
) -> str:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER.format(BLOCKED=blocked))
    env = python_env()
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    env.pop("CI", None)
    env.pop("FASTERAPI_REQUIRE_PG", None)
    if ci:
        env["CI"] = "true"
    if require_pg:
        env["FASTERAPI_REQUIRE_PG"] = "1"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out.stdout + out.stderr


def summary(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_json_suite_fails_without_the_extension(tmp_path: Path) -> None:
    out = run_blocked(tmp_path, {"fasterapi._native"}, ["tests/python/test_json.py"], ci=False)
    assert re.search(r"\berror", summary(out)), out[-3000:]
    assert "skipped" not in summary(out), out[-3000:]


def test_native_futures_fail_without_the_extension(tmp_path: Path) -> None:
    out = run_blocked(
        tmp_path,
        {"fasterapi._native"},
        ["tests/python/test_async_helpers.py", "-k", "native"],
        ci=False,
    )
    assert "skipped" not in summary(out), out[-3000:]
    assert re.search(r"\b(failed|error)", summary(out)), out[-3000:]


def test_missing_dev_dependency_skips_locally_but_fails_in_ci(tmp_path: Path) -> None:
    args = ["tests/python/test_async_helpers.py", "-k", "uvloop"]
    local = run_blocked(tmp_path, {"uvloop"}, args, ci=False)
    assert "skipped" in summary(local) and "failed" not in summary(local), local[-3000:]
    ci = run_blocked(tmp_path, {"uvloop"}, args, ci=True)
    assert re.search(r"\b(failed|error)", summary(ci)), ci[-3000:]
    assert "skipped" not in summary(ci), ci[-3000:]
    # scripts/test.sh (CI) says FASTERAPI_REQUIRE_PG=1 rather than CI: strict as well.
    strict = run_blocked(tmp_path, {"uvloop"}, args, ci=False, require_pg=True)
    assert re.search(r"\b(failed|error)", summary(strict)), strict[-3000:]


@pytest.mark.parametrize("path", sorted(p.name for p in HERE.glob("test_*.py")))
def test_no_importorskip_of_our_own_package(path: str) -> None:
    text = (HERE / path).read_text()
    assert not re.search(r"importorskip\(\s*[\"']fasterapi", text), path
