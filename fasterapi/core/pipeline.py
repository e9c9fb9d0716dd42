"""map_async, filter_async, reduce_async and Pipeline: async sequence operations.

Functions may be sync or async (a result that is awaitable is awaited). Sources may be plain
or async iterables. Results keep input order. A bound on concurrency limits how many calls
are in flight; on the first failure the calls still running are cancelled and it is raised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Generator, Iterable
from typing import Any, Generic, TypeVar, overload

from fasterapi.core.compose import when_all

T = TypeVar("T")
U = TypeVar("U")
A = TypeVar("A")

Source = Iterable[T] | AsyncIterable[T]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _check_concurrency(concurrency: int | None) -> None:
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be >= 1 or None (no bound), got {concurrency}")


async def _to_list(items: Source[T]) -> list[T]:
    if isinstance(items, AsyncIterable):
        return [x async for x in items]
    return list(items)


@overload
async def map_async(
    fn: Callable[[T], Awaitable[U]], items: Source[T], *, concurrency: int | None = None
) -> list[U]: ...
@overload
async def map_async(
    fn: Callable[[T], U], items: Source[T], *, concurrency: int | None = None
) -> list[U]: ...
async def map_async(
    fn: Callable[[T], Any], items: Source[T], *, concurrency: int | None = None
) -> list[Any]:
    """Return ``[await fn(x) for x in items]`` computed concurrently, in input order.

    At most ``concurrency`` calls are in flight (None: no bound). An async iterable source is
    read lazily when bounded. The first failure cancels the calls in flight and is raised.
    """
    _check_concurrency(concurrency)
    results: dict[int, Any] = {}
    if concurrency is None or not isinstance(items, AsyncIterable):
        pending = list(enumerate(await _to_list(items)))
        workers = len(pending) if concurrency is None else min(concurrency, len(pending))
        it = iter(pending)

        async def next_item() -> tuple[int, T] | None:
            return next(it, None)

    else:
        aiter_ = aiter(items)
        lock = asyncio.Lock()  # an async generator must not be entered by two workers at once
        counter = iter(range(1 << 62))
        workers = concurrency

        async def next_item() -> tuple[int, T] | None:
            async with lock:
                try:
                    item = await anext(aiter_)
                except StopAsyncIteration:
                    return None
                return next(counter), item

    async def worker() -> None:
        while (nxt := await next_item()) is not None:
            index, item = nxt
            results[index] = await _call(fn, item)

    await when_all(*(worker() for _ in range(workers)))
    return [results[i] for i in range(len(results))]


async def filter_async(
    pred: Callable[[T], Any],
    items: Source[T],
    *,
    concurrency: int | None = None,
) -> list[T]:
    """Return the items for which ``pred`` (sync or async) is true, in input order."""
    values = await _to_list(items)
    keep = await map_async(pred, values, concurrency=concurrency)
    return [v for v, k in zip(values, keep, strict=True) if k]


@overload
async def reduce_async(
    fn: Callable[[A, T], Awaitable[A]], items: Source[T], initial: Any = _MISSING
) -> A: ...
@overload
async def reduce_async(fn: Callable[[A, T], A], items: Source[T], initial: Any = _MISSING) -> A: ...
async def reduce_async(
    fn: Callable[[Any, T], Any], items: Source[T], initial: Any = _MISSING
) -> Any:
    """Fold ``items`` left to right with ``fn(acc, item)`` (sync or async), like functools.reduce.

    Raises TypeError for an empty source without ``initial``.
    """
    acc: Any = initial
    if isinstance(items, AsyncIterable):
        async for item in items:
            acc = item if acc is _MISSING else await _call(fn, acc, item)
    else:
        for item in items:
            acc = item if acc is _MISSING else await _call(fn, acc, item)
    if acc is _MISSING:
        raise TypeError("reduce_async() of an empty sequence with no initial value")
    return acc


class Pipeline(Generic[T]):
    """A chain of map/filter stages over a source; ``await`` it for the list of results.

    >>> await Pipeline(range(5)).map(double, concurrency=2).filter(is_big)   # doctest: +SKIP

    Each stage returns a new Pipeline (the original is unchanged); ``reduce`` ends the chain
    and returns an awaitable of the folded value.
    """

    def __init__(self, source: Source[T]) -> None:
        self._source: Source[Any] = source
        self._stages: tuple[tuple[str, Callable[..., Any], int | None], ...] = ()

    def _with(self, kind: str, fn: Callable[..., Any], concurrency: int | None) -> Pipeline[Any]:
        _check_concurrency(concurrency)
        nxt: Pipeline[Any] = Pipeline(self._source)
        nxt._stages = (*self._stages, (kind, fn, concurrency))
        return nxt

    @overload
    def map(
        self, fn: Callable[[T], Awaitable[U]], *, concurrency: int | None = None
    ) -> Pipeline[U]: ...
    @overload
    def map(self, fn: Callable[[T], U], *, concurrency: int | None = None) -> Pipeline[U]: ...
    def map(self, fn: Callable[[T], Any], *, concurrency: int | None = None) -> Pipeline[Any]:
        """Add a stage applying ``fn`` to every item (see map_async)."""
        return self._with("map", fn, concurrency)

    def filter(self, pred: Callable[[T], Any], *, concurrency: int | None = None) -> Pipeline[T]:
        """Add a stage keeping the items for which ``pred`` is true (see filter_async)."""
        return self._with("filter", pred, concurrency)

    async def run(self) -> list[T]:
        """Run every stage in order and return the final items."""
        values: Any = self._source
        for kind, fn, concurrency in self._stages:
            if kind == "map":
                values = await map_async(fn, values, concurrency=concurrency)
            else:
                values = await filter_async(fn, values, concurrency=concurrency)
        return await _to_list(values)

    async def reduce(self, fn: Callable[[Any, T], Any], initial: Any = _MISSING) -> Any:
        """Run the pipeline and fold its results with ``fn`` (see reduce_async)."""
        return await reduce_async(fn, await self.run(), initial)

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self.run().__await__()


__all__ = ["Pipeline", "filter_async", "map_async", "reduce_async"]
