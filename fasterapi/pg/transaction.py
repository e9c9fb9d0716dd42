"""Transaction: BEGIN/COMMIT/ROLLBACK with isolation levels, savepoints when nested."""

from __future__ import annotations

import itertools
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from fasterapi.pg.errors_base import InterfaceError

if TYPE_CHECKING:
    pass

ISOLATION_LEVELS = {
    "serializable": "SERIALIZABLE",
    "repeatable_read": "REPEATABLE READ",
    "repeatable read": "REPEATABLE READ",
    "read_committed": "READ COMMITTED",
    "read committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "read uncommitted": "READ UNCOMMITTED",
}
_savepoint_ids = itertools.count(1)


class _HasDepth(Protocol):
    _tx_depth: int


def begin_sql(isolation: str | None, readonly: bool, deferrable: bool) -> str:
    """The BEGIN statement for these options; raises InterfaceError on an unknown isolation."""
    parts = ["BEGIN"]
    if isolation is not None:
        level = ISOLATION_LEVELS.get(isolation.lower())
        if level is None:
            raise InterfaceError(
                f"isolation must be one of serializable, repeatable_read, read_committed, "
                f"read_uncommitted; got {isolation!r}"
            )
        parts.append(f"ISOLATION LEVEL {level}")
    if readonly:
        parts.append("READ ONLY")
    if deferrable:
        parts.append("DEFERRABLE")
    return " ".join(parts)


class TxPlan:
    """The SQL a (possibly nested) transaction block runs on enter, commit and rollback."""

    def __init__(self, owner: _HasDepth, isolation: str | None, readonly: bool, deferrable: bool):
        self.owner = owner
        self.nested = owner._tx_depth > 0
        if self.nested:
            if isolation is not None or readonly or deferrable:
                raise InterfaceError(
                    "a nested transaction (savepoint) cannot set isolation/readonly"
                )
            sp = f"fa_sp_{next(_savepoint_ids)}"
            self.enter = f"SAVEPOINT {sp}"
            self.commit = f"RELEASE SAVEPOINT {sp}"
            self.rollback = f"ROLLBACK TO SAVEPOINT {sp}"
        else:
            self.enter = begin_sql(isolation, readonly, deferrable)
            self.commit = "COMMIT"
            self.rollback = "ROLLBACK"


class Transaction:
    """``async with conn.transaction(isolation="serializable"):`` — commit on success, roll back on
    exception; nested blocks are savepoints."""

    def __init__(self, conn: object, isolation: str | None, readonly: bool, deferrable: bool):
        self._conn = conn
        self._opts = (isolation, readonly, deferrable)
        self._plan: TxPlan | None = None

    async def start(self) -> None:
        self._plan = TxPlan(self._conn, *self._opts)  # type: ignore[arg-type]
        await self._conn.execute(self._plan.enter)  # type: ignore[attr-defined]
        self._conn._tx_depth += 1  # type: ignore[attr-defined]

    async def commit(self) -> None:
        await self._finish(self._plan_or_fail().commit)

    async def rollback(self) -> None:
        await self._finish(self._plan_or_fail().rollback)

    def _plan_or_fail(self) -> TxPlan:
        if self._plan is None:
            raise InterfaceError("transaction was not started")
        return self._plan

    async def _finish(self, sql: str) -> None:
        self._conn._tx_depth -= 1  # type: ignore[attr-defined]
        self._plan = None
        await self._conn.execute(sql)  # type: ignore[attr-defined]

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._plan is None:
            return
        plan = self._plan
        if et is None:
            await self._finish(plan.commit)
        else:
            try:
                await self._finish(plan.rollback)
            except Exception:
                if plan.nested:
                    raise
