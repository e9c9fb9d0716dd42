"""Tests for fasterapi.core's async helpers, on the stock asyncio loop and on uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from fasterapi.core import (
    Pipeline,
    filter_async,
    map_async,
    reduce_async,
    retry_async,
    retry_delay,
    timeout_async,
    when_all,
    when_any,
)

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    if request.param == "uvloop":
        uvloop = require_module("uvloop")  # a dev dependency: CI fails without it

        def run_uv(coro: Coroutine[Any, Any, Any]) -> Any:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return r.run(coro)

        return run_uv
    return asyncio.run


class Probe:
    """An awaitable job that records whether it finished or was cancelled."""

    def __init__(self) -> None:
        self.finished = False
        self.cancelled = False

    async def job(self, value: Any, delay: float = 0.0, fail: BaseException | None = None) -> Any:
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if fail is not None:
            raise fail
        self.finished = True
        return value


# when_all -------------------------------------------------------------------------------------


def test_when_all_keeps_input_order_and_accepts_tasks_and_futures(run: Runner) -> None:
    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        loop.call_later(0.01, fut.set_result, "future")
        task = asyncio.ensure_future(Probe().job("task", 0.02))
        return await when_all(Probe().job("coro", 0.03), task, fut)

    assert run(main()) == ["coro", "task", "future"]


def test_when_all_empty(run: Runner) -> None:
    assert run(when_all()) == []


def test_when_all_raises_first_failure_and_cancels_the_rest(run: Runner) -> None:
    slow = Probe()

    async def main() -> None:
        await when_all(Probe().job(1), Probe().job(2, 0, ValueError("bad")), slow.job(3, 10))

    with pytest.raises(ValueError, match="bad"):
        run(main())
    assert slow.cancelled and not slow.finished


def test_when_all_return_exceptions_collects_every_failure(run: Runner) -> None:
    async def main() -> list[Any]:
        p = Probe()
        return await when_all(
            p.job(1),
            p.job(2, 0.01, KeyError("k")),
            p.job(3, 0, OSError("o")),
            return_exceptions=True,
        )

    out = run(main())
    assert out[0] == 1
    assert isinstance(out[1], KeyError)
    assert isinstance(out[2], OSError)


def test_when_all_cancelled_from_outside_cancels_children(run: Runner) -> None:
    a, b = Probe(), Probe()

    async def main() -> None:
        outer = asyncio.ensure_future(when_all(a.job(1, 10), b.job(2, 10)))
        await asyncio.sleep(0.01)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer

    run(main())
    assert a.cancelled and b.cancelled


# when_any -------------------------------------------------------------------------------------


def test_when_any_returns_first_and_cancels_rest(run: Runner) -> None:
    slow1, fast, slow2 = Probe(), Probe(), Probe()

    async def main() -> tuple[int, Any]:
        return await when_any(slow1.job("a", 10), fast.job("b", 0.01), slow2.job("c", 10))

    assert run(main()) == (1, "b")
    assert fast.finished
    assert slow1.cancelled and slow2.cancelled


def test_when_any_raises_if_first_to_finish_failed(run: Runner) -> None:
    other = Probe()

    async def main() -> None:
        await when_any(other.job(1, 10), Probe().job(2, 0, RuntimeError("first")))

    with pytest.raises(RuntimeError, match="first"):
        run(main())
    assert other.cancelled


def test_when_any_needs_an_argument(run: Runner) -> None:
    with pytest.raises(ValueError):
        run(when_any())


# timeout_async --------------------------------------------------------------------------------


def test_timeout_async_fires_and_cancels(run: Runner) -> None:
    p = Probe()
    with pytest.raises(TimeoutError, match="timed out after"):
        run(timeout_async(p.job(1, 10), 0.01))
    assert p.cancelled


def test_timeout_async_cancels_a_task_input(run: Runner) -> None:
    p = Probe()

    async def main() -> asyncio.Task[Any]:
        task = asyncio.ensure_future(p.job(1, 10))
        with pytest.raises(TimeoutError):
            await timeout_async(task, 0.01)
        return task

    task = run(main())
    assert task.cancelled() and p.cancelled


def test_timeout_async_does_not_fire_when_in_time(run: Runner) -> None:
    assert run(timeout_async(Probe().job("ok", 0.001), 30)) == "ok"
    assert run(timeout_async(Probe().job("ok"), None)) == "ok"


def test_timeout_async_passes_inner_timeout_error_through(run: Runner) -> None:
    async def inner() -> None:
        raise TimeoutError("inner")

    with pytest.raises(TimeoutError, match=r"^inner$"):
        run(timeout_async(inner(), 30))


# retry_async ----------------------------------------------------------------------------------


class FakeSleep:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_retry_async_backs_off_exponentially(run: Runner) -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionError("down")
        return "up"

    sleep = FakeSleep()
    out = run(retry_async(flaky, max_retries=5, delay=0.1, backoff=2.0, jitter=0.0, sleep=sleep))
    assert out == "up"
    assert calls == 4
    assert sleep.delays == pytest.approx([0.1, 0.2, 0.4])


def test_retry_async_gives_up_with_last_error(run: Runner) -> None:
    calls = 0

    def always_fails() -> None:  # sync functions are accepted too
        nonlocal calls
        calls += 1
        raise ConnectionError(f"attempt {calls}")

    with pytest.raises(ConnectionError, match="attempt 3"):
        run(retry_async(always_fails, max_retries=2, sleep=FakeSleep()))
    assert calls == 3


def test_retry_async_only_retries_retry_on(run: Runner) -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        run(retry_async(broken, retry_on=(ConnectionError,), sleep=FakeSleep()))
    assert calls == 1


def test_retry_async_jitter_stays_in_band(run: Runner) -> None:
    async def fail() -> None:
        raise OSError

    sleep = FakeSleep()
    with pytest.raises(OSError):
        run(retry_async(fail, max_retries=50, delay=1.0, backoff=1.0, jitter=0.5, sleep=sleep))
    assert len(sleep.delays) == 50
    assert all(0.5 <= d <= 1.5 for d in sleep.delays)
    assert len(set(sleep.delays)) > 1  # actually random


def test_retry_delay_formula() -> None:
    assert retry_delay(0, 0.1, 2.0, 0.0) == pytest.approx(0.1)
    assert retry_delay(3, 0.1, 2.0, 0.0) == pytest.approx(0.8)
    assert retry_delay(10, 0.1, 2.0, 0.0, max_delay=1.0) == pytest.approx(1.0)
    assert retry_delay(0, 1.0, 2.0, 0.5, u=0.0) == pytest.approx(0.5)
    assert retry_delay(0, 1.0, 2.0, 0.5, u=1.0) == pytest.approx(1.5)


def test_retry_async_does_not_retry_cancellation(run: Runner) -> None:
    calls = 0

    async def slow() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.ensure_future(retry_async(slow, retry_on=(BaseException,)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert calls == 1


def test_retry_async_rejects_bad_arguments(run: Runner) -> None:
    with pytest.raises(ValueError):
        run(retry_async(lambda: 1, max_retries=-1))
    with pytest.raises(ValueError):
        run(retry_async(lambda: 1, jitter=2.0))


# map / filter / reduce / Pipeline -------------------------------------------------------------


class Gauge:
    """Counts calls in flight and remembers the peak."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def wrap(self, fn: Callable[[int], Awaitable[Any]]) -> Callable[[int], Awaitable[Any]]:
        async def wrapped(x: int) -> Any:
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                return await fn(x)
            finally:
                self.now -= 1

        return wrapped


