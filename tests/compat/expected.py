"""Deliberate differences from FastAPI (docs/migration-from-fastapi.md, "What is different"):
a request whose answers differ in one of these ways counts as equal, with the reason shown.

Each entry: (module regex, request path regex, difference regex, reason). Keep it short and
keep every reason in the migration guide."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_OWN_DOCS_PAGES = (
    "our own Swagger UI / ReDoc pages: the same CDN assets and Swagger UI options, "
    "not FastAPI's HTML byte for byte"
)
_DOCS_PAGE = re.compile(rb"SwaggerUIBundle|<redoc |redoc\.standalone")
_STR_IS_TEXT = (
    "a str return value is sent as text/plain, not as a JSON string "
    "(docs/migration-from-fastapi.md: the seed's plain handlers return text)"
)

EXPECTED: list[tuple[str, str, str, str]] = [
    (r"", r"/(docs|redoc|docs/oauth2-redirect)$", r"^body", _OWN_DOCS_PAGES),
    (r"", r"", r"^content-type 'application/json' vs 'text/plain; charset=utf-8'", _STR_IS_TEXT),
    (r"", r"", r"^content-type 'application/json' vs None",
     "a None return value answers an empty body, not JSON null "
     "(docs/migration-from-fastapi.md)"),
    (r"behind_a_proxy\.tutorial001", r"^/(app|openapi.json)",
     r"^body at \$\.(root_path|servers)",
     "the test passes root_path as the ASGI server would (uvicorn --root-path); "
     "`fasterapi run` has no --root-path: App(root_path=...) sets it"),
    (r"advanced_middleware\.tutorial003", r"^/large$", r"^status 200 vs 404",
     "the tutorial's test adds the /large route to the app in its process"),
    # Not differences of the frameworks: answers that differ between any two runs.
    (r"security\.tutorial00[45]", r"^/token$", r"^body at \$\.access_token",
     "the JWT carries the time it was issued"),
    (r"custom_response\.tutorial00(8|9|9b)_", r"^/$", r"^(status 200 vs 500|request failed)",
     "the tutorial's test writes the file to a temporary path and points the module at it"),
    (r"settings\.app03", r"^/info$", r"^status 200 vs 500",
     "the tutorial's test sets ADMIN_EMAIL in the environment (monkeypatch)"),
    (r"conditional_openapi\.tutorial001", r"", r"^status 404 vs 200",
     "the tutorial's test sets OPENAPI_URL in the environment and reloads the module"),
    (r"query_params_str_validations\.tutorial015", r"^/items/", r"^body at \$\.id",
     "the tutorial answers a random.choice()"),
    (r"using_request_directly\.tutorial001", r"", r"^body at \$\.client_host",
     "Starlette's TestClient reports the client 'testclient'; a real socket reports its "
     "address"),
]

# Requests whose tutorial test changed the app inside its own process while it sent them (a
# patched function or module global): the recorded answer cannot be reproduced by a server in
# another process. (module regex, test id regex, reason)
EXPECTED_BY_TEST: list[tuple[str, str, str]] = [
    (r"security\.tutorial004", r"::test_token_inactive_user\[",
     "the tutorial's test patches the module's fake_users_db (patch.dict) for these requests"),
    (r"custom_request_and_route\.tutorial001", r"::test_request_class\[",
     "the tutorial's test adds a /check-class route to the app in its process"),
    (r"body\.tutorial001", r"::test_other_exceptions\[",
     "the tutorial's test patches json.loads in its process to raise"),
]

# Apps that fail to load on purpose.
EXPECTED_APP_ERRORS: list[tuple[str, str, str]] = [
    (r"path_params\.tutorial003b", r"is already handled by",
     "a second route for the same method and path is refused at startup (FastAPI serves "
     "the first and ignores the second; docs/migration-from-fastapi.md)"),
]


_SSE_COMPACT_JSON = (
    "an event stream's JSON data is compact (`{\"a\":1}`, the C++ encoder) where FastAPI "
    "writes json.dumps's `{\"a\": 1}` for items without a type annotation "
    "(docs/migration-from-fastapi.md)"
)


def _sse_json_normalised(body: bytes) -> list[Any]:
    """An event stream's lines with each `data:` line's JSON parsed (spacing ignored)."""
    out: list[Any] = []
    for line in body.decode("utf-8", "replace").split("\n"):
        if line.startswith("data: "):
            try:
                out.append(("data", json.loads(line[6:])))
                continue
            except ValueError:
                pass
        out.append(line)
    return out


def expected_reason(
    module: str,
    path: str,
    diff: str,
    recorded: dict[str, Any] | None = None,
    answer: dict[str, Any] | None = None,
) -> str | None:
    """The reason when the difference of this request is one we make on purpose, or one the
    harness cannot reproduce over a plain socket."""
    if (
        recorded is not None
        and answer is not None
        and diff.startswith("body")
        and str(recorded.get("content_type", "")).startswith("text/event-stream")
        and _sse_json_normalised(base64.b64decode(recorded["response"]))
        == _sse_json_normalised(base64.b64decode(answer.get("response", "")))
    ):
        return _SSE_COMPACT_JSON
    if recorded is not None and recorded.get("scheme") == "https":
        return ("the tutorial's test sent it as https:// through Starlette's TestClient; the "
                "harness replays over plain http")
    if recorded is not None and diff.startswith("body") and _DOCS_PAGE.search(
        base64.b64decode(recorded["response"])
    ):
        return _OWN_DOCS_PAGES
    test = (recorded or {}).get("test", "")
    for module_re, test_re, reason in EXPECTED_BY_TEST:
        if re.search(module_re, module) and re.search(test_re, test):
            return reason
    for module_re, path_re, diff_re, reason in EXPECTED:
        if re.search(module_re, module) and re.search(path_re, path) and re.search(diff_re, diff):
            return reason
    return None


def expected_app_error(module: str, detail: str) -> str | None:
    """The reason when this app failing to load is on purpose."""
    for module_re, detail_re, reason in EXPECTED_APP_ERRORS:
        if re.search(module_re, module) and re.search(detail_re, detail):
            return reason
    return None
