"""Result: the seed's sync query result (.one/.first/.all/.scalar/.rowcount, iteration)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fasterapi.pg.errors_base import InterfaceError


class NoResultError(InterfaceError, LookupError):
    """``.one()`` found no row."""


class MultipleResultsError(InterfaceError, LookupError):
    """``.one()`` found more than one row."""


def _rowcount(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1


class Result:
    """Rows of one statement. one()/first()/all() return dicts (JSON-ready); ``rows`` holds the
    Records (index and mapping access)."""

    __slots__ = ("rows", "status")

    def __init__(self, rows: list[Any], status: str) -> None:
        self.rows = rows
        self.status = status

    @property
    def rowcount(self) -> int:
        """Rows returned or affected, from the command tag ("UPDATE 3" -> 3); -1 if none."""
        return _rowcount(self.status)

    def one(self) -> dict[str, Any]:
        """The only row; raises NoResultError or MultipleResultsError otherwise."""
        if len(self.rows) != 1:
            if not self.rows:
                raise NoResultError("query returned no rows, expected exactly one")
            raise MultipleResultsError(
                f"query returned {len(self.rows)} rows, expected exactly one"
            )
        return dict(self.rows[0].items())

    def first(self) -> dict[str, Any] | None:
        """The first row, or None."""
        return dict(self.rows[0].items()) if self.rows else None

    def all(self) -> list[dict[str, Any]]:
        """Every row as a dict."""
        return [dict(r.items()) for r in self.rows]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Any:
        return self.rows[i]

    def __repr__(self) -> str:
        return f"<Result {self.status!r} rows={len(self.rows)}>"
