"""Async composition helpers for any asyncio code (uvloop included), and the bridge that makes
the C++ core's futures awaitable."""

from fasterapi.core.compose import timeout_async, when_all, when_any
from fasterapi.core.pipeline import Pipeline, filter_async, map_async, reduce_async
from fasterapi.core.retry import retry_async, retry_delay

__all__ = [
    "Pipeline",
    "filter_async",
    "map_async",
    "reduce_async",
    "retry_async",
    "retry_delay",
    "timeout_async",
    "when_all",
    "when_any",
]
