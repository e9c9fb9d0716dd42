"""The engine's spawn for suspended handlers (fasterapi._eager.make_finishing_spawn): a handler
that finishes eagerly is answered at once; one that suspends is answered by `finish` once,
with its result, its exception, or CancelledError, in the handler's context, and its Task
leaves `live`. Runs on whichever Python runs the suite (3.11's stand-in, 3.12+'s eager Task)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from fasterapi import _eager

cv: contextvars.ContextVar[str] = contextvars.ContextVar("cv", default="unset")
PENDING = object()


def test_finish_answers_each_end_once_and_live_empties() -> None:
    got: dict[str, tuple[Any, str | None, str]] = {}

    def finish(result: Any, exc: BaseException | None, req: Any, res: Any, rsp: Any) -> None:
        assert req not in got, "answered twice"
        got[req] = (result, type(exc).__name__ if exc is not None else None, cv.get())

    async def no_suspend() -> int:
        cv.set("a")
        return 1

    async def suspend() -> int:
        task = asyncio.current_task()
        cv.set("b")
        await asyncio.sleep(0)
        assert asyncio.current_task() is task  # one task from the eager step to the end
        return 2

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("x")

    async def forever() -> None:
        await asyncio.sleep(100)

    async def main() -> None:
        live: set[asyncio.Task[Any]] = set()
        spawn = _eager.make_finishing_spawn(None, live, finish, PENDING)
        assert spawn(no_suspend(), "n", None, None) == 1
        assert spawn(suspend(), "s", None, None) is PENDING
        assert spawn(fails(), "f", None, None) is PENDING
        assert spawn(forever(), "c", None, None) is PENDING
        assert cv.get() == "unset"  # each handler ran in its own context
        assert len(live) == 3
        for _ in range(5):
            await asyncio.sleep(0)
        [task] = live
        task.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert not live

    asyncio.run(main())
    assert got == {
        "s": (2, None, "b"),
        "f": (None, "ValueError", "unset"),
        "c": (None, "CancelledError", "unset"),
    }
