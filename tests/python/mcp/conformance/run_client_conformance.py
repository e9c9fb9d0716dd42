"""Runs the official MCP conformance suite's CLIENT scenarios with our client and judges them.

For each pinned suite version: `conformance client --command "python3
examples/mcp/conformance_client.py"` (the suite starts a mock server per scenario and runs the
command with its URL and MCP_CONFORMANCE_SCENARIO), read each scenario's checks.json, and
compare the failing scenarios with expected-failures/fasterapi-client-<version>.yml (`client:`
section, one `  - scenario  # reason` a line).

Exit status as run_conformance.py: 0 as expected; 1 on an unexpected failure, an unexpected
pass or a listed scenario that did not run; 2 when Node 22 or the suite is missing.

    python3 tests/python/mcp/conformance/run_client_conformance.py [--version 0.1.16]
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from run_conformance import (
    _SUMMARY_LINE,
    HERE,
    NODE22,
    ROOT,
    VersionResult,
    missing_tools,
    suite_entry,
)

# 0.1.16: every client scenario it has (--suite all); 0.2.0-alpha.12: what 2026-07-28 requires.
CLIENT_SUITES: dict[str, list[str]] = {
    "0.1.16": ["--suite", "all"],
    "0.2.0-alpha.12": ["--requirements", "2026-07-28"],
}
CLIENT = ROOT / "examples" / "mcp" / "conformance_client.py"
_STAMP = re.compile(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


def read_expected(path: Path) -> dict[str, str]:
    """scenario -> reason from a `client:` baseline; every entry needs its reason."""
    expected: dict[str, str] = {}
    for raw in path.read_text().splitlines() if path.exists() else []:
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#") or line.startswith("client:"):
            continue
        m = re.match(r"^\s*-\s*(?P<name>[^\s#]+)\s*#\s*(?P<reason>\S.*)$", line)
        if not m:
            raise ValueError(f"{path}: cannot read {raw!r} (`  - name  # why`)")
        expected[m.group("name")] = m.group("reason")
    return expected


def parse_results(out_dir: Path, stdout: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    scenarios: dict[str, str] = {}
    failed: dict[str, list[str]] = {}
    for checks_file in sorted(out_dir.rglob("checks.json")):
        name = _STAMP.sub("", str(checks_file.parent.relative_to(out_dir)))
        bad = [
            f"{c.get('status')} {c.get('id')}: {(c.get('errorMessage') or '').strip()[:300]}"
            for c in json.loads(checks_file.read_text())
            if c.get("status") in ("FAILURE", "WARNING")
        ]
        scenarios[name] = "fail" if bad else "pass"
        if bad:
            failed[name] = bad
    for line in stdout.splitlines():
        s = _SUMMARY_LINE.match(line)
        if s and s.group("name") not in scenarios:
            scenarios[s.group("name")] = "fail" if int(s.group("f")) else "pass"
    return scenarios, failed


def run_version(version: str, out_root: Path, expected_dir: Path) -> VersionResult:
    res = VersionResult(version)
    out_dir = out_root / f"client-{version}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(CLIENT))}"
    cmd = [
        str(NODE22), str(suite_entry(version)), "client", "--command", command,
        "-o", str(out_dir), *CLIENT_SUITES[version],
    ]  # fmt: skip
    t0 = time.monotonic()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    res.seconds = round(time.monotonic() - t0, 1)
    res.suite_exit = run.returncode
    (out_root / f"client-{version}.suite.log").write_text(run.stdout + run.stderr)
    res.scenarios, res.failed_checks = parse_results(out_dir, run.stdout)
    # sse-retry times the reconnection to +200 ms; on a loaded machine (the suite runs its
    # scenarios in parallel) a late wake-up alone is retried once, on its own.
    timing = res.failed_checks.get("sse-retry", [])
    if timing and all(c.startswith("WARNING client-sse-retry-timing") for c in timing):
        again = out_root / f"client-{version}-sse-retry"
        shutil.rmtree(again, ignore_errors=True)
        one = [*cmd[: cmd.index("-o")], "-o", str(again), "--scenario", "sse-retry"]
        subprocess.run(one, capture_output=True, text=True, timeout=120, cwd=ROOT)
        retry_scenarios, retry_failed = parse_results(again, "")
        if "sse-retry" in retry_scenarios:
            res.scenarios["sse-retry"] = retry_scenarios["sse-retry"]
            res.failed_checks["sse-retry"] = retry_failed.get("sse-retry", [])
    if not res.scenarios:
        res.unexpected_failures.append(f"(no scenario ran; suite exit {run.returncode})")
        return res
    expected = read_expected(expected_dir / f"fasterapi-client-{version}.yml")
    for name, verdict in sorted(res.scenarios.items()):
        if verdict == "fail" and name not in expected:
            res.unexpected_failures.append(name)
        if verdict == "pass" and name in expected:
            res.unexpected_passes.append(name)
    res.listed_not_run = sorted(set(expected) - set(res.scenarios))
    return res


def main(argv: list[str] | None = None) -> int:
    from run_conformance import report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", choices=sorted(CLIENT_SUITES), action="append")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mcp-conformance")
    parser.add_argument("--expected-dir", type=Path, default=HERE / "expected-failures")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        print("not installed (run scripts/install-node22.sh):", *missing, sep="\n  ")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_version(v, args.out, args.expected_dir) for v in args.version or CLIENT_SUITES]
    report("fasterapi-client", results)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
