"""Redirect plain-HTTP requests to https:// (307, so the method and body are kept):
`app.add_middleware(HTTPSRedirectMiddleware)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fasterapi.responses import RedirectResponse, Response


class HTTPSRedirectMiddleware:
    """Requests that arrived over http get a 307 to the same URL with https (port 80 or 443
    dropped from the host, any other port kept); https requests pass through."""

    async def __call__(
        self, request: Any, call_next: Callable[[Any], Awaitable[Response]]
    ) -> Response:
        url = request.url
        if url.scheme not in ("http", "ws"):
            return await call_next(request)
        host, _, port = url.netloc.rpartition(":") if ":" in url.netloc else (url.netloc, "", "")
        netloc = host if port in ("", "80", "443") else f"{host}:{port}"
        scheme = "https" if url.scheme == "http" else "wss"
        query = f"?{url.query}" if url.query else ""
        return RedirectResponse(f"{scheme}://{netloc}{url.path}{query}", status_code=307)
