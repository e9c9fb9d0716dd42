"""Drives the native MCP server from asyncio: its epoll fd is an asyncio reader (one loop per
process, as for the HTTP engine), its timers are ticked, and the serve coroutines end cleanly."""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections.abc import Callable
from typing import Any

#: Streamable HTTP sessions idle this long (seconds) are ended, as in the official SDK.
DEFAULT_SESSION_IDLE_TIMEOUT = 1800.0
#: Live sessions at most; a further initialize gets 503, as in the official SDK.
DEFAULT_MAX_SESSIONS = 10_000


def session_limits(idle_timeout: float | None, max_sessions: int | None) -> tuple[float, int]:
    """The native transport's (idle seconds, max sessions), 0 meaning none; the official SDK's
    checks: a timeout is a positive finite number of seconds, a limit a positive count."""
    if idle_timeout is not None and not (math.isfinite(idle_timeout) and idle_timeout > 0):
        raise ValueError("session_idle_timeout must be a positive, finite number of seconds")
    if max_sessions is not None and (isinstance(max_sessions, bool) or max_sessions <= 0):
        raise ValueError("max_sessions must be a positive number of sessions or None")
    return (float(idle_timeout or 0.0), int(max_sessions or 0))


class _Driver:
    """Registers the native loop with asyncio and ticks its timers (at least once a second)."""

    def __init__(self, native: Any) -> None:
        self.native = native
        self.loop = asyncio.get_running_loop()
        self.fd = native.fileno()
        self.loop.add_reader(self.fd, native.poll)
        self.handle: asyncio.TimerHandle | None = None
        self.tick()

    def tick(self) -> None:
        self.native.poll()
        ms = self.native.next_timer_ms()
        delay = 1.0 if ms < 0 else min(max(ms, 1) / 1000.0, 1.0)
        self.handle = self.loop.call_later(delay, self.tick)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.loop.remove_reader(self.fd)
        self.native.close()


async def serve_stdio(native: Any, on_exit: Callable[[], None] | None = None) -> None:
    """Serves newline-delimited JSON-RPC on stdin/stdout until stdin reaches EOF.
    fd 1 is kept for protocol messages only: print() and stray writes go to stderr."""
    sys.stdout.flush()
    proto_out = os.dup(1)
    os.dup2(2, 1)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def closed() -> None:
        if not done.done():
            done.set_result(None)

    native.start_stdio(0, proto_out, closed)
    driver = _Driver(native)
    try:
        await done
    finally:
        driver.close()
        if on_exit is not None:
            on_exit()
        os.close(proto_out)


async def serve_http(
    native: Any,
    host: str,
    port: int,
    path: str,
    allowed_origins: list[str],
    allowed_hosts: list[str],
    ready: Callable[[int], None] | None = None,
    on_exit: Callable[[], None] | None = None,
    limits: tuple[float, int] = (DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_MAX_SESSIONS),
) -> None:
    """Serves Streamable HTTP at http://host:port/path until cancelled; `limits` as
    session_limits() returns them."""
    bound = native.start_http(host, port, path, allowed_origins, allowed_hosts, *limits)
    driver = _Driver(native)
    print(f"fasterapi MCP server on http://{host}:{bound}{path}", file=sys.stderr, flush=True)
    if ready is not None:
        ready(bound)
    try:
        await asyncio.Event().wait()
    finally:
        driver.close()
        if on_exit is not None:
            on_exit()
