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
        # Several Accept-Encoding lines are one comma-separated list (RFC 9110 §5.3).
        accepts = accepts_gzip(", ".join(request.headers.getlist("accept-encoding")))
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


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value lets us send gzip (RFC 9110 §12.5.3): `gzip` (or
    `x-gzip`) with q > 0, else `*` with q > 0; q=0 refuses; names are case-insensitive; an
    explicitly listed `identity` preferred over gzip wins. Malformed entries are ignored."""
    gzip_q: float | None = None
    star_q: float | None = None
    identity_q: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = _qvalue(params)
        if q is None:
            continue
        if coding in ("gzip", "x-gzip"):
            gzip_q = q if gzip_q is None else max(gzip_q, q)
        elif coding == "*":
            star_q = q
        elif coding == "identity":
            identity_q = q
    if gzip_q is None:
        gzip_q = star_q
    if not gzip_q:  # not listed, or q=0
        return False
    return identity_q is None or identity_q <= gzip_q


def _qvalue(params: str) -> float | None:
    """The q of `;q=0.5` style parameters (1 when absent); None when malformed."""
    q = 1.0
    for param in params.split(";"):
        name, sep, value = param.partition("=")
        if not sep:
            if param.strip():
                return None
            continue
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        # qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        if not value or value[0] not in "01" or len(value) > 5:
            return None
        try:
            q = float(value)
        except ValueError:
            return None
        if not 0.0 <= q <= 1.0:
            return None
    return q
