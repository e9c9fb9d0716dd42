"""Run with FastAPI in the extracted fastapi tree: lists every docs_src module that FastAPI
itself serves (imports, and has an `app` that is a Starlette/FastAPI application) and records,
through recorder_plugin, GET /openapi.json for each, plus the GET routes without path
parameters of apps the tutorial tests sent nothing to.

Usage: COMPAT_RECORD=out.jsonl python derive.py APPS_OUT.json"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pathlib
import sys
import warnings

sys.path.insert(0, os.getcwd())
import recorder_plugin
from starlette.applications import Starlette
from starlette.testclient import TestClient


def modules() -> list[str]:
    found = []
    for path in sorted(pathlib.Path("docs_src").rglob("*.py")):
        if path.name == "__init__.py" or path.name.startswith("test_"):
            continue
        found.append(".".join(path.with_suffix("").parts))
    return found


def recorded_modules(record: str) -> set[str]:
    with open(record, encoding="utf-8") as f:
        return {json.loads(line)["module"] for line in f if line.strip()}


def main() -> None:
    warnings.simplefilter("ignore")
    tested = recorded_modules(os.environ["COMPAT_RECORD"])
    apps: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name in modules():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                module = importlib.import_module(name)
        except BaseException as e:
            skipped[name] = f"{type(e).__name__}: {e}"[:200]
            continue
        app = getattr(module, "app", None)
        if not isinstance(app, Starlette):
            continue
        apps[name] = type(app).__name__
        client = TestClient(app, raise_server_exceptions=False)
        recorder_plugin._current_test = "derived"
        with contextlib.suppress(Exception):
            client.get("/openapi.json")
        if name in tested:
            continue
        for route in getattr(app, "routes", []):
            path = getattr(route, "path", "")
            methods = getattr(route, "methods", None) or set()
            if "GET" in methods and "{" not in path and path not in ("/openapi.json",):
                with contextlib.suppress(Exception):
                    client.get(path)
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"apps": apps, "not_served_by_fastapi": skipped}, f, indent=1)


if __name__ == "__main__":
    main()