async def slow_square(x: int) -> int:
    await asyncio.sleep(0.001 * (5 - x % 5))  # later items finish first
    return x * x


def test_map_async_keeps_order_and_bounds_concurrency(run: Runner) -> None:
    g = Gauge()
    out = run(map_async(g.wrap(slow_square), range(20), concurrency=3))
    assert out == [x * x for x in range(20)]
    assert g.peak == 3


def test_map_async_unbounded_and_sync_fn(run: Runner) -> None:
    g = Gauge()
    assert run(map_async(g.wrap(slow_square), range(10))) == [x * x for x in range(10)]
    assert g.peak == 10
    assert run(map_async(lambda x: x + 1, [1, 2, 3])) == [2, 3, 4]
    assert run(map_async(slow_square, [])) == []


def test_map_async_reads_async_iterables(run: Runner) -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(8):
            await asyncio.sleep(0)
            yield i

    assert run(map_async(slow_square, numbers(), concurrency=2)) == [x * x for x in range(8)]
    assert run(map_async(slow_square, numbers())) == [x * x for x in range(8)]


def test_map_async_failure_cancels_in_flight(run: Runner) -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def fn(x: int) -> int:
        started.append(x)
        if x == 2:
            raise ValueError("two")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    with pytest.raises(ValueError, match="two"):
        run(map_async(fn, range(100), concurrency=4))
    assert sorted(cancelled) == [0, 1, 3]  # the three in flight with the failure
    assert max(started) < 10  # the source was not drained


@settings(max_examples=40, deadline=None)
@given(
    delays=st.lists(st.integers(min_value=0, max_value=3), max_size=12),
    concurrency=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
)
def test_map_async_matches_a_list_comprehension(delays: list[int], concurrency: int | None) -> None:
    """Whatever order calls finish in, results follow the input and the bound holds."""
    g = Gauge()

    async def fn(i: int) -> int:
        for _ in range(delays[i]):
            await asyncio.sleep(0)  # yield a varying number of times: completion order shuffles
        return i * 7

    out = asyncio.run(map_async(g.wrap(fn), range(len(delays)), concurrency=concurrency))
    assert out == [i * 7 for i in range(len(delays))]
    assert g.peak <= (concurrency or max(len(delays), 1))


