"""json_dumps/json_loads: the engine's C++ JSON codec (bindings/json_encode.cpp, json_decode.cpp).

json_dumps(obj) -> bytes encodes what the engine's fast path encodes (dict, list, str, int,
float, bool, None, datetime, UUID, Decimal, Enum, dataclasses, pydantic models by alias) and
refuses the rest with TypeError/ValueError; its refusals are deliberate (non-str keys, NaN),
so nothing here falls back to a more lenient encoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fasterapi._native import json_dumps as _native_dumps
from fasterapi._native import json_dumps_plan as _native_dumps_plan
from fasterapi._native import json_loads as _native_loads

json_dumps: Callable[[Any], bytes] = _native_dumps
json_loads: Callable[[bytes | str], Any] = _native_loads
# json_dumps_plan(obj, plan) -> bytes | None: a response model's JSON (fasterapi/_model_json.py)
json_dumps_plan: Callable[[Any, Any], bytes | None] = _native_dumps_plan


class JSONBody(bytes):
    """A body that is already a JSON document (a response model's pydantic `dump_json`):
    answered as it is, with Content-Type application/json (fasterapi/_dispatch.py render)."""

    __slots__ = ()
