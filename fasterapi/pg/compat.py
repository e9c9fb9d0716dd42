"""The seed's dependency helper: ``get_pg = get_pg_factory(pool)`` then ``pg=Depends(get_pg)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fasterapi.pg.pool import PgPool
from fasterapi.pg.sync_connection import SyncConnection


def get_pg_factory(pool: PgPool) -> Callable[[], Iterator[SyncConnection]]:
    """A generator dependency: checks a blocking connection out, yields it, returns it to the pool
    (rolling back a transaction the handler left open)."""

    def get_pg() -> Iterator[SyncConnection]:
        conn = pool.acquire_sync()
        try:
            yield conn
        finally:
            pool.release_sync(conn)

    return get_pg


__all__ = ["get_pg_factory"]
