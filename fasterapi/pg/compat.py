"""The seed's dependency helper: ``get_pg = get_pg_factory(pool)`` then ``pg=Depends(get_pg)``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fasterapi.pg.pool import PgPool
from fasterapi.pg.sync_session import PgSession


def get_pg_factory(pool: PgPool) -> Callable[[], Iterator[PgSession]]:
    """A generator dependency yielding a PgSession (``pg.exec(...)``, ``pg.transaction()``); its
    cleanup returns any pinned connection to the pool, rolling back an unfinished transaction."""

    def get_pg() -> Iterator[PgSession]:
        session = PgSession(pool)
        try:
            yield session
        finally:
            session.close()

    return get_pg


__all__ = ["PgSession", "get_pg_factory"]
