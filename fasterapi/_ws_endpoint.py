"""Run `@app.websocket` endpoints: the engine calls `start(conn)` per upgrade request; this
solves the endpoint's parameters, runs it as an asyncio Task, and ends the socket as
FastAPI/Starlette do: not accepted → 403; HTTPException before accept → its status; returned →
close 1000; raised after accept → close 1011 with the traceback logged; WebSocketException →
its code and reason."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

from fasterapi._jsonio import json_dumps
from fasterapi._ws_route import WebSocketRoute
from fasterapi.dependencies import SolveState, solve_async, solve_sync, unwind_async
from fasterapi.dependencies import _finish_all as finish_generators
from fasterapi.exceptions import HTTPException
from fasterapi.status import WS_1000_NORMAL_CLOSURE, WS_1011_INTERNAL_ERROR
from fasterapi.websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketRequestValidationError,
    WebSocketState,
)

error_log = logging.getLogger("fasterapi.error")
_GOING_AWAY = 1001  # RFC 6455 §7.4.1: the server is shutting down


def install_websockets(
    app: Any,
    server: Any,
    tasks: set[asyncio.Task[Any]],
    config: Any = None,
    shared_gets: dict[str, tuple[Any, bool]] | None = None,
) -> None:
    """Register each of `app.websocket_routes` on the engine `server`; the Tasks of open
    sockets go into `tasks`, so the graceful drain waits for them. `config` (a
    fasterapi.server.Config) gives the limits: ws_max_size, ws_ping_interval,
    ws_ping_timeout, ws_per_message_deflate (uvicorn's names and defaults), ws_deflate_level.
    `shared_gets` maps a path that also has a GET route to its (endpoint, is_async): as in
    FastAPI, upgrade requests go to the websocket endpoint and plain GETs to the HTTP one."""
    routes: list[WebSocketRoute] = getattr(app, "websocket_routes", [])
    if not routes:
        return
    ws_class = type("WebSocket", (WebSocket,), {"app": app, "__module__": WebSocket.__module__})
    loop = asyncio.get_running_loop()
    limits = {
        "max_message_bytes": getattr(config, "ws_max_size", 16 * 1024 * 1024),
        "ping_interval": getattr(config, "ws_ping_interval", 20.0),
        "pong_timeout": getattr(config, "ws_ping_timeout", 20.0),
        "permessage_deflate": getattr(config, "ws_per_message_deflate", True),
        "deflate_level": getattr(config, "ws_deflate_level", 6),
    }
    for route in routes:
        start = _starter(route, ws_class, loop, tasks)
        if shared_gets and route.path in shared_gets:
            endpoint, is_async = shared_gets[route.path]
            server.add_route_and_websocket(route.path, endpoint, is_async, start, **limits)
        else:
            server.add_websocket(route.path, start, **limits)


def _starter(
    route: WebSocketRoute,
    ws_class: type[WebSocket],
    loop: asyncio.AbstractEventLoop,
    tasks: set[asyncio.Task[Any]],
) -> Callable[[Any], None]:
    def start(conn: Any) -> None:
        ws = ws_class(conn)
        task = loop.create_task(run(route, ws), context=contextvars.copy_context())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return start


async def run(route: WebSocketRoute, ws: WebSocket) -> None:
    """The endpoint's whole life on one socket (never raises, except cancellation)."""
    dep = route.dependant
    st = SolveState(ws, None)
    exc: BaseException | None = None
    try:
        kwargs = await solve_async(dep, st) if dep.needs_async else solve_sync(dep, st)
        if st.errors:
            raise WebSocketRequestValidationError(st.errors)
        await route.endpoint(**kwargs)
    except BaseException as e:
        exc = e
    try:
        if st.cleanups:  # dependencies with `yield`: the code after yield runs now
            if exc is not None:
                exc = await unwind_async(st, exc)  # they see the exception, as in FastAPI
            else:
                await finish_generators(st.cleanups)
    except BaseException as e:  # a cleanup was cancelled or failed outside the generators
        exc = e
    finish(ws, exc, route.path)
    ws._run_done_callbacks()
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        raise exc


def finish(ws: WebSocket, exc: BaseException | None, path: str) -> None:
    """End the socket according to how the endpoint ended (see the module docstring)."""
    state = ws.application_state
    if state is WebSocketState.CONNECTING and isinstance(exc, HTTPException):
        # As FastAPI (Starlette's denial response): the handshake is answered with the
        # exception's status and {"detail": ...} (its headers are not sent).
        status = exc.status_code if 400 <= exc.status_code <= 599 else 403
        ws._conn.reject(status, json_dumps({"detail": exc.detail}))
        ws.application_state = WebSocketState.DISCONNECTED
        return
    if state is WebSocketState.CONNECTING:
        if isinstance(exc, WebSocketRequestValidationError):
            error_log.info("WebSocket %s refused (403): %s", path, exc.errors())
        elif exc is not None and not isinstance(
            exc, WebSocketException | WebSocketDisconnect | asyncio.CancelledError
        ):
            error_log.error(
                "Exception in WebSocket %s before accept (answered 403)",
                path,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
        ws._conn.reject(403)
        ws.application_state = WebSocketState.DISCONNECTED
        return
    if state is not WebSocketState.CONNECTED:
        return  # closed by the application, or the peer closed first (already answered)
    code, reason = WS_1000_NORMAL_CLOSURE, ""
    if isinstance(exc, WebSocketException):
        code, reason = exc.code, exc.reason
    elif isinstance(exc, asyncio.CancelledError):
        code = _GOING_AWAY
    elif exc is not None and not isinstance(exc, WebSocketDisconnect):
        error_log.error(
            "Exception in WebSocket %s (closed with 1011)",
            path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        code = WS_1011_INTERNAL_ERROR
    ws._conn.close(code, reason)
    ws.application_state = WebSocketState.DISCONNECTED
