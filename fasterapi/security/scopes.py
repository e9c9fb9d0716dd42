"""SecurityScopes: a parameter of this type receives the OAuth2 scopes required by the chain of
`Security(..., scopes=[...])` declarations that led to its dependency (FastAPI's semantics)."""

from __future__ import annotations


class SecurityScopes:
    """`scopes`: every scope required, outermost declaration first; `scope_str`: the same,
    space-separated (the form used in a WWW-Authenticate header, RFC 6750 §3)."""

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = scopes or []
        self.scope_str: str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
