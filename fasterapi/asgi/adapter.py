"""ASGIApp: any ASGI 3 application served by the engine as one endpoint(req, res). Used by
`App.mount(path, asgi_app)` and by `fasterapi run module:app` when `app` is not an App."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from fasterapi.asgi.exchange import Exchange
from fasterapi.asgi.scope import http_scope
from fasterapi.requests import Request
from fasterapi.responses import PlainTextResponse, Response, StreamingResponse

error_log = logging.getLogger("fasterapi.error")

if sys.version_info >= (3, 12):

    def _start(coro: Any) -> asyncio.Task[Any]:
        # Eager: an app that never waits finishes here, with no loop round trip.
        return asyncio.Task(coro, eager_start=True)

else:  # pragma: no cover - 3.11 has no eager tasks: one loop round trip per request

    def _start(coro: Any) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(coro)


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
        task = _start(self.app(scope, ex.receive, ex.send))
        if not task.done():
            task.add_done_callback(lambda t: _ended(t, ex))
            if not (ex.complete or ex.streaming):
                ex.head = asyncio.get_running_loop().create_future()
                await ex.head
        if task.done() and (task.cancelled() or task.exception() is not None):
            if not ex.complete and not ex.streaming:
                _log_failure(task, ex)
                return PlainTextResponse("Internal Server Error", 500)
            if task.done() and ex.head is None:  # ended in the eager step: no callback ran
                _log_failure(task, ex)
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


def _ended(task: asyncio.Task[Any], ex: Exchange) -> None:
    """The app's task finished after the eager step: a failure once the answer had started
    is logged here (Starlette's ServerErrorMiddleware raises after sending its 500); any
    unfinished answer is ended (a stream aborted, a waiting endpoint woken)."""
    failed = task.cancelled() or task.exception() is not None
    if failed and (ex.complete or ex.streaming):
        _log_failure(task, ex)
    if not ex.complete:
        ex.fail()


def _log_failure(task: asyncio.Task[Any], ex: Exchange) -> None:
    if ex.gone:  # the client left first: what the app raised then (OSError from send) is noise
        log_fn = error_log.debug
    else:
        log_fn = error_log.error
    if task.cancelled():
        log_fn("ASGI application cancelled")
    else:
        log_fn("Exception in ASGI application", exc_info=task.exception())
