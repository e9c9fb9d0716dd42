"""SyncConnection: the seed's blocking API (pg.exec) running the same native core on a socket."""

from __future__ import annotations

import itertools
import os
import select
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fasterapi.pg._native_pg import MODE_RESULT, MODE_STATUS
from fasterapi.pg.connect import connect_blocking, make_core, send_cancel_blocking
from fasterapi.pg.connection import (
    _BINARY_COPY_HEADER,
    _BINARY_COPY_TRAILER,
    _COPY_READ_BYTES,
    _check_copy_source,
)
from fasterapi.pg.dsn import ConnectParams
from fasterapi.pg.errors_base import PgConnectionError, PostgresError
from fasterapi.pg.result import Result
from fasterapi.pg.transaction import TxPlan

_RECV_BYTES = 256 * 1024  # one recv() per loop; large enough for a 100-row result
_REPREPARE_SQLSTATES = ("0A000", "26000")
_CANCEL_GRACE_SECONDS = 10.0  # after a CancelRequest, how long the server may take to answer
_COPY_READY = object()  # _roundtrip's answer when the server asks for COPY data


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
        self._sock.settimeout(params.connect_timeout)  # startup and authentication
        self._core = make_core(params)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = statement_cache_size
        self._n = 0
        self._tx_depth = 0
        self._broken = False
        self._cancel_unconfirmed = False
        self._early: list[Any] = []  # results read while streaming COPY data
        self.created_at = time.monotonic()
        self.last_used = self.created_at
        self.pid = os.getpid()  # a forked worker must not share this socket with its parent
        try:
            self._roundtrip()
        except BaseException:
            self._sock.close()
            raise
        self._sock.settimeout(command_timeout)

    def _roundtrip(self, copy_ready: list[bool] | None = None) -> Any:
        """Send what the core queued and read until its one pending request completes (or, with
        copy_ready, until the server asks for COPY data: returns _COPY_READY)."""
        core = self._core
        cancelled = False
        try:
            self._sock.sendall(core.take_out())
            if self._early:
                r, self._early = self._early[-1], []
                if isinstance(r, BaseException):
                    raise r
                return r
            while True:
                if copy_ready:
                    return _COPY_READY
                try:
                    data = self._sock.recv(_RECV_BYTES)
                except TimeoutError:
                    if cancelled or not core.backend_pid:
                        raise  # -> PgConnectionError: no answer to the cancel, or to the startup
                    # command_timeout: cancel the statement on the server (§55.2.7) and read on;
                    # it ends with QueryCanceledError and the connection stays usable.
                    # One request at a time: nothing follows this query on the wire, and nothing is
                    # sent until its result arrived and the CancelRequest was taken, so the
                    # cancel cannot hit a later statement.
                    cancelled = True
                    if not self._send_cancel():
                        # The server did not take the CancelRequest in connect_timeout: it is
                        # unreachable, and a late signal could hit the next statement. Give up.
                        self._cancel_unconfirmed = True
                        raise TimeoutError("timed out; cancel not taken") from None
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
            if self._cancel_unconfirmed:
                # The CancelRequest's fate is unknown: it could still hit the next statement.
                self._broken = True
            if cancelled and not self._broken:
                self._sock.settimeout(self._command_timeout)

    def _send_cancel(self) -> bool:
        """CancelRequest over TLS when this connection uses TLS; False if its fate is unknown."""
        return send_cancel_blocking(self._params, self._core.backend_pid, self._core.secret_key)

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

    def copy_in(self, sql: str, data: Any) -> str:
        """Run ``COPY ... FROM STDIN``; data: bytes-like, a binary file-like object or an iterable
        of bytes-like chunks, streamed (not buffered whole). If reading data raises, the COPY is
        aborted (nothing is inserted) and the exception propagates. Returns the status tag."""
        return self._copy_stream(sql, _sync_copy_chunks(data))

    def copy_records_to_table(
        self,
        table_name: str,
        *,
        records: Iterable[Sequence[Any]],
        columns: Sequence[str] | None = None,
        schema_name: str | None = None,
    ) -> str:
        """COPY records (sequences of Python values) into a table in binary format."""
        from fasterapi.pg.connection import _COPY_RECORDS_BATCH, _qualified, _quote_ident

        target = _qualified(table_name, schema_name)
        cols = ", ".join(_quote_ident(c) for c in columns) if columns else "*"
        it = iter(records)
        shape = self._statement(f"SELECT {cols} FROM {target} LIMIT 0")
        col_list = ", ".join(_quote_ident(c) for c in shape.column_names)
        core = self._core

        def chunks() -> Iterator[bytes]:
            yield _BINARY_COPY_HEADER
            while batch := list(itertools.islice(it, _COPY_RECORDS_BATCH)):
                yield core.encode_copy_records(shape, batch)
            yield _BINARY_COPY_TRAILER

        sql = f"COPY {target} ({col_list}) FROM STDIN (FORMAT binary)"
        return self._copy_stream(sql, chunks())

    def _copy_stream(self, sql: str, chunks: Iterator[Any]) -> str:
        self.last_used = time.monotonic()
        ready: list[bool] = []
        self._core.copy_in_start(sql, lambda: ready.append(True))
        r = self._roundtrip(ready)
        if r is not _COPY_READY:  # not a COPY FROM STDIN after all
            return str(r)
        core = self._core
        try:
            for chunk in chunks:
                core.copy_data(chunk)
                self._sock.sendall(core.take_out())
                if self._answered_early():
                    break
            core.copy_end(None)
        except OSError as e:
            self._broken = True
            core.abort()
            raise PgConnectionError(f"connection lost: {e!r}") from e
        except BaseException as e:
            core.copy_end(f"client error: {type(e).__name__}: {e}"[:1000])
            if not self._broken:
                try:  # the server answers the CopyFail; the connection is clean afterwards
                    self._roundtrip()
                except PostgresError:
                    pass
            raise
        return str(self._roundtrip())

    def _answered_early(self) -> bool:
        """During COPY IN: has the server already answered (an error in the data)? Reads what
        is there without blocking; the answer is then returned by the next _roundtrip."""
        readable, _, _ = select.select([self._sock], [], [], 0)
        if not readable and not self._has_pending_tls_data():
            return False
        self._sock.setblocking(False)
        try:
            data = self._sock.recv(_RECV_BYTES)
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        finally:
            self._sock.settimeout(self._command_timeout)
        if not data:
            raise ConnectionResetError("server closed the connection")
        self._early.extend(self._core.feed(data))
        return bool(self._early)

    def copy_out(self, sql: str, output: Callable[[bytes], Any] | Any = None) -> Any:
        """Run ``COPY ... TO STDOUT``; without output returns the bytes, else feeds output."""
        chunks: list[bytes] = []
        sink = chunks.append if output is None else getattr(output, "write", output)
        if not callable(sink):  # checked before anything is queued
            raise TypeError("copy_out output must be callable or have .write()")
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


def _sync_copy_chunks(data: Any) -> Iterator[Any]:
    """The chunks of a COPY source; raises TypeError at once for a source of the wrong kind."""
    _check_copy_source(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return iter((data,))
    if hasattr(data, "read"):
        return _read_all(data)
    return iter(data)


def _read_all(f: Any) -> Iterator[Any]:
    while chunk := f.read(_COPY_READ_BYTES):
        yield chunk
