"""Run with FasterAPI in the rewritten docs_src tree (`fastapi` imports changed to
`fasterapi`): for each app of a shard, import its module, serve it on a real socket
(fasterapi.testing.TestClient) and send the recorded requests; write one JSON line per app
with FasterAPI's answers (or the error that stopped the app) to the results file.

Usage: python replay_worker.py SHARD.json RESULTS.jsonl
A line {"start": module} precedes each app, so a crash or hang is pinned on the right app."""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import sys
import traceback
import warnings
from typing import Any

sys.path.insert(0, os.getcwd())

_DROP = {"content-length", "transfer-encoding"}  # httpx computes these from the body
_REQUEST_TIMEOUT = 15.0  # seconds; a request that takes longer counts as a hang


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}".splitlines()[0][:300] if str(e) else type(e).__name__


def replay_app(module_name: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {"module": module_name}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module = importlib.import_module(module_name)
    except BaseException as e:
        result["error"] = "import"
        result["detail"] = _error(e)
        result["trace"] = traceback.format_exc()[-2000:]
        return result
    app = getattr(module, "app", None)
    if app is None:
        result["error"] = "import"
        result["detail"] = "module has no `app`"
        return result
    from fasterapi.testing import TestClient

    served = app
    if os.environ.get("FASTERAPI_COMPAT_ASGI"):  # run.py --asgi: the unchanged FastAPI app
        from fasterapi.asgi import serve_app

        served = serve_app(app)
    answers = []
    try:
        client = TestClient(served, follow_redirects=False, timeout=_REQUEST_TIMEOUT)
        client.headers.clear()  # send the recorded headers only (no httpx defaults)
        client.start()
    except BaseException as e:
        result["error"] = "startup"
        result["detail"] = _error(e)
        result["trace"] = traceback.format_exc()[-2000:]
        return result
    try:
        for req in requests:
            headers = [(k, v) for k, v in req["headers"] if k.lower() not in _DROP]
            if getattr(app, "dependency_overrides", None) and not req["overrides"]:
                app.dependency_overrides = {}  # the tutorial's test had cleared them
            try:
                client.cookies.clear()  # the recorded headers carry the cookies
                response = client.request(
                    req["method"], req["path"], headers=headers,
                    content=base64.b64decode(req["body"]) or None,
                )
                answers.append({
                    "status": response.status_code,
                    "content_type": response.headers.get("content-type"),
                    "response": base64.b64encode(response.content).decode("ascii"),
                })
            except Exception as e:
                answers.append({"error": _error(e)})
    finally:
        with contextlib.suppress(BaseException):
            client.close()
    result["answers"] = answers
    if served is not app:  # ASGI mode: the routes that the native path answered
        from fasterapi.asgi.fastapi_native import native_routes

        result["native_routes"] = native_routes(app)
    return result


def main() -> None:
    warnings.simplefilter("ignore")
    with open(sys.argv[1], encoding="utf-8") as f:
        shard = json.load(f)
    with open(sys.argv[2], "a", encoding="utf-8") as out:
        for app in shard:
            out.write(json.dumps({"start": app["module"]}) + "\n")
            out.flush()
            out.write(json.dumps(replay_app(app["module"], app["requests"])) + "\n")
            out.flush()
    os._exit(0)  # daemon server threads of apps whose shutdown hung must not block exit


if __name__ == "__main__":
    main()
