"""The default exception handlers, at FastAPI's import path, for apps that register their
own handler and then hand the exception back: `return await http_exception_handler(r, e)`."""

from __future__ import annotations

from typing import Any

from fasterapi.encoders import jsonable_encoder
from fasterapi.exceptions import HTTPException, RequestValidationError
from fasterapi.responses import JSONResponse, Response

_NO_BODY = {204, 304}  # RFC 9110 §15.3.5, §15.4.5: these responses carry no content


async def http_exception_handler(request: Any, exc: HTTPException) -> Response:
    """`{"detail": exc.detail}` with the exception's status and headers (no body for 204/304,
    or below 200)."""
    headers = getattr(exc, "headers", None)
    if exc.status_code < 200 or exc.status_code in _NO_BODY:
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def request_validation_exception_handler(
    request: Any, exc: RequestValidationError
) -> JSONResponse:
    """422 `{"detail": [errors]}`, as FasterAPI answers a validation error itself."""
    return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
