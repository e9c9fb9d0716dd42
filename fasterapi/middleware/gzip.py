"""GZip: compress response bodies when the client accepts gzip and the body is big enough."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from typing import Any

from fasterapi.responses import FileResponse, Response, StreamingResponse


class GZipMiddleware:
    """`app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=9)`."""

    def __init__(self, minimum_size: int = 500, compresslevel: int = 9) -> None:
        if not 1 <= compresslevel <= 9:
            raise ValueError(f"GZipMiddleware: compresslevel must be 1..9, got {compresslevel}")
        self.minimum_size = minimum_size  # bytes; smaller bodies are not worth compressing
        self.level = compresslevel

    async def __call__(
        self, request: Any, call_next: Callable[[Any], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        accepts = "gzip" in request.headers.get("accept-encoding", "").lower()
        if (
            not accepts
            or isinstance(response, StreamingResponse | FileResponse)
            or len(response.body) < self.minimum_size
            or (
                response.raw_headers
                and any(k == b"content-encoding" for k, _ in response.raw_headers)
            )
        ):
            return response
        response.body = gzip.compress(response.body, self.level)
        h = response.headers
        h["content-encoding"] = "gzip"
        h.append("vary", "Accept-Encoding")
        return response
