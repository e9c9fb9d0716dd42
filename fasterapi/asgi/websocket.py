"""The ASGI WebSocket scope (ASGI HTTP & WebSocket spec 2.4, "WebSocket" section) served on
the engine's C++ WebSocket (src/ws through fasterapi.websockets.WebSocket).

The engine routes a GET that asks for an upgrade (RFC 6455 §4.1) on an ASGI app's catch-all
route here instead of to the HTTP adapter (`Server.add_route_and_websocket`). The app gets
websocket.connect first; `websocket.accept` answers the handshake with 101, `websocket.close`
before it refuses with 403 (spec: "Close - send event"). Frames, masking, UTF-8 checks,
permessage-deflate, pings and the close handshake are the engine's; messages arrive here
whole."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from fasterapi.asgi.exchange import ClientDisconnected
from fasterapi.asgi.scope import ASGI_VERSION
from fasterapi.websockets import WebSocket, WebSocketDisconnect, WebSocketState

error_log = logging.getLogger("fasterapi.error")
_GOING_AWAY = 1001  # RFC 6455 §7.4.1: the server is shutting down
_INTERNAL_ERROR = 1011  # RFC 6455 §7.4.1: an unexpected condition (uvicorn's answer too)


def websocket_scope(
    conn: Any, root_path: str, state: dict[str, Any] | None, scheme: str
) -> dict[str, Any]:
    """The connection scope of one upgrade request (`conn`: _native.WebSocketConnection).
    `path` stays the full path and `root_path` names a mount's prefix, as in http_scope."""
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": ASGI_VERSION,
        "http_version": "1.1",
        "scheme": scheme,
        "path": conn.path,
        "raw_path": conn.raw_path,
        "root_path": root_path,
        "query_string": conn.query_string,
        # Names are lower-cased by the engine; values are ISO-8859-1 (RFC 9110 §5.5).
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in conn.header_list],
        "client": tuple(conn.client),
        "server": None,
        "subprotocols": conn.subprotocols,
    }
    if state is not None:
        scope["state"] = state.copy()
    return scope


class Session:
    """`receive` and `send` of one WebSocket connection, over the engine's socket."""

    __slots__ = ("_disconnect", "ws")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._disconnect: dict[str, Any] | None = None

    async def receive(self) -> dict[str, Any]:
        """websocket.connect, then websocket.receive ("text" or "bytes") per message, then
        websocket.disconnect with the peer's code and reason (again on every later call)."""
        if self._disconnect is not None:
            return self._disconnect
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
        return message

    async def send(self, message: dict[str, Any]) -> None:
        """websocket.accept / websocket.send / websocket.close. Once the peer is gone, a send
        raises ClientDisconnected (spec 2.4: an OSError subclass; Starlette turns it into
        its WebSocketDisconnect)."""
        kind = message["type"]
        if kind not in ("websocket.accept", "websocket.send", "websocket.close"):
            raise RuntimeError(f"ASGI: unexpected message {kind!r} on a WebSocket connection")
        if kind == "websocket.close" and self.ws.application_state is WebSocketState.DISCONNECTED:
            return  # the peer closed first: the engine has answered its close already
        try:
            await self.ws.send(message)
        except WebSocketDisconnect as e:
            self._disconnect = {"type": "websocket.disconnect", "code": e.code, "reason": e.reason}
            raise ClientDisconnected(f"the client disconnected ({e.code})") from None


def ws_limits(config: Any) -> dict[str, Any]:
    """The engine's WebSocket limits from a fasterapi.server.Config (uvicorn's --ws-* names)."""
    return {
        "max_message_bytes": getattr(config, "ws_max_size", 16 * 1024 * 1024),
        "ping_interval": getattr(config, "ws_ping_interval", 20.0),
        "pong_timeout": getattr(config, "ws_ping_timeout", 20.0),
        "permessage_deflate": getattr(config, "ws_per_message_deflate", True),
        "deflate_level": getattr(config, "ws_deflate_level", 6),
    }


def add_asgi_route(
    server: Any,
    path: str,
    endpoint: Any,
    is_async: bool,
    adapter: Any,
    tasks: set[asyncio.Task[Any]],
    config: Any = None,
) -> None:
    """Register GET `path` for the ASGI adapter's HTTP `endpoint` and for WebSocket upgrades
    run as the adapter's app's websocket scope. The Task of each open socket goes into `tasks`
    (the graceful drain waits for it)."""
    loop = asyncio.get_running_loop()
    scheme = "wss" if getattr(server, "tls", False) else "ws"

    def start(conn: Any) -> None:
        scope = websocket_scope(conn, adapter.root_path, adapter.state, scheme)
        task = loop.create_task(
            serve(adapter.app, scope, WebSocket(conn)), context=contextvars.copy_context()
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server.add_route_and_websocket(path, endpoint, is_async, start, **ws_limits(config))


async def serve(app: Any, scope: dict[str, Any], ws: WebSocket) -> None:
    """The app's whole life on one socket; the socket is ended as uvicorn ends it: not
    accepted → 403; returned → close 1000; raised → 1011 with the traceback logged;
    cancelled (shutdown) → 1001."""
    session = Session(ws)
    exc: BaseException | None = None
    try:
        await app(scope, session.receive, session.send)
    except BaseException as e:
        exc = e
        if not isinstance(e, asyncio.CancelledError | ClientDisconnected):
            log = error_log.debug if session._disconnect is not None else error_log.error
            log("Exception in ASGI application (WebSocket %s)", scope["path"], exc_info=e)
    state = ws.application_state
    if state is WebSocketState.CONNECTING:
        await ws.close()  # before accept: the handshake is refused with 403
    elif state is WebSocketState.CONNECTED:
        code = 1000
        if isinstance(exc, asyncio.CancelledError):
            code = _GOING_AWAY
        elif exc is not None and not isinstance(exc, ClientDisconnected):
            code = _INTERNAL_ERROR
        await ws.close(code)
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        raise exc


__all__ = ["Session", "add_asgi_route", "serve", "websocket_scope"]
