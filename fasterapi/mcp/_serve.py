"""Drives the native MCP server from asyncio: its epoll fd is an asyncio reader (one loop per
process, as for the HTTP engine), its timers are ticked, and the serve coroutines end cleanly."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any


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
) -> None:
    """Serves Streamable HTTP at http://host:port/path until cancelled."""
    bound = native.start_http(host, port, path, allowed_origins, allowed_hosts)
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
