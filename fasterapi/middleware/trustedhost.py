"""Refuse requests whose Host header names a host the app does not serve (DNS rebinding,
RFC 9110 §7.2): `app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com",
"*.example.com"])`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fasterapi.responses import PlainTextResponse, RedirectResponse, Response


class TrustedHostMiddleware:
    """400 "Invalid host header" unless Host (port ignored) is in `allowed_hosts`; a leading
    `*.` matches any subdomain, `"*"` allows all. With `www_redirect`, a host whose `www.`
    form is listed is redirected there."""

    def __init__(self, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True):
        hosts = list(allowed_hosts) if allowed_hosts is not None else ["*"]
        for pattern in hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*"
                                       and not pattern.startswith("*.")):
                raise ValueError(
                    f"TrustedHostMiddleware: {pattern!r}: a wildcard is only allowed as '*' "
                    "or a leading '*.' (e.g. '*.example.com')"
                )
        self.allow_any = "*" in hosts
        self.hosts = hosts
        self.www_redirect = www_redirect

    def _allowed(self, host: str) -> bool:
        return any(
            host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
            for pattern in self.hosts
        )

    async def __call__(
        self, request: Any, call_next: Callable[[Any], Awaitable[Response]]
    ) -> Response:
        if self.allow_any:
            return await call_next(request)
        host = request.headers.get("host", "").split(":")[0]
        if self._allowed(host):
            return await call_next(request)
        if self.www_redirect and "www." + host in self.hosts:  # named exactly, not by `*.`
            url = request.url
            netloc = "www." + url.netloc
            query = f"?{url.query}" if url.query else ""
            return RedirectResponse(f"{url.scheme}://{netloc}{url.path}{query}")
        return PlainTextResponse("Invalid host header", status_code=400)
