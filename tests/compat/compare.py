"""Compares FastAPI's recorded answers with FasterAPI's: status, content type and body as a
client sees them (JSON bodies as parsed JSON), and names the category of each failing app."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_DOCS_PATH = re.compile(r"(/openapi\.json|/docs|/docs/oauth2-redirect|/redoc)$")


_DOCS_PAGE = re.compile(rb"SwaggerUIBundle|<redoc |redoc\.standalone")


def is_docs_request(path: str, recorded: dict[str, Any] | None = None) -> bool:
    """/openapi.json and the docs pages (at /docs and /redoc, or wherever FastAPI answered
    with a Swagger UI or ReDoc page) are compared as their own group."""
    if _DOCS_PATH.search(path.split("?", 1)[0]):
        return True
    return recorded is not None and bool(_DOCS_PAGE.search(base64.b64decode(recorded["response"])))


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
            theirs_json, ours_json = json.loads(theirs), json.loads(ours)
        except ValueError:
            pass
        else:
            _default_title(theirs_json, ours_json)
            where = first_difference(theirs_json, ours_json, "$")
            return None if where is None else f"body at {where}"
    return f"body {_snippet(theirs)!r} vs {_snippet(ours)!r}"


def _default_title(theirs: Any, ours: Any) -> None:
    """An OpenAPI document's default title is the framework's name ("FastAPI" there,
    "FasterAPI" here; expected.py): compare the rest."""
    if isinstance(theirs, dict) and isinstance(ours, dict) and "openapi" in theirs:
        t, o = theirs.get("info"), ours.get("info")
        if isinstance(t, dict) and isinstance(o, dict):
            if t.get("title") == "FastAPI" and o.get("title") == "FasterAPI":
                o["title"] = "FastAPI"


def first_difference(theirs: Any, ours: Any, at: str) -> str | None:
    """The JSON path of the first difference and the two values there, or None if equal."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for key in theirs:
            if key not in ours:
                return f"{at}.{key}: missing in ours"
            if (where := first_difference(theirs[key], ours[key], f"{at}.{key}")) is not None:
                return where
        extra = [key for key in ours if key not in theirs]
        return f"{at}.{extra[0]}: only in ours" if extra else None
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            if (where := first_difference(a, b, f"{at}[{i}]")) is not None:
                return where
        return None
    if theirs == ours and type(theirs) is type(ours):
        return None
    return f"{at}: {json.dumps(theirs)[:80]} vs {json.dumps(ours)[:80]}"


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
    if diff.startswith("body at "):
        # the JSON path with list indexes and path keys generalized: "$.paths.*.get.summary"
        where = diff[len("body at "):].split(":", 1)[0]
        where = re.sub(r"\[\d+\]", "[]", where)
        where = re.sub(r"\.paths\.[^.]+", ".paths.*", where)
        where = re.sub(r"\.schemas\.[^.]+", ".schemas.*", where)
        return "diff: body at " + where
    return "diff: body"
