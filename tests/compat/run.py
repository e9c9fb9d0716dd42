"""FastAPI parity harness: FastAPI's docs_src tutorial apps served by FastAPI and by
FasterAPI (imports rewritten `fastapi` -> `fasterapi`), the same requests sent to both,
answers compared on status, content type and body.

1. The fastapi repository's docs_src/ and tests/test_tutorial/ at the pinned commit are
   extracted twice into build/compat/: unchanged, and with `fastapi` imports rewritten.
2. FastAPI side: the tutorial tests run under pytest with recorder_plugin, which records
   every request their TestClient sends to a docs_src app and FastAPI's answer;
   derive.py lists the apps and records GET /openapi.json (and parameterless GETs for apps
   no test reaches).
3. FasterAPI side: replay_worker.py shards import each rewritten app, serve it on a real
   socket and send the recorded requests.
4. Prints "apps N/M equal" (every request except /openapi.json, /docs, /redoc), the same for
   the OpenAPI documents, and the failing apps grouped by category. build/compat/report.json
   holds every difference.

With --asgi the apps are served unchanged (real fastapi) by the engine through fasterapi's
ASGI adapter (fasterapi/asgi) instead, and the lines read "asgi apps N/M equal".

Usage: python3 tests/compat/run.py [--jobs N] [--only REGEX] [-v] [--asgi]"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from compare import category, diff_category, difference, is_docs_request  # noqa: E402
from expected import expected_app_error, expected_reason  # noqa: E402
from pin import DEFAULT_MIRROR, FASTAPI_COMMIT, FASTAPI_REPO_URL, FASTAPI_VERSION  # noqa: E402

_HANG_SECONDS = 90  # a worker that reports nothing for this long is killed; its app is a hang
# Both sides hash strings alike, so a `set[str]` field is serialized in the same order.
_HASH_SEED = "0"
_IMPORT_LINE = re.compile(r"^(\s*)(from|import)\s+fastapi\b", re.MULTILINE)


def mirror() -> pathlib.Path:
    """The fastapi git repository holding the pinned commit (fetched once if absent)."""
    path = pathlib.Path(os.environ.get("FASTAPI_REPO", DEFAULT_MIRROR))
    if path.exists():
        return path
    cache = ROOT / "build" / "compat" / "fastapi.git"
    if not cache.exists():
        subprocess.run(["git", "init", "-q", "--bare", str(cache)], check=True)
    has = subprocess.run(["git", "-C", str(cache), "cat-file", "-e", FASTAPI_COMMIT],
                         capture_output=True)
    if has.returncode != 0:
        subprocess.run(["git", "-C", str(cache), "fetch", "-q", "--depth=1", FASTAPI_REPO_URL,
                        FASTAPI_COMMIT], check=True)
    return cache


def extract(dest: pathlib.Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(mirror()), "archive", FASTAPI_COMMIT, "docs_src", "tests/__init__.py",
         "tests/utils.py", "tests/test_tutorial"], check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def rewrite(tree: pathlib.Path) -> None:
    """`from fastapi...` -> `from fasterapi...`, `import fastapi` -> `import fasterapi`."""
    for path in tree.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = _IMPORT_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)} fasterapi", text)
        new = re.sub(r"^(\s*)import fasterapi$", r"\1import fasterapi as fastapi", new,
                     flags=re.MULTILINE)
        if new != text:
            path.write_text(new, encoding="utf-8")


def record(tree: pathlib.Path, out: pathlib.Path, apps_out: pathlib.Path) -> None:
    env = dict(os.environ, COMPAT_RECORD=str(out), PYTHONHASHSEED=_HASH_SEED,
               PYTHONPATH=os.pathsep.join([str(HERE), str(tree)]))
    subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_tutorial", "-p", "recorder_plugin", "-q",
         "-o", "addopts=", "-W", "ignore", "--continue-on-collection-errors",
         "-p", "no:cacheprovider", "--timeout", "60"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(HERE / "derive.py"), str(apps_out)], cwd=tree, env=env,
                   check=True, stdout=subprocess.DEVNULL)


def replay(tree: pathlib.Path, apps: list[dict[str, Any]], jobs: int,
           work: pathlib.Path) -> dict[str, dict[str, Any]]:
    """Runs the shards in parallel; a worker that dies or hangs is restarted after its app."""
    results: dict[str, dict[str, Any]] = {}
    pending = [apps[i::jobs] for i in range(jobs)]
    running: list[tuple[subprocess.Popen[bytes], pathlib.Path, list[dict[str, Any]], float]] = []
    counter = 0

    def launch(shard: list[dict[str, Any]]) -> None:
        nonlocal counter
        counter += 1
        shard_file = work / f"shard{counter}.json"
        out = work / f"results{counter}.jsonl"
        shard_file.write_text(json.dumps(shard))
        out.touch()
        proc = subprocess.Popen([sys.executable, str(HERE / "replay_worker.py"), str(shard_file),
                                 str(out)], cwd=tree,
                                env=dict(os.environ, PYTHONHASHSEED=_HASH_SEED),
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        running.append((proc, out, shard, time.monotonic()))

    def collect(out: pathlib.Path) -> tuple[str | None, int]:
        started = None
        lines = out.read_text(encoding="utf-8").splitlines()
        for line in lines:
            item = json.loads(line)
            if "start" in item:
                started = item["start"]
            else:
                results[item["module"]] = item
                started = None
        return started, len(lines)

    for shard in pending:
        if shard:
            launch(shard)
    sizes: dict[pathlib.Path, int] = {}
    while running:
        time.sleep(0.5)
        for entry in list(running):
            proc, out, shard, _since = entry
            started, size = collect(out)
            if size != sizes.get(out):
                sizes[out] = size
                running[running.index(entry)] = entry = (proc, out, shard, time.monotonic())
            done = proc.poll() is not None
            hung = not done and time.monotonic() - entry[3] > _HANG_SECONDS
            if not done and not hung:
                continue
            if hung:
                proc.kill()
                proc.wait()
            running.remove(entry)
            if started is not None:
                results[started] = {"module": started, "error": "hang" if hung else "crash",
                                    "detail": "worker killed after no progress" if hung
                                    else f"worker exited with {proc.returncode}"}
            rest = [a for a in shard if a["module"] not in results]
            if rest:
                launch(rest)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("FASTERAPI_COMPAT_JOBS",
                                                                       os.cpu_count() or 2)))
    parser.add_argument("--only", help="regex: only apps whose module matches")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failing app")
    parser.add_argument("--asgi", action="store_true",
                        help="ASGI mode: serve the apps unchanged (real fastapi) through "
                        "fasterapi's ASGI adapter; prints 'asgi apps N/M equal'")
    args = parser.parse_args()

    import fastapi
    if fastapi.__version__ != FASTAPI_VERSION:
        print(f"compat: fastapi {FASTAPI_VERSION} is pinned, {fastapi.__version__} installed "
              f"(pip install fastapi=={FASTAPI_VERSION})", file=sys.stderr)
        return 2
    base = ROOT / "build" / "compat"
    base.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=base))
    started = time.monotonic()
    try:
        theirs, ours = work / "fastapi", work / "fasterapi"
        extract(theirs)
        extract(ours)
        if not args.asgi:
            rewrite(ours)
        recorded, apps_file = work / "recorded.jsonl", work / "apps.json"
        recorded.touch()
        record(theirs, recorded, apps_file)
        catalog = json.loads(apps_file.read_text())
        by_module: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for line in recorded.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item["module"] in catalog["apps"] and not item["overrides"]:
                by_module[item["module"]].append(item)
        names = sorted(catalog["apps"])
        if args.only:
            names = [n for n in names if re.search(args.only, n)]
        apps = [{"module": n, "requests": by_module[n]} for n in names]
        if args.asgi:
            os.environ["FASTERAPI_COMPAT_ASGI"] = "1"  # read by replay_worker.py
        results = replay(ours, apps, max(1, args.jobs), work)
        report = summarize(apps, results)
        report["seconds"] = round(time.monotonic() - started, 1)
        report["not_served_by_fastapi"] = catalog["not_served_by_fastapi"]
        report["mode"] = "asgi " if args.asgi else ""
        name = "report-asgi.json" if args.asgi else "report.json"
        (base / name).write_text(json.dumps(report, indent=1))
        print_report(report, args.verbose)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def summarize(apps: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    per_app: dict[str, Any] = {}
    for app in apps:
        name = app["module"]
        result = results.get(name, {"error": "crash", "detail": "no result"})
        entry: dict[str, Any] = {"requests": 0, "docs_requests": 0, "differences": [],
                                 "docs_differences": [], "expected": []}
        if "error" in result and (
            reason := expected_app_error(name, result.get("detail", ""))
        ) is not None:
            entry["expected"].append({"path": "", "reason": reason})
            entry["requests"] = len(app["requests"])
            per_app[name] = entry
            continue
        if "error" in result:
            entry["category"] = category(result["error"], result.get("detail", ""))
            entry["detail"] = result.get("detail")
            entry["trace"] = result.get("trace")
            per_app[name] = entry
            continue
        for req, answer in zip(app["requests"], result["answers"], strict=True):
            docs = is_docs_request(req["path"], req)
            entry["docs_requests" if docs else "requests"] += 1
            diff = difference(req, answer)
            if diff is None:
                continue
            reason = expected_reason(name, req["path"], diff, req, answer)
            if reason is not None:
                entry["expected"].append({"path": req["path"], "reason": reason})
                continue
            entry["docs_differences" if docs else "differences"].append(
                {"method": req["method"], "path": req["path"],
                 "test": req["test"][req["test"].find("tests/") :], "diff": diff})
        if entry["differences"]:
            entry["category"] = diff_category(entry["differences"][0]["diff"])
        if entry["docs_differences"]:
            entry["docs_category"] = diff_category(entry["docs_differences"][0]["diff"])
        if result.get("native_routes"):
            entry["native_routes"] = result["native_routes"]
        per_app[name] = entry
    return {"fastapi_commit": FASTAPI_COMMIT, "fastapi_version": FASTAPI_VERSION,
            "apps": per_app}


def counts(report: dict[str, Any]) -> dict[str, int]:
    apps = report["apps"].values()
    # An app that failed to load counts in both groups; one that loaded counts where it
    # answered at least one request of the group.
    with_requests = [a for a in apps if a["requests"] > 0 or "detail" in a]
    with_docs = [a for a in apps if a["docs_requests"] > 0 or "detail" in a]
    return {
        "apps_total": len(with_requests),
        "apps_equal": sum(1 for a in with_requests if "category" not in a),
        "openapi_total": len(with_docs),
        "openapi_equal": sum(1 for a in with_docs
                             if "detail" not in a and not a["docs_differences"]),
        "no_requests": sum(1 for a in apps if a["requests"] == 0 and "detail" not in a),
    }


def print_report(report: dict[str, Any], verbose: bool) -> None:
    c = counts(report)
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for name, app in report["apps"].items():
        if "category" in app:
            groups[app["category"]].append(name)
    print(f"fastapi {report['fastapi_version']} (docs_src at {report['fastapi_commit'][:12]}), "
          f"{report['seconds']} s")
    mode = report.get("mode", "")
    print(f"{mode}apps {c['apps_equal']}/{c['apps_total']} equal")
    print(f"{mode}openapi {c['openapi_equal']}/{c['openapi_total']} equal "
          "(/openapi.json, /docs, /redoc)")
    print(f"({c['no_requests']} apps answered only docs requests: no tutorial test or "
          "parameterless GET route reaches them)")
    if mode:  # fasterapi/asgi/fastapi_native.py: FastAPI routes answered natively
        native = [a["native_routes"] for a in report["apps"].values() if "native_routes" in a]
        print(f"asgi native routes {sum(native)} in {len(native)} apps")
    if verbose:
        docs: collections.Counter[str] = collections.Counter(
            app["docs_category"] for app in report["apps"].values() if "docs_category" in app)
        print("openapi differences by category (first difference of each app):")
        for cat, n in docs.most_common():
            print(f"  {n:3d}  {cat}")
    reasons: collections.Counter[str] = collections.Counter(
        e["reason"] for app in report["apps"].values() for e in app["expected"])
    if reasons:
        print("counted as equal, differing on purpose or by chance (tests/compat/expected.py):")
        for reason, n in reasons.most_common():
            print(f"  {n:3d}  {reason}")
    print("failing apps by category:")
    for cat, names in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {len(names):3d}  {cat}")
        if verbose:
            for name in names:
                app = report["apps"][name]
                first = app["differences"][0]["diff"] if app["differences"] else app["detail"]
                print(f"         {name}: {first[:200]}")


if __name__ == "__main__":
    sys.exit(main())
