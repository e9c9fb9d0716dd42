"""asyncio Protocol: feeds received bytes to the native core, resolves waiters in FIFO order."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from fasterapi.pg.errors_base import PgConnectionError


class PgProtocol(asyncio.Protocol):
    """One connection's I/O: requests written (batched per loop turn), results resolved in order."""

    def __init__(self, core: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.core = core
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.lost: BaseException | None = None
        self._flush_handle: asyncio.Handle | None = None
        self.on_lost: list[Any] = []
        self.send_cancel: Any = None  # set by Connection: sends a CancelRequest for this backend
        self._cancel_at_head: set[asyncio.Future[Any]] = set()

    def cancel_when_running(self, fut: asyncio.Future[Any]) -> None:
        """Send a CancelRequest once fut's request is the one executing (head of the FIFO)."""
        if fut not in self.waiters:
            return
        self._cancel_at_head.add(fut)
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.waiters and self.waiters[0] in self._cancel_at_head:
            self._cancel_at_head.discard(self.waiters[0])
            if self.send_cancel is not None:
                self.send_cancel()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def request(self) -> asyncio.Future[Any]:
        """Register a waiter for the request just queued in the core and send it.

        The first request on an idle connection is written at once; requests queued while others are
        in flight are written together at the end of the loop turn (auto-pipelining).
        """
        if self.lost is not None:
            self.core.abort()
            raise PgConnectionError(f"connection is closed: {self.lost}")
        fut = self.loop.create_future()
        self.waiters.append(fut)
        if self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self.flush)
        return fut

    def flush(self) -> None:
        self._flush_handle = None
        if self.core.has_out and self.transport is not None and self.lost is None:
            self.transport.write(self.core.take_out())

    def data_received(self, data: bytes) -> None:
        core = self.core
        waiters = self.waiters
        for r in core.feed(data):
            fut = waiters.popleft()
            if fut.done():  # cancelled by its caller; the result is dropped
                continue
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)
        if self._cancel_at_head:
            self._cancel_at_head.intersection_update(waiters)
            self._check_cancel()
        if core.broken:
            self._fail(PgConnectionError(f"protocol error: {core.error}"))
            if self.transport is not None:
                self.transport.close()
        elif core.has_out and self._flush_handle is None:
            self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        reason: BaseException = exc or PgConnectionError("server closed the connection")
        self._fail(reason)
        for cb in self.on_lost:
            cb(reason)

    def _fail(self, reason: BaseException) -> None:
        if self.lost is None:
            self.lost = reason
        errors = self.core.abort()
        msg = f"connection lost: {reason}"
        while self.waiters:
            fut = self.waiters.popleft()
            err = errors.pop(0) if errors else None
            if not fut.done():
                exc = err if isinstance(err, BaseException) else PgConnectionError(msg)
                fut.set_exception(exc)