def test_map_async_rejects_bad_concurrency(run: Runner) -> None:
    with pytest.raises(ValueError):
        run(map_async(slow_square, [1], concurrency=0))


def test_filter_async_keeps_order(run: Runner) -> None:
    async def is_even(x: int) -> bool:
        await asyncio.sleep(0.001 * (x % 3))
        return x % 2 == 0

    assert run(filter_async(is_even, range(10), concurrency=4)) == [0, 2, 4, 6, 8]


def test_reduce_async(run: Runner) -> None:
    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    async def numbers() -> AsyncIterator[int]:
        for i in range(1, 5):
            yield i

    assert run(reduce_async(add, [1, 2, 3])) == 6
    assert run(reduce_async(add, numbers(), 100)) == 110
    assert run(reduce_async(lambda a, b: a * b, [2, 3, 4], 1)) == 24
    with pytest.raises(TypeError):
        run(reduce_async(add, []))


def test_pipeline_chains_stages(run: Runner) -> None:
    async def is_odd(x: int) -> bool:
        return x % 2 == 1

    base = Pipeline(range(10))
    squares = base.map(slow_square, concurrency=4)

    async def main() -> tuple[list[int], int, list[int]]:
        odd_squares = await squares.filter(is_odd)
        total = await squares.filter(is_odd).map(lambda x: x + 1).reduce(lambda a, b: a + b, 0)
        return odd_squares, total, await base

    odd_squares, total, unchanged = run(main())
    assert odd_squares == [1, 9, 25, 49, 81]
    assert total == sum(x + 1 for x in [1, 9, 25, 49, 81])
    assert unchanged == list(range(10))  # stages return new pipelines


def test_helpers_work_inside_a_fasterapi_handler() -> None:
    """The helpers run on the loop that runs FasterAPI handlers (here via the TestClient)."""
    from fasterapi import App, testing

    app = App()

    @app.get("/sum")
    async def total() -> dict[str, Any]:
        squares = await map_async(slow_square, range(4), concurrency=2)
        first = await when_any(asyncio.sleep(10, "late"), asyncio.sleep(0, "early"))
        return {"sum": sum(squares), "first": list(first)}

    with testing.TestClient(app) as client:
        r = client.get("/sum")
    assert r.status_code == 200
    assert r.json() == {"sum": 14, "first": [1, "early"]}


# C++ futures crossing into Python ----------------------------------------------------------------


def _native_futures() -> Any:
    from fasterapi import _native as native  # the extension is always required

    assert hasattr(native, "Promise"), "fasterapi._native was built without the futures bindings"
    return native


def test_native_future_is_awaitable(run: Runner) -> None:
    native = _native_futures()

    async def main() -> list[Any]:
        p = native.Promise()
        f = p.future()
        assert not f.done()
        asyncio.get_running_loop().call_later(0.01, p.set_result, {"v": 1})
        ready = native.ready_future("now")
        assert ready.done()
        return [await f, await ready, await native.ready_future(5).then(lambda v: v * 2)]

    assert run(main()) == [{"v": 1}, "now", 10]


def test_native_future_errors(run: Runner) -> None:
    native = _native_futures()

    async def main() -> None:
        p = native.Promise()
        chained = p.future().then(lambda v: 1 / v)  # raises in the C++ continuation
        p.set_result(0)
        with pytest.raises(ZeroDivisionError):
            await chained
        q = native.Promise()
        fq = q.future()
        q.set_exception(KeyError("k"))
        with pytest.raises(KeyError):
            await fq
        with pytest.raises(RuntimeError, match="already set"):
            q.set_result(1)
        broken = native.Promise()
        fb = broken.future()
        del broken  # a broken promise is an error, not a hang
        with pytest.raises(RuntimeError, match="destroyed before it was fulfilled"):
            await fb
        with pytest.raises(RuntimeError, match="already awaited"):
            await fq

    run(main())


def test_native_future_composes_with_helpers_and_cancels_cleanly(run: Runner) -> None:
    native = _native_futures()

    async def main() -> tuple[Any, Any]:
        never = native.Promise()
        p = native.Promise()
        asyncio.get_running_loop().call_soon(p.set_result, "native")
        first = await when_any(never.future(), p.future())
        late = native.Promise()
        with pytest.raises(TimeoutError):
            await timeout_async(late.future(), 0.01)
        late.set_result("ignored")  # its asyncio future was cancelled: no InvalidStateError
        both = await when_all(native.ready_future(1), Probe().job(2))
        return first, both

    assert run(main()) == ((1, "native"), [1, 2])
