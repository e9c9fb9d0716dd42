"""retry_async: call an async function again after failures, with exponential backoff and jitter."""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def retry_delay(
    retry: int,
    delay: float,
    backoff: float,
    jitter: float,
    max_delay: float | None = None,
    u: float = 0.5,
) -> float:
    """Seconds to wait before retry number ``retry`` (0 for the first retry).

    The base ``delay * backoff**retry`` is capped at ``max_delay``, then scaled by a factor
    uniform in ``[1 - jitter, 1 + jitter]`` (``u`` is a draw in [0, 1); 0.5 means no jitter),
    so that clients that failed together do not all retry at the same instant.
    """
    base = delay * backoff**retry
    if max_delay is not None:
        base = min(base, max_delay)
    return max(0.0, base * (1.0 + jitter * (2.0 * u - 1.0)))


@overload
async def retry_async(
    fn: Callable[[], Awaitable[T]],
    max_retries: int = 3,
    delay: float = 0.1,
    backoff: float = 2.0,
    jitter: float = 0.1,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    *,
    max_delay: float | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T: ...
@overload
async def retry_async(
    fn: Callable[[], T],
    max_retries: int = 3,
    delay: float = 0.1,
    backoff: float = 2.0,
    jitter: float = 0.1,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    *,
    max_delay: float | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T: ...
async def retry_async(
    fn: Callable[[], Any],
    max_retries: int = 3,
    delay: float = 0.1,
    backoff: float = 2.0,
    jitter: float = 0.1,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    *,
    max_delay: float | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Any:
    """Call ``fn()`` (sync or async) until it succeeds; return its result.

    A failure that is an instance of ``retry_on`` is retried up to ``max_retries`` times, waiting
    :func:`retry_delay` seconds before each retry; any other failure, and the last one, is
    raised. Cancellation is never retried. ``sleep`` is replaceable (fake clocks in tests).
    """
    if max_retries < 0:
        raise ValueError(f"retry_async: max_retries must be >= 0, got {max_retries}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"retry_async: jitter must be within [0, 1], got {jitter}")
    retries = 0
    while True:
        try:
            result = fn()
            if inspect.isawaitable(result):
                return await result
            return result
        except asyncio.CancelledError:
            raise
        except retry_on:
            if retries >= max_retries:
                raise
        await sleep(retry_delay(retries, delay, backoff, jitter, max_delay, random.random()))
        retries += 1


__all__ = ["retry_async", "retry_delay"]
