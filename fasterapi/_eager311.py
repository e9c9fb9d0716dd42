"""Eager start of async handlers on Python 3.11, which has no eager tasks (see `_eager`).

asyncio.timeout(), TaskGroup and anyio (httpx) need a current task that stays the same object
for the handler's whole life, from its eager first step (no Task exists yet) to its end (a real
Task drives it). This module keeps that promise with asyncio's private table of current
tasks (`asyncio.tasks._current_tasks`) and a stand-in task object; it is imported on 3.11
only, where those internals are known. Any task current when a handler starts is swapped
out for the step and back."""

from __future__ import annotations

import asyncio
import collections.abc
from typing import Any

from fasterapi import _native
from fasterapi._eager import Finish, Spawn


class _StandInTask:
    """asyncio.current_task() for a handler, from its eager first step to its end.

    Python 3.11 has no eager tasks, and asyncio.timeout(), TaskGroup and anyio (httpx) need a
    current task that stays the same object for the handler's whole life. So the handler
    always sees this object: during the eager step there is no Task yet; once it suspends, a
    real Task drives it (an EagerResume, below) and cancel()/uncancel()/cancelling() and any other
    attribute are forwarded to that Task."""

    # Class-level defaults: creating one per request is a bare allocation plus `_coro`.
    task: asyncio.Task[Any] | None = None
    _cancels = 0
    _coro: Any = None

    def cancel(self, msg: Any = None) -> bool:
        if self.task is not None:
            return self.task.cancel(msg)
        self._cancels += 1
        return True

    def uncancel(self) -> int:
        if self.task is not None:
            return self.task.uncancel()
        self._cancels = max(0, self._cancels - 1)
        return self._cancels

    def cancelling(self) -> int:
        return self.task.cancelling() if self.task is not None else self._cancels

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.task.get_loop() if self.task is not None else asyncio.get_running_loop()

    def get_coro(self) -> Any:
        return self._coro

    def done(self) -> bool:
        return self.task.done() if self.task is not None else False

    def __getattr__(self, name: str) -> Any:
        task = self.task
        if task is not None:
            return getattr(task, name)
        if name == "_must_cancel":
            return self._cancels > 0
        if name == "_fut_waiter":
            return None
        if name == "_callbacks":
            return []
        if name == "get_name":
            return lambda: "fasterapi-eager"
        raise AttributeError(name)


# The spawn and the coroutine its Tasks drive are C (bindings/core/eager_spawner.cpp and
# eager_resume.cpp): they run on every async request, and there a returning handler raises no
# StopIteration and a Task step is no Python frame. The spawn runs the handler to its first
# suspension in a fresh context with a _StandInTask as asyncio's current task
# (asyncio.tasks._current_tasks, the task current before put back after); a handler that
# suspended is handed to a Task over an EagerResume, whose first step yields the future the
# handler is waiting on and whose later steps forward send/throw to the handler with the
# stand-in current, so the handler sees one task throughout. The handler's end is answered
# inside its last step (no done callback, no extra loop pass): finish(result, exc, req, res,
# responder) runs, the Task leaves `live` and ends with None (an exception was handed to
# `finish`, so asyncio must not also log it as never retrieved) or cancelled.
_native.eager_setup(
    asyncio.tasks._current_tasks,  # type: ignore[attr-defined]
    asyncio.CancelledError,
    asyncio.Task,
    asyncio.get_running_loop,
)
collections.abc.Coroutine.register(_native.EagerResume)
# Task names: fixed, as 3.11 formats "Task-N" per Task otherwise.
_TASK_NAME = "fasterapi-handler"


def make_finishing_spawn(
    loop: asyncio.AbstractEventLoop | None,
    live: set[asyncio.Task[Any]],
    finish: Finish,
    pending: Any,
) -> Spawn:
    """spawn(coro, req, res, responder): the coroutine's result if it finished without
    suspending (its exception is raised), else `pending`; the Task that then drives it is in
    `live` until it ends, and its end is answered by finish(result, exc, req, res, responder)
    inside its last step. The one spawn of both the App's handlers and mounted ASGI apps."""
    return _native.EagerSpawner(loop, live, finish, pending, _StandInTask, _TASK_NAME)
