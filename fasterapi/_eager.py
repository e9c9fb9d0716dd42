"""Eager start of async handlers: run the coroutine to its first suspension inside the
engine's call. If it finishes there, its result is answered at once; if it suspends, a real
asyncio Task owns it (cancellation, contextvars and asyncio.timeout behave) and the response
is finished later by the Task.

Python 3.12+ does this with asyncio's own eager tasks (`Task(..., eager_start=True)`, public
API). Python 3.11 has none; its stand-in lives in `_eager311` and is used there only."""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable, Coroutine
from typing import Any

Spawn = Callable[[Coroutine[Any, Any, Any], Any, Any, Any], Any]
# finish(result, exc, req, res, responder): answers a suspended handler once it ends
Finish = Callable[[Any, BaseException | None, Any, Any, Any], None]

if sys.version_info >= (3, 12):

    def make_finishing_spawn(
        loop: asyncio.AbstractEventLoop | None,
        live: set[asyncio.Task[Any]],
        finish: Finish,
        pending: Any,
    ) -> Spawn:
        """spawn(coro, req, res, responder): the coroutine's result if it finished without
        suspending (its exception is raised), else `pending`; the Task that then drives it is
        in `live` until it ends, and its end is answered by finish(result, exc, req, res,
        responder) from one done callback. The one spawn of both the App's handlers
        (fasterapi/_dispatch.py) and mounted ASGI apps (fasterapi/asgi/adapter.py)."""
        new_task = asyncio.Task
        copy_context = contextvars.copy_context
        cancelled = asyncio.CancelledError

        def spawn(coro: Coroutine[Any, Any, Any], req: Any, res: Any, responder: Any) -> Any:
            lp = loop or asyncio.get_running_loop()
            # A fresh context per request; the eager step swaps any current task out and back.
            task = new_task(coro, loop=lp, context=copy_context(), eager_start=True)
            if task.done():
                return task.result()
            live.add(task)

            def done(t: asyncio.Task[Any]) -> None:
                live.discard(t)
                if t.cancelled():
                    finish(None, cancelled(), req, res, responder)
                    return
                exc = t.exception()
                finish(None if exc is not None else t.result(), exc, req, res, responder)

            # In the handler's context, as FastAPI's exception handlers see the endpoint's.
            task.add_done_callback(done, context=task.get_context())
            return pending

        return spawn

else:  # pragma: no cover - exercised by the Python 3.11 test run
    from fasterapi._eager311 import make_finishing_spawn as make_finishing_spawn
