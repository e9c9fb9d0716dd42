"""PgSession: what ``Depends(get_pg)`` yields — borrows a pooled blocking connection per statement,
and pins one for the length of a transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fasterapi.pg.errors_base import InterfaceError
from fasterapi.pg.result import Result
from fasterapi.pg.sync_connection import SyncConnection

if TYPE_CHECKING:
    from fasterapi.pg.pool import PgPool


class PgSession:
    """The seed's ``pg`` object. Outside a transaction each call takes a connection from the pool
    and gives it back at once, so a request holds no connection while it is not querying (sync
    handlers run inline on the event loop; a held connection would block the next request).
    Inside ``with pg.transaction():`` the connection is pinned until the block ends."""

    def __init__(self, pool: PgPool) -> None:
        self._pool = pool
        self._pinned: SyncConnection | None = None
        self._blocks = 0  # depth of `with pg.transaction()` blocks
        self._closed = False

    @contextmanager
    def _conn(self) -> Iterator[SyncConnection]:
        if self._closed:
            raise InterfaceError("this pg session ended with its request")
        conn = self._pinned if self._pinned is not None else self._pool.acquire_sync()
        try:
            yield conn
        finally:
            # A raw BEGIN keeps the connection pinned until the transaction ends (COMMIT/ROLLBACK).
            if self._blocks == 0:
                if not conn.broken and conn.is_in_transaction():
                    self._pinned = conn
                else:
                    self._pinned = None
                    self._pool.release_sync(conn)

    def exec(self, sql: str, *args: Any) -> Result:
        """Run one statement with $1.. arguments; returns its Result."""
        with self._conn() as c:
            return c.exec(sql, *args)

    def execute(self, sql: str) -> str:
        """Run a script (one or more statements); returns the last status tag."""
        with self._conn() as c:
            return c.execute(sql)

    def executemany(self, sql: str, args: Iterable[Sequence[Any]]) -> None:
        """Run sql once per argument tuple in one round trip."""
        with self._conn() as c:
            c.executemany(sql, args)

    def copy_in(self, sql: str, data: Any) -> str:
        """``COPY ... FROM STDIN`` with data (bytes-like, a binary file-like object or an
        iterable of bytes-like chunks; streamed)."""
        with self._conn() as c:
            return c.copy_in(sql, data)

    def copy_out(self, sql: str, output: Callable[[bytes], Any] | Any = None) -> Any:
        """``COPY ... TO STDOUT``; returns the bytes without output."""
        with self._conn() as c:
            return c.copy_out(sql, output)

    @contextmanager
    def transaction(
        self, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Iterator[PgSession]:
        """``with pg.transaction(isolation="serializable"):`` — one connection for the block;
        commit on success, roll back on exception, savepoints when nested."""
        if self._closed:
            raise InterfaceError("this pg session ended with its request")
        if self._pinned is None:
            self._pinned = self._pool.acquire_sync()
        conn = self._pinned
        self._blocks += 1
        try:
            with conn.transaction(isolation, readonly, deferrable):
                yield self
        finally:
            self._blocks -= 1
            if self._blocks == 0 and (conn.broken or not conn.is_in_transaction()):
                self._pinned = None
                self._pool.release_sync(conn)

    def is_in_transaction(self) -> bool:
        return self._pinned is not None and self._pinned.is_in_transaction()

    def close(self) -> None:
        """End the session (the dependency's cleanup); a pinned connection is rolled back and
        returned."""
        self._closed = True
        if self._pinned is not None:
            conn, self._pinned = self._pinned, None
            self._pool.release_sync(conn)
