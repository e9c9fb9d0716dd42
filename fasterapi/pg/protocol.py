"""One connection's I/O: a native Channel (bindings/pg_channel.cpp) on a C++ EventLoop: the
asyncio loop's native Loop (fasterapi/_loops.py), the one a Server serving on that asyncio loop
runs on too, so HTTP and PostgreSQL sockets wake the process once.

The channel owns the socket, feeds what arrives to the native core and resolves the waiting
futures in FIFO order from C++; requests queued in one loop turn are written together. This class
keeps the rare paths in Python: cancelling a timed-out query safely, COPY flow control (drain),
and the connection's end (on_lost).
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from fasterapi._loops import native_loop
from fasterapi.pg._native_pg import native
from fasterapi.pg.errors_base import PgConnectionError

# A CancelRequest can land while the backend sits between two requests and be dropped there
# (PostgreSQL ignores a cancel while it waits for a command), so it is re-sent, with these
# pauses in seconds, for as long as the query runs; each one is safe for the reason in
# PgProtocol.cancel_request.
CANCEL_RESEND_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


class PgProtocol:
    """One connection's I/O: requests written (batched per loop turn), results resolved in order."""

    def __init__(
        self,
        core: Any,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        *,
        tls_host: str = "",
        verify: bool = False,
        cafile: str = "",
        check_host: bool = False,
    ) -> None:
        """Takes over the connected socket fd (TLS on it when tls_host is given)."""
        self.core = core
        self.loop = loop
        self.on_lost: list[Any] = []
        # Set by Connection: sends one CancelRequest for this backend; True once the server has
        # taken it (it closed the cancel connection) or it was never delivered, False if unknown.
        self.send_cancel: Callable[[], Awaitable[bool]] | None = None
        self._cancel_target: asyncio.Future[Any] | None = None
        self._cancel_task: asyncio.Future[Any] | None = None
        self._cancel_started = False
        self._target_done: asyncio.Event | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self.channel = native.Channel(
            native_loop(loop),
            core,
            fd,
            loop,
            _weak(self, "_connection_lost"),
            _weak(self, "_flow"),
            _weak(self, "_cancel_progress"),
            tls_host,
            verify,
            cafile,
            check_host,
        )
        self.request: Callable[[], asyncio.Future[Any]] = self.channel.request
        """Register a waiter for the request just queued in the core and send it (with every
        other request queued in this loop turn: auto-pipelining). Raises PgConnectionError once
        the connection is lost."""
        self.flush: Callable[[], None] = self.channel.flush
        # The futures of the requests in flight, oldest first: the channel's own list, kept up to
        # date by it (read here, never changed).
        self.waiters: list[asyncio.Future[Any]] = self.channel.waiters

    @property
    def pending(self) -> int:
        return len(self.waiters)

    @property
    def lost(self) -> BaseException | None:
        return self.channel.lost  # type: ignore[no-any-return]

    def close(self) -> None:
        """Send what is queued, then close the socket."""
        self.channel.close()

    def abort(self) -> None:
        """Close the socket at once; requests in flight fail with PgConnectionError."""
        self.channel.abort()

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

        A fetchrow_each batch (Core.execute_many with MODE_FETCHROW_EACH) is one request of N
        queries with a Sync each: a CancelRequest stops the one running, each re-send (while the
        batch runs) whichever later one runs then (one landing between two is ignored); the batch's
        future is done only at its N-th ReadyForQuery, so the backend is idle (every query of
        the batch answered) before anything held behind it is written.
        """
        index = self._index(fut)
        if index is None or self._cancel_target is not None:
            return False
        if not self.core.pause_after(index):
            return False  # another caller's request is already on the wire behind it
        self._cancel_target = fut
        self.channel.set_target(fut)
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

    def _cancel_progress(self, target_done: bool) -> None:
        """Called by the channel after a batch of results while a cancel is arranged."""
        if target_done:
            self._on_target_done()
        self._maybe_start_cancel()

    def _maybe_start_cancel(self) -> None:
        target = self._cancel_target
        if target is None or self._cancel_started:
            return
        if self.channel.at_head(target):
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
                self.channel.abort()
            self._maybe_resume()

    def _on_target_done(self) -> None:
        if self._target_done is not None:
            self._target_done.set()
        self._maybe_resume()

    def _maybe_resume(self) -> None:
        if self._cancel_task is not None or self._cancel_target is None:
            return
        if self._index(self._cancel_target) is not None:
            return
        self._cancel_target = None
        self.channel.set_target(None)
        self._target_done = None
        if self.lost is None:
            self.core.resume()
            if self.core.has_out:
                self.channel.flush()

    @property
    def cancelling(self) -> bool:
        """A timed-out query is being cancelled; requests queued now wait for it."""
        return self._cancel_target is not None

    # -- flow control --------------------------------------------------------------------------
    def _flow(self, paused: bool) -> None:
        if paused:
            return
        waiters, self._drain_waiters = self._drain_waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def drain(self) -> None:
        """Wait until the socket's write buffer is below its high-water mark."""
        if self.lost is not None:
            raise PgConnectionError(f"connection lost: {self.lost}")
        if not self.channel.write_paused:
            return
        w = self.loop.create_future()
        self._drain_waiters.append(w)
        await w
        if self.lost is not None:
            raise PgConnectionError(f"connection lost: {self.lost}")

    # -- end -----------------------------------------------------------------------------------
    def _connection_lost(self, reason: BaseException) -> None:
        """The channel closed (the server, an I/O or protocol error, close() or abort()); every
        request in flight has failed already."""
        self._cancel_target = None
        if self._target_done is not None:
            self._target_done.set()
        self._flow(False)  # wake drain() waiters; they see self.lost
        for cb in self.on_lost:
            cb(reason)


def _weak(obj: Any, name: str) -> Callable[..., Any]:
    """obj.name as a callback that does not keep obj alive (the channel is not GC-tracked)."""
    ref = weakref.ref(obj)

    def call(*args: Any) -> Any:
        o = ref()
        return None if o is None else getattr(o, name)(*args)

    return call
