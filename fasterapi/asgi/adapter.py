"""ASGIApp: any ASGI 3 application served by the engine as one endpoint(req, res). Used by
`App.mount(path, asgi_app)` and by `fasterapi run module:app` when `app` is not an App."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import Any

from fasterapi import _eager
from fasterapi.asgi import fastapi_native
from fasterapi.asgi.exchange import Exchange
from fasterapi.asgi.scope import http_scope
from fasterapi.requests import Request
from fasterapi.responses import PlainTextResponse, Response, StreamingResponse

error_log = logging.getLogger("fasterapi.error")


# The engine's eager start (fasterapi._eager): the app runs to its first suspension inside
# this call; one that never waits finishes there with no Task and no loop round trip, one
# that suspends is handed to a real Task, kept in _tasks until it ends, and its end is
# answered by _ended.
_PENDING = object()  # spawn's answer when a Task owns the app now
_tasks: set[asyncio.Task[Any]] = set()  # strong refs: asyncio only keeps weak ones


def _ended(result: Any, exc: BaseException | None, req: Any, res: Any, ex: Exchange) -> None:
    """The app's Task ended (spawn's finish): its failure is logged and kept in `ex.error`,
    and any unfinished answer is ended (a stream aborted, a waiting endpoint woken to answer
    500)."""
    if exc is not None:
        ex.error = exc
        _log_failure(exc, ex)
    if not ex.complete:
        ex.fail()


if sys.version_info >= (3, 12):
    _any_loop_spawn = _eager.make_finishing_spawn(None, _tasks, _ended, _PENDING)

    def _spawner() -> _eager.Spawn:
        return _any_loop_spawn

else:
    # Python 3.11's asyncio.get_running_loop() makes a getpid(2) system call each time (3.12
    # keeps the loop in the thread state). The loop is found once per thread instead, and
    # kept while it runs: a thread runs one loop at a time, so a cached loop that is running
    # is this thread's (a fork starts the child with none cached).
    class _ThreadLoop(threading.local):
        loop: asyncio.AbstractEventLoop | None = None
        spawn: _eager.Spawn | None = None

    _here = _ThreadLoop()

    def _forget_loop() -> None:
        _here.loop = _here.spawn = None

    os.register_at_fork(after_in_child=_forget_loop)

    def _spawner() -> _eager.Spawn:
        here = _here
        loop = here.loop
        if loop is None or here.spawn is None or not loop.is_running():
            loop = here.loop = asyncio.get_running_loop()
            here.spawn = _eager.make_finishing_spawn(loop, _tasks, _ended, _PENDING)
        return here.spawn


class ASGIApp:
    """Serve `app` (an ASGI 3 callable `app(scope, receive, send)`) for the requests the
    engine routes here; `root_path` is the mount prefix (scope["root_path"])."""

    def __init__(self, app: Any, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        self.state: dict[str, Any] | None = None  # lifespan state, when run as the server
        self._routes_seen = False  # a FastAPI app's routes get the native path at first use

    async def __call__(self, req: Request, res: Response) -> Response:
        if not self._routes_seen:  # at the first request: every route is declared by then
            self._routes_seen = True
            fastapi_native.install(self.app)
        ex = Exchange(req)
        scope = http_scope(req, self.root_path, self.state)
        try:
            suspended = _spawner()(self.app(scope, ex.receive, ex.send), req, res, ex) is _PENDING
        except (Exception, asyncio.CancelledError) as exc:  # raised in its first step
            _log_failure(exc, ex)
            if not ex.complete and not ex.streaming:
                return PlainTextResponse("Internal Server Error", 500)
            suspended = False
        if suspended and not (ex.complete or ex.streaming):  # a Task owns the app now
            ex.head = asyncio.get_running_loop().create_future()
            await ex.head
            if not ex.complete and not ex.streaming and ex.error is not None:
                return PlainTextResponse("Internal Server Error", 500)  # logged by _ended
        if ex.streaming:
            resp: Response = StreamingResponse(ex.stream(), ex.status)
        elif not ex.status:  # the app returned without answering (spec: server sends 500)
            if not ex.gone:
                error_log.error("ASGI app returned without sending a response")
            return PlainTextResponse("Internal Server Error", 500)
        else:
            # Built without __init__ (status and body are known-good here); the engine's
            # responder drops framing headers and takes content-type from the list.
            resp = Response.__new__(Response)
            resp.status_code = ex.status
            body = ex.body
            resp.body = body[0] if len(body) == 1 else b"".join(body)
        resp.raw_headers = ex.headers
        return resp


def _log_failure(exc: BaseException, ex: Exchange) -> None:
    # The client left first: what the app raised then (OSError from send) is noise.
    log = error_log.debug if ex.gone else error_log.error
    log("Exception in ASGI application", exc_info=exc)
