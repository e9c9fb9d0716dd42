"""FasterAPI: Python ergonomics on a C++ core."""

from __future__ import annotations

import os as _os

# Development builds may put the extension outside the package (see bindings/CMakeLists.txt).
if _native_dir := _os.environ.get("FASTERAPI_NATIVE_DIR"):
    __path__.insert(0, _native_dir)  # type: ignore[name-defined]

__version__ = "0.1.0"

from fasterapi import status
from fasterapi.app import App
from fasterapi.background import BackgroundTasks
from fasterapi.exceptions import HTTPException, RequestValidationError
from fasterapi.params import Body, Cookie, Depends, Form, Header, Path, Query, Security
from fasterapi.requests import Request
from fasterapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fasterapi.routing import APIRouter

FastAPI = App  # for `from fasterapi import FastAPI` during a migration

try:
    from fasterapi.core import (  # noqa: F401
        Pipeline,
        filter_async,
        map_async,
        reduce_async,
        retry_async,
        timeout_async,
        when_all,
        when_any,
    )
except ImportError:  # the futures package has not landed yet
    pass

try:
    from fasterapi.pg import PgPool  # noqa: F401
except ImportError:  # the PostgreSQL package has not landed yet
    pass

__all__ = [
    "APIRouter",
    "App",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "FastAPI",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Security",
    "StreamingResponse",
    "status",
]
