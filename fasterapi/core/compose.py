"""Parallel composition of awaitables: when_all, when_any, timeout_async.

Each accepts coroutines, Tasks and Futures, keeps input order, and cancels what it started
when it is itself cancelled or gives up. They run on whatever asyncio loop is current
(uvloop included), inside FasterAPI handlers or anywhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from fasterapi.core._cancel import as_future, cancel_and_wait

T = TypeVar("T")


async def when_all(*aws: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    """Run all awaitables concurrently and return their results in input order.

    On the first failure the others are cancelled and that exception is raised (if several
    have failed by then, the one with the lowest index). With ``return_exceptions=True`` every
    awaitable runs to the end and exceptions take the place of their results.
    """
    if not aws:
        return []
    futs = [as_future(a) for a in aws]
    try:
        mode = asyncio.ALL_COMPLETED if return_exceptions else asyncio.FIRST_EXCEPTION
        await asyncio.wait(futs, return_when=mode)
    except asyncio.CancelledError:
        await cancel_and_wait(futs)
        raise
    if return_exceptions:
        return [_outcome(f) for f in futs]
    failed = [f for f in futs if f.done() and not f.cancelled() and f.exception() is not None]
    if failed:
        await cancel_and_wait(f for f in futs if f not in failed)
        for f in failed[1:]:
            f.exception()  # retrieved: only the first is raised
        raise failed[0].exception()  # type: ignore[misc]
    return [f.result() for f in futs]


def _outcome(f: asyncio.Future[Any]) -> Any:
    if f.cancelled():
        return asyncio.CancelledError()
    return f.exception() or f.result()


async def when_any(*aws: Awaitable[Any]) -> tuple[int, Any]:
    """Return ``(index, result)`` of the first awaitable to finish; the rest are cancelled.

    If the first to finish raised, its exception is raised (after the rest are cancelled).
    Raises ValueError if called with no awaitables.
    """
    if not aws:
        raise ValueError("when_any() needs at least one awaitable")
    futs = [as_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(futs, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await cancel_and_wait(futs)
        raise
    index = next(i for i, f in enumerate(futs) if f in done)
    winner = futs[index]
    await cancel_and_wait(f for f in futs if f is not winner)
    return index, winner.result()


async def timeout_async(aw: Awaitable[T], seconds: float | None) -> T:
    """Return the result of ``aw``, or cancel it and raise TimeoutError after ``seconds``.

    ``seconds=None`` waits forever. A TimeoutError raised by ``aw`` itself passes through.
    """
    if seconds is None:
        return await aw
    cm = asyncio.timeout(seconds)
    try:
        async with cm:
            return await aw
    except TimeoutError:
        if cm.expired():
            raise TimeoutError(f"timed out after {seconds} s") from None
        raise


__all__ = ["timeout_async", "when_all", "when_any"]
