"""CORS: answer preflight OPTIONS requests and add Access-Control-* headers to responses."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from fasterapi.responses import PlainTextResponse, Response

if TYPE_CHECKING:
    from fasterapi.app import App

_ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_SAFE_HEADERS = {"accept", "accept-language", "content-language", "content-type"}


class CORSMiddleware:
    """`app.add_middleware(CORSMiddleware, allow_origins=["https://a.example"], ...)`."""

    def __init__(
        self,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        if allow_credentials and "*" in allow_origins:
            raise ValueError(
                "CORSMiddleware: allow_credentials=True cannot be used with allow_origins=['*']; "
                "list the origins explicitly"
            )
        self.any_origin = "*" in allow_origins
        self.origins = set(allow_origins)
        self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.methods = (
            _ALL_METHODS if "*" in allow_methods else tuple(m.upper() for m in allow_methods)
        )
        self.any_header = "*" in allow_headers
        self.headers = {h.lower() for h in allow_headers} | _SAFE_HEADERS
        self.credentials = allow_credentials
        self.expose = ", ".join(expose_headers)
        self.max_age = max_age

    def on_add(self, app: App) -> None:
        """Preflights hit OPTIONS, which the engine would answer 405: route them here."""
        app.preflight = self.preflight  # type: ignore[attr-defined]

    def origin_allowed(self, origin: str) -> bool:
        if self.any_origin or origin in self.origins:
            return True
        return bool(self.origin_regex and self.origin_regex.fullmatch(origin))

    def preflight(self, req: Any) -> Response:
        """The answer to an OPTIONS request carrying Access-Control-Request-Method."""
        origin = req.headers.get("origin", "")
        method = req.headers.get("access-control-request-method", "")
        asked = req.headers.get("access-control-request-headers", "")
        ok = self.origin_allowed(origin) and method.upper() in self.methods
        names = [h.strip().lower() for h in asked.split(",") if h.strip()]
        if not self.any_header and any(h not in self.headers for h in names):
            ok = False
        headers = {
            "access-control-allow-methods": ", ".join(self.methods),
            "access-control-max-age": str(self.max_age),
            "vary": "Origin",
        }
        if ok:
            headers["access-control-allow-origin"] = (
                "*" if self.any_origin and not self.credentials else origin
            )
            if names:
                headers["access-control-allow-headers"] = asked
        if self.credentials:
            headers["access-control-allow-credentials"] = "true"
        return PlainTextResponse(
            "OK" if ok else "Disallowed CORS request", 200 if ok else 400, headers
        )

    async def __call__(
        self, request: Any, call_next: Callable[[Any], Awaitable[Response]]
    ) -> Response:
        origin = request.headers.get("origin")
        response = await call_next(request)
        if origin is None or not self.origin_allowed(origin):
            return response
        h = response.headers
        if self.any_origin and not self.credentials:
            h["access-control-allow-origin"] = "*"
        else:
            h["access-control-allow-origin"] = origin
            h.append("vary", "Origin")
        if self.credentials:
            h["access-control-allow-credentials"] = "true"
        if self.expose:
            h["access-control-expose-headers"] = self.expose
        return response
