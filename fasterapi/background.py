"""Background tasks: functions that run after the response has been sent."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

_log = logging.getLogger("fasterapi.error")


class BackgroundTask:
    """One call `func(*args, **kwargs)`; sync functions run in the default thread pool."""

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.func, self.args, self.kwargs = func, args, kwargs
        self.is_async = inspect.iscoroutinefunction(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            call = functools.partial(self.func, *self.args, **self.kwargs)
            await asyncio.get_running_loop().run_in_executor(None, call)


class BackgroundTasks(BackgroundTask):
    """Tasks run in order after the response; a failing task is logged and the rest still run."""

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks) if tasks else []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            try:
                await task()
            except Exception:
                _log.exception("background task %r failed", task.func)


_running: set[asyncio.Task[None]] = set()


def schedule(task: BackgroundTask) -> None:
    """Start `task` on the running loop (called once the response is on the socket)."""
    t = asyncio.get_running_loop().create_task(task())  # type: ignore[arg-type]
    _running.add(t)
    t.add_done_callback(_running.discard)
