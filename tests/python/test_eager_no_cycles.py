"""A suspended handler's objects (its request, response, Task, stand-in task) go by reference
counting once it is answered: no cycle is left for the collector, whose collections cost the
TechEmpower fortunes route ~8.5K instructions a request when each request left nine objects
in cycles (fasterapi._eager311._Resume <-> Task <-> stand-in)."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from typing import Any

import pytest

from fasterapi import _eager


class _Req:
    """A weak-referenceable stand-in for a request."""


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.11's stand-in task path (_eager311)")
# A cancelled Task keeps its CancelledError, whose traceback holds the step's frame and so the
# Task: that cycle is asyncio's, on a path (client gone) that is not the per-request one.
@pytest.mark.parametrize("outcome", ["result", "error"])
def test_suspended_handler_leaves_no_cycle(outcome: str) -> None:
    answered: list[str] = []

    def finish(result: Any, exc: BaseException | None, req: Any, res: Any, rsp: Any) -> None:
        answered.append(type(exc).__name__ if exc is not None else repr(result))

    async def handler() -> int:
        assert asyncio.current_task() is not None
        await asyncio.sleep(0 if outcome != "cancel" else 100)
        if outcome == "error":
            raise ValueError("x")
        return 1

    async def main() -> None:
        live: set[asyncio.Task[Any]] = set()
        spawn = _eager.make_finishing_spawn(None, live, finish, object())
        req, res = _Req(), _Req()
        refs = [weakref.ref(req), weakref.ref(res)]
        spawn(handler(), req, res, None)
        [task] = live
        task_ref = weakref.ref(task)
        del req, res, task
        for _ in range(3):
            await asyncio.sleep(0)
        if outcome == "cancel":
            next(iter(live)).cancel()
            for _ in range(3):
                await asyncio.sleep(0)
        assert not live and len(answered) == 1
        assert [r() for r in refs] == [None, None], "request/response kept by a cycle"
        assert task_ref() is None, "the Task kept by a cycle"

    gc.disable()  # only reference counting may free them
    try:
        asyncio.run(main())
    finally:
        gc.enable()
