"""Base exception classes for the PostgreSQL driver and the SQLSTATE → class registry."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

# ErrorResponse field codes (PostgreSQL docs §55.8) → attribute names.
FIELD_NAMES: dict[str, str] = {
    "S": "severity_local",
    "V": "severity",
    "C": "sqlstate",
    "M": "message",
    "D": "detail",
    "H": "hint",
    "P": "position",
    "p": "internal_position",
    "q": "internal_query",
    "W": "context",
    "s": "schema_name",
    "t": "table_name",
    "c": "column_name",
    "d": "data_type_name",
    "n": "constraint_name",
    "F": "server_source_filename",
    "L": "server_source_line",
    "R": "server_source_function",
}


class PgError(Exception):
    """Root of every error the driver raises."""


class InterfaceError(PgError):
    """Misuse of the driver (closed pool, wrong arguments, unsupported value)."""


class PgConnectionError(PgError, ConnectionError):
    """The connection to the server failed or was lost; the query's outcome is unknown."""


class PoolAcquireTimeoutError(PgError, TimeoutError):
    """No connection became free within the pool's acquire timeout."""


class PostgresError(PgError):
    """An ErrorResponse from the server: sqlstate, message, detail, hint, position and more."""

    sqlstate: ClassVar[str] = "XX000"
    severity: str | None
    severity_local: str | None
    message: str
    detail: str | None
    hint: str | None
    position: str | None
    context: str | None
    schema_name: str | None
    table_name: str | None
    column_name: str | None
    constraint_name: str | None

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        for attr in FIELD_NAMES.values():
            if attr not in ("message", "sqlstate"):
                setattr(self, attr, fields.get(attr))
        if "sqlstate" in fields and fields["sqlstate"] != type(self).sqlstate:
            self.sqlstate = fields["sqlstate"]  # type: ignore[misc]

    def as_dict(self) -> dict[str, Any]:
        """All server fields that were present."""
        d = {a: getattr(self, a, None) for a in FIELD_NAMES.values()}
        d["sqlstate"] = self.sqlstate
        return {k: v for k, v in d.items() if v is not None}

    def __str__(self) -> str:
        s = self.message
        if self.detail:
            s += f"\nDETAIL:  {self.detail}"
        if self.hint:
            s += f"\nHINT:  {self.hint}"
        return s


class PostgresWarning(PostgresError, Warning):
    """A warning-class SQLSTATE (class 01/02)."""


_E = TypeVar("_E", bound=type[PostgresError])
_BY_SQLSTATE: dict[str, type[PostgresError]] = {}


def register_sqlstate(cls: _E) -> _E:
    """Class decorator: map ``cls.sqlstate`` to cls."""
    _BY_SQLSTATE[cls.sqlstate] = cls
    return cls


def error_from_fields(fields: dict[str, str]) -> PostgresError:
    """Build the typed exception for an ErrorResponse given its {code letter: value} fields."""
    kw = {FIELD_NAMES.get(k, k): v for k, v in fields.items()}
    code = kw.get("sqlstate", "XX000")
    cls = _BY_SQLSTATE.get(code) or _BY_SQLSTATE.get(code[:2] + "000") or PostgresError
    msg = kw.pop("message", "")
    return cls(msg, **kw)
