"""A Record whose values the cyclic collector does not track (ints, strs, ...) is itself left
untracked, as CPython does with tuples of atoms: it can be in no cycle, and the young
generation's collections need not walk it. One holding a container (an array's list, a json
dict) is tracked, so a cycle through it is still collected."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from fasterapi import pg

from .conftest import run

pytestmark = pytest.mark.pg


def test_record_tracked_only_with_a_container(pg_dsn: str) -> None:
    async def body() -> tuple[Any, Any]:
        conn = await pg.connect(pg_dsn)
        try:
            atoms = await conn.fetchrow("SELECT 1::int4 AS i, 'é<'::text AS m, NULL::int AS n")
            holder = await conn.fetchrow("SELECT 1::int4 AS i, ARRAY[1, 2]::int4[] AS a")
            return atoms, holder
        finally:
            await conn.close()

    atoms, holder = run(body())
    assert tuple(atoms) == (1, "é<", None) and atoms["m"] == "é<"
    assert not gc.is_tracked(atoms)
    assert holder["a"] == [1, 2]
    assert gc.is_tracked(holder)

    class Box:
        pass

    box = Box()
    holder["a"].append(box)  # the Record's list now closes a cycle back to it
    box.rec = holder  # type: ignore[attr-defined]
    ref = weakref.ref(box)
    del box, holder
    gc.collect()
    assert ref() is None, "a cycle through a Record was not collected"
