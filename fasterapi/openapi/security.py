"""Security requirements of an operation and the schemes they name (OpenAPI 3.1 §4.8.27,
§4.8.30): every security scheme dependency in the route's dependency tree, with the scopes
accumulated through Security(..., scopes=[...]) for OAuth2 and OpenID Connect."""

from __future__ import annotations

from typing import Any

from fasterapi.dependencies import Dependant
from fasterapi.security.base import SecurityBase


def _walk(dep: Dependant, out: list[tuple[SecurityBase, list[str]]]) -> None:
    for f in dep.fields:
        sub = f.dependant
        if sub is None:
            continue
        if isinstance(sub.call, SecurityBase):
            out.append((sub.call, sub.scopes))
        _walk(sub, out)


def security_requirements(dep: Dependant, schemes: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The operation's `security` list (one requirement per scheme use, duplicates merged);
    adds the schemes' objects to `schemes` (components.securitySchemes)."""
    found: list[tuple[SecurityBase, list[str]]] = []
    _walk(dep, found)
    out: list[dict[str, list[str]]] = []
    for scheme, scopes in found:
        schemes[scheme.scheme_name] = scheme.model
        listed = list(dict.fromkeys(scheme.openapi_scopes(scopes)))
        req = {scheme.scheme_name: listed}
        if req not in out:
            out.append(req)
    return out
