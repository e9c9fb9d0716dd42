"""SyncConnection: the seed's blocking API (pg.exec) running the same native core on a socket."""

from __future__ import annotations

import os
import select
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from fasterapi.pg._native_pg import MODE_RESULT, MODE_STATUS, native
from fasterapi.pg.connect import connect_blocking, make_core
from fasterapi.pg.dsn import ConnectParams
from fasterapi.pg.errors_base import PgConnectionError, PostgresError
from fasterapi.pg.result import Result
from fasterapi.pg.transaction import TxPlan

_RECV_BYTES = 256 * 1024  # one recv() per loop; large enough for a 100-row result
_REPREPARE_SQLSTATES = ("0A000", "26000")
_CANCEL_GRACE_SECONDS = 10.0  # after a CancelRequest, how long the server may take to answer


class SyncConnection:
    """A blocking connection: one request at a time, each a single round trip once prepared."""

    def __init__(
        self,
        params: ConnectParams,
        *,
        statement_cache_size: int = 256,
        command_timeout: float | None = None,
    ) -> None:
        self._params = params
        self._sock: socket.socket = connect_blocking(params)
        self._command_timeout = command_timeout
        self._sock.settimeout(command_timeout)
        self._core = make_core(params)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = statement_cache_size
        self._n = 0
        self._tx_depth = 0
        self._broken = False
        self.created_at = time.monotonic()
        self.last_used = self.created_at
        self.pid = os.getpid()  # a forked worker must not share this socket with its parent
        self._roundtrip()

    def _roundtrip(self) -> Any:
        """Send what the core queued and read until its one pending request completes."""
        core = self._core
        cancelled = False
        try:
            self._sock.sendall(core.take_out())
            while True:
                try:
                    data = self._sock.recv(_RECV_BYTES)
                except TimeoutError:
                    if cancelled:
                        raise
                    # command_timeout: cancel the statement on the server (§55.2.7) and read on;
                    # it ends with QueryCanceledError and the connection stays usable.
                    cancelled = True
                    self._send_cancel()
                    self._sock.settimeout(_CANCEL_GRACE_SECONDS)
                    continue
                if not data:
                    errs = core.abort()
                    self._broken = True
                    if errs and isinstance(errs[0], BaseException):
                        raise errs[0]
                    raise PgConnectionError("server closed the connection")
                results = core.feed(data)
                if core.has_out:
                    self._sock.sendall(core.take_out())
                if core.broken:
                    self._broken = True
                    if results and isinstance(results[-1], BaseException):
                        raise results[-1]
                    raise PgConnectionError(f"protocol error: {core.error}")
                if results:
                    r = results[-1]
                    if isinstance(r, BaseException):
                        raise r
                    return r
        except OSError as e:
            self._broken = True
            core.abort()
            raise PgConnectionError(f"connection lost: {e!r}") from e
        finally:
            if cancelled and not self._broken:
                self._sock.settimeout(self._command_timeout)

    def _send_cancel(self) -> None:
        try:
            with connect_blocking(replace(self._params, sslmode="disable")) as s:
                s.sendall(native.cancel_request(self._core.backend_pid, self._core.secret_key))
                s.recv(1)  # the server closes the connection once it has read the request
        except OSError:
            pass

    @property
    def broken(self) -> bool:
        """True once the connection failed, or if the server has spoken while we were idle (a
        FATAL before closing, or EOF): an idle connection never has anything to read."""
        if not self._broken:
            try:
                readable, _, _ = select.select([self._sock], [], [], 0)
            except (OSError, ValueError):
                readable = [self._sock]
            if readable and not self._has_pending_tls_data():
                self._broken = True
        return self._broken

    def _has_pending_tls_data(self) -> bool:
        pending = getattr(self._sock, "pending", None)
        return bool(pending and pending())

    def is_in_transaction(self) -> bool:
        return str(self._core.tx_status) != "I"

    def _statement(self, sql: str) -> Any:
        st = self._cache.get(sql)
        if st is not None:
            self._cache.move_to_end(sql)
            return st
        self._n += 1
        name = f"__fa_s{self._n}" if self._cache_size > 0 else ""
        self._core.prepare(name, sql)
        st = self._roundtrip()
        if self._cache_size > 0:
            self._cache[sql] = st
            if len(self._cache) > self._cache_size:
                _, old = self._cache.popitem(last=False)
                self._core.close_statement(old.name)
                self._roundtrip()
        return st

    def exec(self, sql: str, *args: Any) -> Result:
        """Run one statement with $1.. arguments; returns its Result."""
        self.last_used = time.monotonic()
        st = self._statement(sql)
        try:
            self._core.execute(st, args, MODE_RESULT)
            rows, status = self._roundtrip()
        except PostgresError as e:
            if e.sqlstate not in _REPREPARE_SQLSTATES or self.is_in_transaction():
                raise
            self._cache.pop(sql, None)
            self._core.execute(self._statement(sql), args, MODE_RESULT)
            rows, status = self._roundtrip()
        return Result(rows, status)

    def execute(self, sql: str) -> str:
        """Run a script (one or more statements, simple protocol); returns the last status tag."""
        self._core.simple_query(sql, MODE_STATUS)
        return str(self._roundtrip())

    def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run sql once per argument tuple in one round trip."""
        self._core.execute_many(self._statement(sql), args)
        self._roundtrip()

    @contextmanager
    def transaction(
        self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Iterator[SyncConnection]:
        """``with pg.transaction(isolation="serializable"):`` commit on success, roll back on
        exception; nested blocks are savepoints."""
        plan = TxPlan(self, isolation, readonly, deferrable)
        self.execute(plan.enter)
        self._tx_depth += 1
        try:
            yield self
        except BaseException:
            self._tx_depth -= 1
            if not self._broken:
                self.execute(plan.rollback)
            raise
        self._tx_depth -= 1
        self.execute(plan.commit)

    def copy_in(self, sql: str, data: bytes | Iterable[bytes]) -> str:
        """Run ``COPY ... FROM STDIN`` with data (bytes or iterable of bytes); returns the tag."""
        chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
        self._core.copy_in(sql, chunks)
        return str(self._roundtrip())

    def copy_out(self, sql: str, output: Callable[[bytes], Any] | Any = None) -> Any:
        """Run ``COPY ... TO STDOUT``; without output returns the bytes, else feeds output."""
        chunks: list[bytes] = []
        sink = chunks.append if output is None else getattr(output, "write", output)
        self._core.copy_out(sql, sink)
        tag = self._roundtrip()
        return b"".join(chunks) if output is None else tag

    def reset(self) -> None:
        """Roll back an abandoned transaction."""
        if not self._broken and self.is_in_transaction():
            self.execute("ROLLBACK")
        self._tx_depth = 0

    def forget(self) -> None:
        """Close our file descriptor without a goodbye (the socket came from a parent process)."""
        self._broken = True
        self._sock.close()

    def close(self) -> None:
        if not self._broken:
            try:
                self._core.terminate()
                self._sock.sendall(self._core.take_out())
            except OSError:
                pass
        self._broken = True
        self._sock.close()
