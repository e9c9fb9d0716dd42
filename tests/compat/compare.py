"""Compares FastAPI's recorded answers with FasterAPI's: status, content type and body as a
client sees them (JSON bodies as parsed JSON), and names the category of each failing app."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_DOCS_PATH = re.compile(r"(/openapi\.json|/docs|/docs/oauth2-redirect|/redoc)$")


def is_docs_request(path: str) -> bool:
    """/openapi.json and the /docs and /redoc pages are compared as their own group."""
    return bool(_DOCS_PATH.search(path.split("?", 1)[0]))


def _norm_ct(value: str | None) -> str:
    return (value or "").lower().replace(" ", "")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0]
    return media == "application/json" or media.endswith("+json")


def _snippet(data: bytes) -> str:
    text = data[:160].decode("utf-8", "replace")
    return text + ("…" if len(data) > 160 else "")


def difference(recorded: dict[str, Any], answer: dict[str, Any]) -> str | None:
    """None when FasterAPI answered as FastAPI did, else a one-line description."""
    if "error" in answer:
        return f"request failed: {answer['error']}"
    if recorded["status"] != answer["status"]:
        return f"status {recorded['status']} vs {answer['status']}"
    theirs_ct, ours_ct = _norm_ct(recorded["content_type"]), _norm_ct(answer["content_type"])
    if theirs_ct != ours_ct:
        return f"content-type {recorded['content_type']!r} vs {answer['content_type']!r}"
    theirs = base64.b64decode(recorded["response"])
    ours = base64.b64decode(answer["response"])
    if theirs == ours:
        return None
    if _is_json(theirs_ct):
        try:
            if json.loads(theirs) == json.loads(ours):
                return None
        except ValueError:
            pass
    return f"body {_snippet(theirs)!r} vs {_snippet(ours)!r}"


_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
_MISSING_NAME = re.compile(r"cannot import name '([^']+)' from '([^']+)'")
_KWARG = re.compile(r"(\w+)\(\) got an unexpected keyword argument '([^']+)'")
_ATTR = re.compile(r"'([^']+)' object has no attribute '([^']+)'")


def category(error_kind: str, detail: str) -> str:
    """A short, groupable name for why an app failed to load or start."""
    if m := _MISSING_MODULE.search(detail):
        return f"{error_kind}: missing module {m.group(1)}"
    if m := _MISSING_NAME.search(detail):
        return f"{error_kind}: missing name {m.group(2)}.{m.group(1)}"
    if m := _KWARG.search(detail):
        return f"{error_kind}: TypeError kwarg {m.group(1)}({m.group(2)}=)"
    if m := _ATTR.search(detail):
        return f"{error_kind}: AttributeError {m.group(1)}.{m.group(2)}"
    return f"{error_kind}: {detail[:120]}"


def diff_category(diff: str) -> str:
    """Groups request differences by kind: the status pair, content type pair, or 'body'."""
    if diff.startswith("status") or diff.startswith("content-type"):
        return "diff: " + diff
    if diff.startswith("request failed"):
        return "diff: " + diff[:80]
    return "diff: body"
