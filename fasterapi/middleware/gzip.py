"""GZipMiddleware: FastAPI's signature, the engine's C++ gzip (src/compress/) underneath.

`app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=9)` turns on gzip (only
gzip, as FastAPI's does) for bodies of at least `minimum_size` bytes with a compressible type,
streams and event streams included (flushed per write). Nothing is compressed in Python, and
plain dict/str returns keep the engine's fast path: the middleware takes itself out of the
Python middleware chain once it has configured the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fasterapi import _native
from fasterapi.responses import Response


class GZipMiddleware:
    """`app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=9)`."""

    def __init__(self, minimum_size: int = 500, compresslevel: int = 9) -> None:
        if not 1 <= compresslevel <= 9:
            raise ValueError(f"GZipMiddleware: compresslevel must be 1..9, got {compresslevel}")
        if minimum_size < 0:
            raise ValueError(f"GZipMiddleware: minimum_size must be >= 0, got {minimum_size}")
        self.minimum_size = minimum_size  # bytes; smaller bodies are not worth compressing
        self.level = compresslevel

    def on_add(self, app: Any) -> None:
        """Called by App.add_middleware: configure the engine's gzip, leave the chain."""
        app.compression.add(["gzip"], {"gzip": self.level})
        app.compression.min_size = self.minimum_size
        if self in app.http_middleware:
            app.http_middleware.remove(self)

    async def __call__(
        self, request: Any, call_next: Callable[[Any], Awaitable[Response]]
    ) -> Response:
        # Only reached when used outside App.add_middleware; the engine compresses.
        return await call_next(request)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value lets us send gzip (RFC 9110 §12.5.3), decided by the
    engine's negotiation: q-values, q=0 refuses, `*`, an explicit `identity` preferred over
    gzip wins; malformed members are ignored."""
    return bool(_native.negotiate_encoding(accept_encoding, ["gzip"]) == "gzip")
