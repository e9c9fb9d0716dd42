"""ASGIApp: any ASGI 3 application served by the engine as one endpoint(req, res). Used by
`App.mount(path, asgi_app)` and by `fasterapi run module:app` when `app` is not an App."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fasterapi import _eager
from fasterapi.asgi.exchange import Exchange
from fasterapi.asgi.scope import http_scope
from fasterapi.requests import Request
from fasterapi.responses import PlainTextResponse, Response, StreamingResponse

error_log = logging.getLogger("fasterapi.error")

# The engine's eager start (fasterapi._eager): the app runs to its first suspension inside
# this call; one that never waits finishes there with no Task and no loop round trip, one
# that suspends is handed to a real Task.
_spawn = _eager.make_spawn(None, lambda task, req, res, responder: task)


class ASGIApp:
    """Serve `app` (an ASGI 3 callable `app(scope, receive, send)`) for the requests the
    engine routes here; `root_path` is the mount prefix (scope["root_path"])."""

    def __init__(self, app: Any, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        self.state: dict[str, Any] | None = None  # lifespan state, when run as the server

    async def __call__(self, req: Request, res: Response) -> Response:
        ex = Exchange(req)
        scope = http_scope(req, self.root_path, self.state)
        try:
            task = _spawn(self.app(scope, ex.receive, ex.send), req, res, None)
        except (Exception, asyncio.CancelledError) as exc:  # raised in its first step
            _log_failure(exc, ex)
            if not ex.complete and not ex.streaming:
                return PlainTextResponse("Internal Server Error", 500)
            task = None
        if isinstance(task, asyncio.Task):  # suspended: a Task owns the app now
            task.add_done_callback(lambda t: _ended(t, ex))
            if not (ex.complete or ex.streaming):
                ex.head = asyncio.get_running_loop().create_future()
                await ex.head
                if not ex.complete and not ex.streaming and _failure(task) is not None:
                    return PlainTextResponse("Internal Server Error", 500)  # logged by _ended
        if ex.streaming:
            resp: Response = StreamingResponse(ex.stream(), ex.status)
        elif not ex.status:  # the app returned without answering (spec: server sends 500)
            if not ex.gone:
                error_log.error("ASGI app returned without sending a response")
            return PlainTextResponse("Internal Server Error", 500)
        else:
            resp = Response(b"".join(ex.body), ex.status)
        resp.raw_headers = ex.headers
        return resp


def _failure(task: asyncio.Task[Any]) -> BaseException | None:
    if not task.done():
        return None
    return asyncio.CancelledError() if task.cancelled() else task.exception()


def _ended(task: asyncio.Task[Any], ex: Exchange) -> None:
    """The app's Task finished: its failure is logged, and any unfinished answer is ended
    (a stream aborted, a waiting endpoint woken to answer 500)."""
    exc = _failure(task)
    if exc is not None:
        _log_failure(exc, ex)
    if not ex.complete:
        ex.fail()


def _log_failure(exc: BaseException, ex: Exchange) -> None:
    # The client left first: what the app raised then (OSError from send) is noise.
    log = error_log.debug if ex.gone else error_log.error
    log("Exception in ASGI application", exc_info=exc)
