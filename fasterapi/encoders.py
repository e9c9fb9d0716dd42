"""jsonable_encoder: any value a handler works with → data `json.dumps` accepts (dicts,
lists, str, int, float, bool, None), at FastAPI's import path and with its conventions:
models dumped by alias, datetimes/UUIDs as strings, Decimal and timedelta as numbers."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import pathlib
import re
import types
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python

IncEx = set[int] | set[str] | dict[int, Any] | dict[str, Any] | None
_SEQUENCES = (list, set, frozenset, tuple, deque, Generator, types.GeneratorType)
_PRIMITIVES = (str, int, float, type(None))


def _decimal(value: decimal.Decimal) -> int | float:
    """A whole Decimal as an int, else a float (as FastAPI encodes it)."""
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


_LEAVES: dict[type, Callable[[Any], Any]] = {
    bytes: lambda b: b.decode(),
    datetime.date: lambda d: d.isoformat(),  # datetimes too: "+00:00", not pydantic's "Z"
    datetime.time: lambda t: t.isoformat(),
    datetime.timedelta: lambda td: td.total_seconds(),
    decimal.Decimal: _decimal,
    re.Pattern: lambda p: p.pattern,
}


def jsonable_encoder(
    obj: Any,
    include: IncEx = None,
    exclude: IncEx = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
    _strict: bool = False,
) -> Any:
    """`obj` as JSON-compatible data. `include`/`exclude` pick fields of a model or keys of
    a dict; `custom_encoder` maps a type to the function that encodes it (checked first).
    Raises ValueError for an object it cannot turn into data."""
    custom = custom_encoder or {}
    again: Callable[[Any], Any] = lambda value: jsonable_encoder(  # noqa: E731
        value, by_alias=by_alias, exclude_unset=exclude_unset, exclude_defaults=exclude_defaults,
        exclude_none=exclude_none, custom_encoder=custom, sqlalchemy_safe=sqlalchemy_safe,
        _strict=_strict)
    if custom:
        if type(obj) in custom:
            return custom[type(obj)](obj)
        for tp, encode in custom.items():
            if isinstance(obj, tp):
                return encode(obj)
    if isinstance(obj, BaseModel):
        data = obj.model_dump(
            mode="json", include=include, exclude=exclude, by_alias=by_alias,
            exclude_unset=exclude_unset, exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )
        return again(data)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable_encoder(
            dataclasses.asdict(obj), include=include, exclude=exclude, by_alias=by_alias,
            exclude_unset=exclude_unset, exclude_defaults=exclude_defaults,
            exclude_none=exclude_none, custom_encoder=custom, sqlalchemy_safe=sqlalchemy_safe,
            _strict=_strict)
    if isinstance(obj, enum.Enum):
        return again(obj.value)
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    if isinstance(obj, _PRIMITIVES) or obj is PydanticUndefined:
        return None if obj is PydanticUndefined else obj
    if isinstance(obj, dict):
        keys = set(obj) if include is None else set(include)
        keys -= set(exclude or ())
        return {
            again(key): again(value)
            for key, value in obj.items()
            if key in keys
            and not (sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"))
            and not (exclude_none and value is None)
        }
    if isinstance(obj, _SEQUENCES):
        return [again(item) for item in obj]
    for tp, encode in _LEAVES.items():
        if isinstance(obj, tp):
            return encode(obj)
    try:
        return to_jsonable_python(obj)  # datetimes, UUIDs, IP addresses, ...
    except Exception:
        if _strict:  # the render path: an arbitrary object is a bug, answered 500
            raise TypeError(f"cannot encode {type(obj).__qualname__} as JSON") from None
    try:
        data = dict(obj)
    except Exception as dict_error:
        try:
            data = vars(obj)
        except Exception as vars_error:
            raise ValueError(
                f"jsonable_encoder: cannot encode {type(obj).__qualname__} "
                f"({dict_error}; {vars_error})"
            ) from vars_error
    return again(data)


def _key(key: Any) -> Any:
    """A dict key as json.dumps writes it: str as is, numbers, bools and None as text."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return "null" if key is None else ("true" if key else "false")
    return str(key) if isinstance(key, int | float) else key


def jsonable(obj: Any) -> Any:
    """`obj` as the JSON data FastAPI would send: jsonable_encoder, with non-str dict keys
    written as json.dumps writes them. The render path's fallback for values the C++
    encoder refuses (it handles the common types without this)."""
    data = jsonable_encoder(obj, _strict=True)

    def keys(value: Any) -> Any:
        if isinstance(value, dict):
            return {_key(k): keys(v) for k, v in value.items()}
        if isinstance(value, list):
            return [keys(v) for v in value]
        return value

    return keys(data)
