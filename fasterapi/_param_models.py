"""Query, header and cookie parameter models (`filters: Annotated[Filters, Query()]`): one
pydantic model filled from the request's query string, headers or cookies, validated as a
whole, with FastAPI's error locations (`["query", "limit"]`) and `extra="forbid"` refusing
keys the model does not declare."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

if TYPE_CHECKING:
    from fasterapi.dependencies import Field, SolveState

_SEQUENCES = (list, set, frozenset, tuple)
_MODEL_SOURCES = ("query", "header", "cookie")


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) is Union or type(tp).__name__ == "UnionType":
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def param_model(f: Field) -> type[BaseModel] | None:
    """The model of a query/header/cookie parameter annotated with a pydantic model."""
    tp = _strip_optional(f.annotation)
    if f.source in _MODEL_SOURCES and isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _is_sequence(tp: Any) -> bool:
    tp = _strip_optional(tp)
    return tp in _SEQUENCES or get_origin(tp) in _SEQUENCES


def model_fields(f: Field, model: type[BaseModel]) -> list[tuple[str, str, bool]]:
    """(field name, request key, is a list) for each field: header keys with `_` as `-`
    unless Header(convert_underscores=False), lower-cased as headers are."""
    convert = f.source == "header" and getattr(f.marker, "convert_underscores", True)
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if f.source == "header":
            key = (key.replace("_", "-") if convert else key).lower()
        out.append((name, key, _is_sequence(info.annotation)))
    return out


def param_model_getter(
    f: Field, model: type[BaseModel], sanitize: Callable[[Any, tuple[Any, ...]], Any]
) -> Callable[[SolveState], Any]:
    """The per-request getter: the model instance, or None with the errors recorded."""
    source = f.source
    fields = model_fields(f, model)
    own = {key for _, key, _ in fields}
    key_of = {name: key for name, key, _ in fields}
    adapter = TypeAdapter(model)

    def get(st: SolveState) -> Any:
        req = st.req
        mapping: Any = (
            req.query_params if source == "query" else req.headers if source == "header"
            else req.cookies
        )
        # As FastAPI: present fields by field name, every other key as sent (the model
        # ignores them unless extra="forbid" refuses them); errors name the request key.
        values: dict[str, Any] = {}
        for name, key, seq in fields:
            if seq and hasattr(mapping, "getlist"):
                if found := mapping.getlist(key):
                    values[name] = found
            elif key in mapping:
                values[name] = [mapping[key]] if seq else mapping[key]
        items = mapping.multi_items() if hasattr(mapping, "multi_items") else mapping.items()
        for key, value in items:
            if key in own:
                continue
            if key in values:  # a repeated key: its values as a list, as FastAPI has them
                seen = values[key]
                values[key] = [*seen, value] if isinstance(seen, list) else [seen, value]
            else:
                values[key] = value
        try:
            return adapter.validate_python(values)
        except ValidationError as e:
            for err in e.errors(include_url=False):
                loc = err["loc"]
                if loc and loc[0] in key_of:
                    err["loc"] = (key_of[loc[0]], *loc[1:])
                st.errors.append(sanitize(err, (source,)))
            return None

    return get
