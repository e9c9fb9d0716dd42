"""Eager start of async handlers on Python 3.11, which has no eager tasks (see `_eager`).

asyncio.timeout(), TaskGroup and anyio (httpx) need a current task that stays the same object
for the handler's whole life, from its eager first step (no Task exists yet) to its end (a real
Task drives it). This module keeps that promise with asyncio's private `_enter_task` and
`_leave_task` and a stand-in task object; it is imported on 3.11 only, where those internals
are known. Any task current when a handler starts is swapped out for the step and back."""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
from collections.abc import Coroutine
from typing import Any

from fasterapi._eager import OnSuspend, Spawn

# asyncio's bookkeeping of the current task (C functions; typed for real Tasks only).
_enter_task: Any = asyncio.tasks._enter_task  # type: ignore[attr-defined]
_leave_task: Any = asyncio.tasks._leave_task  # type: ignore[attr-defined]
_current_task = asyncio.current_task
_copy_context = contextvars.copy_context


class _StandInTask:
    """asyncio.current_task() for a handler, from its eager first step to its end.

    Python 3.11 has no eager tasks, and asyncio.timeout(), TaskGroup and anyio (httpx) need a
    current task that stays the same object for the handler's whole life. So the handler
    always sees this object: during the eager step there is no Task yet; once it suspends, a
    real Task drives it (see _Resume) and cancel()/uncancel()/cancelling() and any other
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


_NOTHING = object()


class _Resume:
    """The coroutine a Task drives for a handler that suspended during its eager step: first
    yields the future the handler is waiting on, then forwards send/throw to the handler,
    with the stand-in as the current task so the handler sees one task throughout."""

    __slots__ = ("coro", "first", "loop", "stand_in")

    def __init__(self, coro: Any, first: Any, loop: Any, stand_in: _StandInTask) -> None:
        self.coro, self.first, self.loop, self.stand_in = coro, first, loop, stand_in

    def send(self, value: Any) -> Any:
        first = self.first
        if first is not _NOTHING:
            self.first = _NOTHING
            return first
        return self._step(self.coro.send, value)

    def throw(self, *exc: Any) -> Any:
        self.first = _NOTHING
        return self._step(self.coro.throw, *exc)

    def _step(self, fn: Any, *arg: Any) -> Any:
        loop, stand_in = self.loop, self.stand_in
        task = stand_in.task
        _leave_task(loop, task)
        _enter_task(loop, stand_in)
        try:
            return fn(*arg)
        finally:
            _leave_task(loop, stand_in)
            _enter_task(loop, task)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> _Resume:
        return self

    def __iter__(self) -> _Resume:
        return self

    def __next__(self) -> Any:
        return self.send(None)


collections.abc.Coroutine.register(_Resume)


def make_spawn(loop: asyncio.AbstractEventLoop | None, suspended: OnSuspend) -> Spawn:
    """spawn(coro, req, res, responder): the coroutine's result if it finished without
    suspending (its exception is raised), else whatever `suspended` returns for the Task
    that now drives it."""

    def spawn(coro: Coroutine[Any, Any, Any], req: Any, res: Any, responder: Any) -> Any:
        lp = loop or asyncio.get_running_loop()
        ctx = _copy_context()
        stand_in = _StandInTask()
        stand_in._coro = coro
        outer = _current_task(lp)
        if outer is not None:
            _leave_task(lp, outer)
        _enter_task(lp, stand_in)
        try:
            fut = ctx.run(coro.send, None)
        except StopIteration as stop:
            return stop.value
        finally:
            _leave_task(lp, stand_in)
            if outer is not None:
                _enter_task(lp, outer)
        task: asyncio.Task[Any] = lp.create_task(
            _Resume(coro, fut, lp, stand_in),  # type: ignore[arg-type]
            context=ctx,
        )
        stand_in.task = task
        if stand_in._cancels:
            task.cancel()
        return suspended(task, req, res, responder)

    return spawn
