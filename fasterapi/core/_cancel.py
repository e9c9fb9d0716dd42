"""Shared plumbing for the async helpers: turning awaitables into futures and cancelling them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any


def as_future(aw: Awaitable[Any]) -> asyncio.Future[Any]:
    """Wrap a coroutine in a Task; return a Task or Future as is (raises TypeError otherwise)."""
    return asyncio.ensure_future(aw)


async def cancel_and_wait(futures: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel every unfinished future, wait until all have finished, and mark their exceptions
    as retrieved so asyncio does not log "exception was never retrieved"."""
    futs = list(futures)
    for f in futs:
        if not f.done():
            f.cancel()
    if futs:
        await asyncio.wait(futs)
    for f in futs:
        if not f.cancelled():
            f.exception()
