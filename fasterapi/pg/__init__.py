"""FasterAPI's PostgreSQL driver: C++ v3 protocol core, asyncpg-style async API, sync API."""

from __future__ import annotations

from fasterapi.pg._native_pg import Record
from fasterapi.pg.connection import Connection, PreparedStatement, connect
from fasterapi.pg.dsn import ConnectParams, parse_dsn
from fasterapi.pg.errors_base import (
    InterfaceError,
    PgConnectionError,
    PgError,
    PoolAcquireTimeoutError,
    PostgresError,
)
from fasterapi.pg.pool import PgPool, PoolStats
from fasterapi.pg.result import MultipleResultsError, NoResultError, Result
from fasterapi.pg.sync_connection import SyncConnection
from fasterapi.pg.sync_session import PgSession
from fasterapi.pg.transaction import Transaction

__all__ = [
    "ConnectParams",
    "Connection",
    "InterfaceError",
    "MultipleResultsError",
    "NoResultError",
    "PgConnectionError",
    "PgError",
    "PgPool",
    "PgSession",
    "PoolAcquireTimeoutError",
    "PoolStats",
    "PostgresError",
    "PreparedStatement",
    "Record",
    "Result",
    "SyncConnection",
    "Transaction",
    "connect",
    "parse_dsn",
]
