"""WebSocketRoute: one `@app.websocket(path)` endpoint with its compiled parameter plan."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from fasterapi.dependencies import Dependant, compile_dependant
from fasterapi.params import Depends

# What a WebSocket handshake cannot supply: it is a GET without a body, answered by the socket.
_NOT_FOR_WEBSOCKETS = {
    "request": "a Request (annotate it `websocket: WebSocket`)",
    "body": "a request body",
    "form": "a form body",
    "response": "a Response",
    "background": "BackgroundTasks",
}


class WebSocketRoute:
    """`path` + an `async def endpoint(websocket: WebSocket, ...)`, inspected once: path and
    query parameters, headers, cookies and `Depends` resolve as for HTTP routes."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        from fasterapi.routing import path_param_names

        if not path.startswith("/"):
            raise ValueError(f"websocket route path must start with '/': {path!r}")
        if not inspect.iscoroutinefunction(endpoint) and not inspect.iscoroutinefunction(
            getattr(endpoint, "__call__", None)  # noqa: B004
        ):
            raise TypeError(
                f"websocket route {path!r}: {getattr(endpoint, '__name__', endpoint)!r} must be "
                "an `async def` (it awaits the socket)"
            )
        self.path = path
        self.endpoint = endpoint
        self.name: str = name or str(getattr(endpoint, "__name__", "endpoint"))
        self.dependencies = list(dependencies or [])
        self.param_names = path_param_names(path)
        self.dependant: Dependant = compile_dependant(
            endpoint, set(self.param_names), extra=self.dependencies
        )
        for field in self.dependant.all_fields():
            what = _NOT_FOR_WEBSOCKETS.get(field.source)
            if what is not None:
                raise TypeError(
                    f"websocket route {path!r}: parameter {field.name!r} asks for {what}, "
                    "which a WebSocket handshake does not have; receive data with "
                    "`await websocket.receive_json()`"
                )

    def __repr__(self) -> str:
        return f"WebSocketRoute({self.path!r}, name={self.name!r})"
