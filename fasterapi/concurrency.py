"""Run blocking code off the event loop: FastAPI's `fastapi.concurrency` names.

Sync handlers run inline on the loop in FasterAPI (docs/migration-from-fastapi.md); these
are how a handler hands blocking work to a thread instead."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


async def run_in_threadpool(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`func(*args, **kwargs)` in the loop's default thread pool, with the caller's context
    variables; returns its result or raises what it raised."""
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


_DONE = object()


async def iterate_in_threadpool(iterator: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterator, one `next()` per thread-pool call."""
    it: Iterator[T] = iter(iterator)
    while True:
        item = await run_in_threadpool(next, it, _DONE)
        if item is _DONE:
            return
        yield item  # type: ignore[misc]


@contextlib.asynccontextmanager
async def contextmanager_in_threadpool(
    cm: contextlib.AbstractContextManager[T],
) -> AsyncIterator[T]:
    """Enter and exit a blocking context manager in the thread pool."""
    value = await run_in_threadpool(cm.__enter__)
    try:
        yield value
    except BaseException as exc:
        if not await run_in_threadpool(cm.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await run_in_threadpool(cm.__exit__, None, None, None)
