"""ASGI mode: any ASGI 3 application (FastAPI, Starlette, the MCP SDK's HTTP app) served by
the engine through one adapter, `ASGIApp`, used by `App.mount()` and `fasterapi run`."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from fasterapi.asgi.adapter import ASGIApp
from fasterapi.asgi.exchange import ClientDisconnected

if TYPE_CHECKING:
    from fasterapi.app import App

__all__ = ["ASGIApp", "ClientDisconnected", "is_asgi_app", "serve_app"]

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # what the router takes


def is_asgi_app(obj: Any) -> bool:
    """An ASGI 3 callable: `async def app(scope, receive, send)` (or an object whose
    __call__ is one)."""
    if isinstance(obj, type) or not callable(obj):
        return False
    fn = obj if inspect.isfunction(obj) or inspect.ismethod(obj) else obj.__call__
    if not inspect.iscoroutinefunction(fn):
        return False
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3


def serve_app(asgi_app: Any) -> App:
    """A fasterapi App whose every path and method is `asgi_app`, with the app's lifespan
    run around serving (what `fasterapi run module:app` serves for a non-App ASGI app)."""
    import contextlib
    from collections.abc import AsyncIterator

    from fasterapi.app import App
    from fasterapi.asgi.lifespan import lifespan

    adapter = ASGIApp(asgi_app)

    @contextlib.asynccontextmanager
    async def run_lifespan(_: App) -> AsyncIterator[None]:
        state: dict[str, Any] = {}
        adapter.state = state
        async with lifespan(asgi_app, state):
            yield

    app = App(lifespan=run_lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.add_route("/{path:path}", adapter, methods=METHODS, include_in_schema=False)
    return app
