"""The ends of a suspended handler that test_eager_finish.py does not reach: a handler that
catches its cancellation and returns, an exception's traceback as `finish` receives it, and
nothing logged by asyncio for an exception `finish` was handed. On Python 3.11 these run
through the C coroutine a Task drives (bindings/core/eager_resume.cpp: its throw() path, its
exception path); on 3.12+ through asyncio's eager Task."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import traceback
from typing import Any

import pytest

from fasterapi import _eager

PENDING = object()


def run_spawned(*handlers: tuple[str, Any]) -> dict[str, tuple[Any, BaseException | None]]:
    """Spawns each handler, cancels those named "cancel*" once they have suspended, and
    returns what finish received per name."""
    got: dict[str, tuple[Any, BaseException | None]] = {}

    def finish(result: Any, exc: BaseException | None, req: Any, res: Any, rsp: Any) -> None:
        assert req not in got, "answered twice"
        got[req] = (result, exc)

    async def main() -> None:
        live: set[asyncio.Task[Any]] = set()
        spawn = _eager.make_finishing_spawn(None, live, finish, PENDING)
        tasks: dict[str, asyncio.Task[Any]] = {}
        for name, handler in handlers:
            assert spawn(handler(), name, None, None) is PENDING
            tasks[name] = next(t for t in live if t not in tasks.values())
        for _ in range(3):
            await asyncio.sleep(0)
        for name, task in tasks.items():
            if name.startswith("cancel"):
                task.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert not live
        for name, task in tasks.items():
            assert task.done()
            # the Task ends cancelled only when its handler did; otherwise finish answered
            assert task.cancelled() == (name == "cancel-raises")

    asyncio.run(main())
    return got


def test_a_handler_that_catches_its_cancellation_is_answered_with_its_result() -> None:
    async def catches() -> str:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # still running after the cancellation
            return "cleaned up"
        return "not cancelled"

    async def returns_at_once() -> str:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            return "at once"  # the Task's throw() itself ends the handler
        return "not cancelled"

    async def raises() -> None:
        await asyncio.sleep(100)

    got = run_spawned(
        ("cancel-catches", catches), ("cancel-returns", returns_at_once), ("cancel-raises", raises)
    )
    assert got["cancel-catches"] == ("cleaned up", None)
    assert got["cancel-returns"] == ("at once", None)
    result, exc = got["cancel-raises"]
    assert result is None and isinstance(exc, asyncio.CancelledError)


def test_a_cancel_during_the_eager_step_reaches_the_task() -> None:
    """cancel() on the current task before the first suspension (there is no Task yet on 3.11:
    the stand-in counts it) is delivered at the handler's first await once the Task exists."""

    async def cancels_itself() -> str:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            return "cancelled at its first await"
        return "not cancelled"

    async def cancels_itself_and_ends() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    got = run_spawned(("recovers", cancels_itself), ("cancel-raises", cancels_itself_and_ends))
    assert got["recovers"] == ("cancelled at its first await", None)
    result, exc = got["cancel-raises"]
    assert result is None and isinstance(exc, asyncio.CancelledError)


def test_finish_receives_the_exception_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def deep_failure() -> None:
        raise LookupError("from the handler")

    async def fails_after_suspending() -> None:
        await asyncio.sleep(0)
        await deep_failure()

    async def fails_after_a_future() -> None:
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(fut.set_result, None)
        await fut  # the Task's first step yields this future (a bare yield is another path)
        raise ValueError("later")

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        got = run_spawned(("a", fails_after_suspending), ("b", fails_after_a_future))
        gc.collect()  # an unretrieved Task exception would be logged when the Task goes
    result, exc = got["a"]
    assert result is None and isinstance(exc, LookupError)
    frames = [f.name for f in traceback.extract_tb(exc.__traceback__)]
    assert frames[-2:] == ["fails_after_suspending", "deep_failure"]
    result, exc = got["b"]
    assert result is None and isinstance(exc, ValueError)
    # finish was handed the exception: asyncio must not also report it as never retrieved
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


def test_the_task_drives_the_native_coroutine_on_python_311() -> None:
    """On 3.11 the Task's coroutine is fasterapi._native.EagerResume, awaitable and closeable
    as a coroutine is; 3.12+ gives the handler's own coroutine to an eager Task."""
    seen: list[Any] = []

    async def handler() -> None:
        seen.append(asyncio.current_task())
        await asyncio.sleep(100)

    async def main() -> None:
        live: set[asyncio.Task[Any]] = set()
        spawn = _eager.make_finishing_spawn(None, live, lambda *a: None, PENDING)
        coro = handler()
        assert spawn(coro, "r", None, None) is PENDING
        [task] = live
        driven = task.get_coro()
        if sys.version_info < (3, 12):
            from fasterapi import _native

            assert type(driven) is _native.EagerResume
            assert driven.__await__() is driven and iter(driven) is driven
            assert driven.task is task
        else:
            assert driven is coro
        task.cancel()
        for _ in range(3):  # 3.12+ answers from a done callback, one loop pass after the end
            await asyncio.sleep(0)
        assert task.cancelled() and not live
        if sys.version_info < (3, 12):
            assert driven.task is None  # links to the Task dropped at the end
            driven.close()  # closing an ended handler is harmless

    asyncio.run(main())
    assert len(seen) == 1
