"""pytest plugin loaded into the fastapi repository's tutorial tests: every request that
starlette's TestClient sends to a docs_src app, and FastAPI's answer, is appended to the
JSON-lines file named by COMPAT_RECORD (one object per exchange).

The app is identified by the docs_src module whose `app` global is the ASGI app the client
talks to; exchanges with apps that belong to no docs_src module are not recorded."""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any

import httpx
from starlette import testclient

_out = open(os.environ["COMPAT_RECORD"], "a", encoding="utf-8")
_current_test = ""
_original = testclient._TestClientTransport.handle_request


def _module_of(app: Any) -> str | None:
    for name, module in list(sys.modules.items()):
        if name.startswith("docs_src.") and getattr(module, "app", None) is app:
            return name
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _recording(self: Any, request: httpx.Request) -> httpx.Response:
    response = _original(self, request)
    module = _module_of(self.app)
    if module is None:
        return response
    body = response.read()
    raw_path = request.url.raw_path.decode("latin-1")
    _out.write(json.dumps({
        "module": module,
        "test": _current_test,
        "source": "derived" if _current_test == "derived" else "test",
        "overrides": bool(getattr(self.app, "dependency_overrides", None)),
        "method": request.method,
        "scheme": request.url.scheme,
        "path": raw_path,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
        "body": _b64(request.read()),
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "response": _b64(body),
    }) + "\n")
    _out.flush()
    return response


testclient._TestClientTransport.handle_request = _recording  # type: ignore[method-assign]


def pytest_runtest_setup(item: Any) -> None:
    global _current_test
    _current_test = item.nodeid
