"""Loads the native pg core (fasterapi._native.pg) and installs the typed-error factory."""

from __future__ import annotations

from typing import Any

from fasterapi.pg import exceptions as _exceptions  # noqa: F401  (registers every SQLSTATE class)
from fasterapi.pg.errors_base import PgConnectionError, error_from_fields

try:
    from fasterapi._native import pg as native  # type: ignore[attr-defined,unused-ignore]
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError(
        "fasterapi._native is not built: pip install -e . (or build with -DFA_BUILD_PYTHON=ON "
        "and set FASTERAPI_NATIVE_DIR)"
    ) from e

native.set_error_factory(error_from_fields)
native.set_connection_error(PgConnectionError)

Core: Any = native.Core
Record: Any = native.Record
Statement: Any = native.Statement
PoolCore: Any = native.PoolCore
MODE_FETCH: int = native.MODE_FETCH
MODE_FETCHROW: int = native.MODE_FETCHROW
MODE_FETCHVAL: int = native.MODE_FETCHVAL
MODE_STATUS: int = native.MODE_STATUS
MODE_RESULT: int = native.MODE_RESULT
MODE_FETCHMANY: int = native.MODE_FETCHMANY
