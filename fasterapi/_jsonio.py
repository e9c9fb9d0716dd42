"""json_dumps/json_loads: the native codec when built, else the json module, same output."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, datetime.datetime | datetime.date | datetime.time):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _py_dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON; NaN refused; raises TypeError on an unsupported type."""
    return json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    ).encode()


def _py_loads(data: bytes | str) -> Any:
    return json.loads(data)


json_dumps: Callable[[Any], bytes]
json_loads: Callable[[bytes | str], Any]

try:
    from fasterapi._native import json_dumps as _n_dumps
    from fasterapi._native import json_loads as _n_loads
except ImportError:  # the extension is not built
    json_dumps, json_loads = _py_dumps, _py_loads
else:

    def _dumps(obj: Any) -> bytes:
        """Compact UTF-8 JSON of `obj` (native); falls back to Python for types it refuses."""
        try:
            return _n_dumps(obj)
        except TypeError:
            return _py_dumps(obj)

    json_dumps, json_loads = _dumps, _n_loads
