"""FasterAPI: Python ergonomics on a C++ core.

Names are imported on first use (PEP 562), so `import fasterapi` stays cheap; the package's
pieces (and pydantic) load when you touch `fasterapi.App` and friends."""

from __future__ import annotations

import importlib
import os as _os
from typing import TYPE_CHECKING, Any

# Development builds may put the extension outside the package (see bindings/CMakeLists.txt).
if _native_dir := _os.environ.get("FASTERAPI_NATIVE_DIR"):
    __path__.insert(0, _native_dir)  # type: ignore[name-defined]

__version__ = "0.1.0"

_EXPORTS = {
    "App": "fasterapi.app",
    "FastAPI": "fasterapi.app",
    "APIRouter": "fasterapi.routing",
    "BackgroundTasks": "fasterapi.background",
    "HTTPException": "fasterapi.exceptions",
    "RequestValidationError": "fasterapi.exceptions",
    "Body": "fasterapi.params",
    "Cookie": "fasterapi.params",
    "Depends": "fasterapi.params",
    "Form": "fasterapi.params",
    "File": "fasterapi.params",
    "UploadFile": "fasterapi.uploads",
    "Header": "fasterapi.params",
    "Path": "fasterapi.params",
    "Query": "fasterapi.params",
    "Security": "fasterapi.params",
    "Request": "fasterapi.requests",
    "Response": "fasterapi.responses",
    "JSONResponse": "fasterapi.responses",
    "PlainTextResponse": "fasterapi.responses",
    "HTMLResponse": "fasterapi.responses",
    "RedirectResponse": "fasterapi.responses",
    "StreamingResponse": "fasterapi.responses",
    "FileResponse": "fasterapi.responses",
    "status": "fasterapi.status",
    "WebSocket": "fasterapi.websockets",
    "WebSocketDisconnect": "fasterapi.websockets",
    "WebSocketException": "fasterapi.websockets",
    **dict.fromkeys(
        ["when_all", "when_any", "timeout_async", "retry_async", "map_async", "filter_async",
         "reduce_async", "Pipeline"],
        "fasterapi.core",
    ),
    "PgPool": "fasterapi.pg",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        if name == "status":
            value: Any = importlib.import_module(module)
        elif name == "FastAPI":
            value = importlib.import_module(module).App
        else:
            value = getattr(importlib.import_module(module), name)
    else:
        raise AttributeError(f"module 'fasterapi' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from fasterapi import status as status
    from fasterapi.app import App as App
    from fasterapi.app import App as FastAPI  # noqa: F401
    from fasterapi.background import BackgroundTasks as BackgroundTasks
    from fasterapi.core import Pipeline as Pipeline
    from fasterapi.core import filter_async as filter_async
    from fasterapi.core import map_async as map_async
    from fasterapi.core import reduce_async as reduce_async
    from fasterapi.core import retry_async as retry_async
    from fasterapi.core import timeout_async as timeout_async
    from fasterapi.core import when_all as when_all
    from fasterapi.core import when_any as when_any
    from fasterapi.exceptions import HTTPException as HTTPException
    from fasterapi.exceptions import RequestValidationError as RequestValidationError
    from fasterapi.params import Body as Body
    from fasterapi.params import Cookie as Cookie
    from fasterapi.params import Depends as Depends
    from fasterapi.params import File as File
    from fasterapi.params import Form as Form
    from fasterapi.params import Header as Header
    from fasterapi.params import Path as Path
    from fasterapi.params import Query as Query
    from fasterapi.params import Security as Security
    from fasterapi.pg import PgPool as PgPool
    from fasterapi.requests import Request as Request
    from fasterapi.responses import FileResponse as FileResponse
    from fasterapi.responses import HTMLResponse as HTMLResponse
    from fasterapi.responses import JSONResponse as JSONResponse
    from fasterapi.responses import PlainTextResponse as PlainTextResponse
    from fasterapi.responses import RedirectResponse as RedirectResponse
    from fasterapi.responses import Response as Response
    from fasterapi.responses import StreamingResponse as StreamingResponse
    from fasterapi.routing import APIRouter as APIRouter
    from fasterapi.uploads import UploadFile as UploadFile
    from fasterapi.websockets import WebSocket as WebSocket
    from fasterapi.websockets import WebSocketDisconnect as WebSocketDisconnect
    from fasterapi.websockets import WebSocketException as WebSocketException
