"""Deliberate differences from FastAPI (docs/migration-from-fastapi.md, "What is different"):
a request whose answers differ in one of these ways counts as equal, with the reason shown.

Each entry: (module regex, request path regex, difference regex, reason). Keep it short and
keep every reason in the migration guide."""

from __future__ import annotations

import re

EXPECTED: list[tuple[str, str, str, str]] = [
]


def expected_reason(module: str, path: str, diff: str) -> str | None:
    for module_re, path_re, diff_re, reason in EXPECTED:
        if re.search(module_re, module) and re.search(path_re, path) and re.search(diff_re, diff):
            return reason
    return None
