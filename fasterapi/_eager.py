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

# suspended(task, req, res, responder) -> the engine's "answered later" sentinel
OnSuspend = Callable[[asyncio.Task[Any], Any, Any, Any], Any]
Spawn = Callable[[Coroutine[Any, Any, Any], Any, Any, Any], Any]

if sys.version_info >= (3, 12):

    def make_spawn(loop: asyncio.AbstractEventLoop | None, suspended: OnSuspend) -> Spawn:
        """spawn(coro, req, res, responder): the coroutine's result if it finished without
        suspending (its exception is raised), else whatever `suspended` returns."""
        new_task = asyncio.Task
        copy_context = contextvars.copy_context

        def spawn(coro: Coroutine[Any, Any, Any], req: Any, res: Any, responder: Any) -> Any:
            lp = loop or asyncio.get_running_loop()
            # A fresh context per request; the eager step swaps any current task out and back.
            task = new_task(coro, loop=lp, context=copy_context(), eager_start=True)
            if task.done():
                return task.result()
            return suspended(task, req, res, responder)

        return spawn

else:  # pragma: no cover - exercised by the Python 3.11 test run
    from fasterapi._eager311 import make_spawn as make_spawn
