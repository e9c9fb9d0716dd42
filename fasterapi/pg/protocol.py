"""asyncio Protocol: feeds received bytes to the native core, resolves waiters in FIFO order."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from fasterapi.pg.errors_base import PgConnectionError

# A CancelRequest can land while the backend sits between two requests and be dropped there
# (PostgreSQL ignores a cancel while it waits for a command), so it is re-sent, with these
# pauses in seconds, for as long as the query runs; each one is safe for the reason in
# PgProtocol.cancel_request.
CANCEL_RESEND_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


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
        # Set by Connection: sends one CancelRequest for this backend; True once the server has
        # taken it (it closed the cancel connection) or it was never delivered, False if unknown.
        self.send_cancel: Callable[[], Awaitable[bool]] | None = None
        self._cancel_target: asyncio.Future[Any] | None = None
        self._cancel_task: asyncio.Future[Any] | None = None
        self._cancel_started = False
        self._target_done: asyncio.Event | None = None
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    # -- cancellation --------------------------------------------------------------------------
    def cancel_request(self, fut: asyncio.Future[Any]) -> bool:
        """Cancel fut's query on the server if that can only ever hit this query; returns whether
        a cancel was arranged.

        The server runs a connection's requests in order, and a CancelRequest interrupts whatever
        the backend is running when the signal lands, so it is safe only if no other request can
        be running by then. Hence: (1) only when nothing queued after fut has been written (else
        the query runs to completion and its result is dropped); (2) from now on requests queued
        on this connection are held back, not written; (3) the CancelRequest goes out once fut's
        request is at the head of the FIFO (every earlier one completed); (4) the held requests
        are written only after fut's result arrived and every CancelRequest sent was taken by the
        server (the server closes the cancel connection after signalling the backend), so a late
        signal finds the backend idle, where PostgreSQL ignores it. If a CancelRequest's fate
        cannot be known (no answer within connect_timeout), the connection is closed instead.
        """
        index = self._index(fut)
        if index is None or self._cancel_target is not None:
            return False
        if not self.core.pause_after(index):
            return False  # another caller's request is already on the wire behind it
        self._cancel_target = fut
        self._target_done = asyncio.Event()
        self._cancel_started = False
        self._maybe_start_cancel()
        return True

    def forget_unsent(self, fut: asyncio.Future[Any]) -> bool:
        """If fut's request is still held back (not written), make sure it never runs: it is
        replaced by a bare Sync. Returns whether it was."""
        index = self._index(fut)
        return index is not None and bool(self.core.forget_unsent(index))

    def _index(self, fut: asyncio.Future[Any]) -> int | None:
        if self.lost is not None:
            return None
        waiters = self.waiters
        for index in range(len(waiters) - 1, -1, -1):
            if waiters[index] is fut:
                return index
        return None

    def _maybe_start_cancel(self) -> None:
        target = self._cancel_target
        if target is None or self._cancel_started:
            return
        if self.waiters and self.waiters[0] is target:
            self._cancel_started = True
            self._cancel_task = asyncio.ensure_future(self._cancel_loop())

    async def _cancel_loop(self) -> None:
        done = self._target_done
        assert done is not None
        confirmed = True
        try:
            delays = itertools.chain(
                CANCEL_RESEND_DELAYS, itertools.repeat(CANCEL_RESEND_DELAYS[-1])
            )
            for delay in delays:
                if done.is_set() or self.lost is not None or self.send_cancel is None:
                    break
                confirmed = False  # until send_cancel says so (this task may be cancelled)
                if not await self.send_cancel():
                    break
                confirmed = True
                try:
                    await asyncio.wait_for(done.wait(), delay)
                except TimeoutError:
                    continue
        finally:
            self._cancel_task = None
            if not confirmed:
                # A signal may still be on its way and could hit the next request: drop the
                # connection (held requests were never sent; they fail with PgConnectionError).
                if self.transport is not None:
                    self.transport.abort()
            self._maybe_resume()

    def _on_target_done(self) -> None:
        if self._target_done is not None:
            self._target_done.set()
        self._maybe_resume()

    def _maybe_resume(self) -> None:
        if self._cancel_task is not None or self._cancel_target is None:
            return
        if self._cancel_target in self.waiters:
            return
        self._cancel_target = None
        self._target_done = None
        if self.lost is None:
            self.core.resume()
            if self.core.has_out and self._flush_handle is None:
                self.flush()

    @property
    def cancelling(self) -> bool:
        """A timed-out query is being cancelled; requests queued now wait for it."""
        return self._cancel_target is not None

    # -- flow control --------------------------------------------------------------------------
    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self.lost is not None:
            raise PgConnectionError(f"connection lost: {self.lost}")
        if not self._write_paused:
            return
        w = self.loop.create_future()
        self._drain_waiters.append(w)
        await w
        if self.lost is not None:
            raise PgConnectionError(f"connection lost: {self.lost}")

    # -- I/O -----------------------------------------------------------------------------------
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
        target = self._cancel_target
        for r in core.feed(data):
            fut = waiters.popleft()
            if fut is target:
                self._on_target_done()
            if fut.done():  # cancelled by its caller; the result is dropped
                continue
            if isinstance(r, BaseException):
                fut.set_exception(r)
            else:
                fut.set_result(r)
        if target is not None:
            self._maybe_start_cancel()
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
        self._cancel_target = None
        if self._target_done is not None:
            self._target_done.set()
        self.resume_writing()  # wake drain() waiters; they see self.lost
