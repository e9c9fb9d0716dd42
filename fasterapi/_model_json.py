"""A response model's JSON written in one C++ pass, where pydantic would change nothing.

FastAPI answers a route with a `response_model` by validating the handler's value into the
model (`TypeAdapter.validate_python(value, from_attributes=True)`) and writing the result
with `TypeAdapter.dump_json`. For the common case, plain models whose fields are str, int,
float, bool, `X | None`, `list[X]` and other plain models, and a value made of dicts (or
instances of exactly the model) holding values of exactly those types, validation returns
the same values and the JSON is a function of them alone. `plan(adapter)` compiles such a
response model, once per route, into a nested tuple (the layout below) that
`_native.json_dumps_plan(value, plan)` walks: it writes the same bytes as
`dump_json(validate_python(value))`, or returns None as soon as a value is not exactly what
the plan expects (a missing key, an int where a str is declared, a float pydantic writes
differently such as inf or 1e-05, a subclass, an ORM object), and the caller then runs
pydantic as before, which also raises the validation error where there is one.

Anything in a model's pydantic core schema this module does not know (validators,
serializers, constraints, aliases pydantic could read two ways, computed fields, excluded
fields, extra="allow"/"forbid", string transformations in the config, ...) makes `plan`
return None: that route keeps the pydantic path for every request.

Plan nodes (must match bindings/json_encode.cpp `write_planned`):
- STR, INT, FLOAT, BOOL: an int;
- (NULLABLE, node), (LIST, node);
- (MODEL, cls, fields), fields a tuple of (input key, attribute name, b'"key":', node[,
  default]): the key read from a dict (the validation alias or the name), the attribute read
  from an instance of exactly `cls`, the JSON key written (serialization alias when
  by_alias), and the value written when a dict lacks the key (absent: pydantic's path). A
  default is written as an instance attribute is, exactly typed or not at all."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from fasterapi._jsonio import json_dumps

STR, INT, FLOAT, BOOL, NULLABLE, LIST, MODEL = range(7)

_LEAVES = {"str": STR, "int": INT, "float": FLOAT, "bool": BOOL}

# Core-config keys that cannot change what validation returns for exactly-typed values, nor
# how they are written; anything else must be absent (or at the value in _CONFIG_VALUES).
_CONFIG_IGNORED = frozenset({
    "title", "from_attributes", "loc_by_alias", "hide_input_in_errors",
    "validation_error_cause", "ser_json_inf_nan", "ser_json_timedelta", "ser_json_bytes",
    "ser_json_temporal", "val_json_bytes", "val_temporal_unit", "cache_strings",
    "regex_engine", "coerce_numbers_to_str", "allow_inf_nan", "serialize_by_alias",
    "validate_by_alias", "validate_by_name", "microseconds_precision",
})  # fmt: skip
_CONFIG_VALUES: dict[str, tuple[Any, ...]] = {
    "strict": (False, None),
    "extra_fields_behavior": ("ignore", None),
    "revalidate_instances": ("never", None),
    "str_strip_whitespace": (False, None),
    "str_to_lower": (False, None),
    "str_to_upper": (False, None),
    "str_max_length": (None,),
    "str_min_length": (None, 0),
}


class _Unsupported(Exception):
    pass


def plan(adapter: TypeAdapter[Any], by_alias: bool = True) -> Any:
    """The plan for `adapter`'s type, or None when pydantic must do the work."""
    try:
        schema: Any = adapter.core_schema
    except Exception:
        return None
    try:
        return _Compiler(by_alias).node(schema)
    except Exception:  # _Unsupported, or a schema shaped in a way this module never saw
        return None


def _only(schema: dict[str, Any], allowed: set[str]) -> None:
    extra = set(schema) - allowed - {"type", "metadata", "ref"}
    if extra:
        raise _Unsupported(f"{schema.get('type')}: {sorted(extra)}")


def _check_config(config: dict[str, Any] | None) -> None:
    for key, value in (config or {}).items():
        if key in _CONFIG_IGNORED:
            continue
        if key not in _CONFIG_VALUES or value not in _CONFIG_VALUES[key]:
            raise _Unsupported(f"config {key}={value!r}")


_NONE = object()
_EMPTY_FACTORIES: dict[Any, Any] = {list: [], dict: {}}


def _default(schema: dict[str, Any]) -> Any:
    """What validation puts in a missing field, when that is known without running code: a
    plain default (written as it is, never validated, as pydantic does), or the empty list of
    `default_factory=list`. _NONE: a missing key is left to pydantic."""
    if schema["type"] != "default" or schema.get("default_factory_takes_data"):
        return _NONE
    if "default" in schema:
        return schema["default"]
    return _EMPTY_FACTORIES.get(schema.get("default_factory"), _NONE)


class _Compiler:
    def __init__(self, by_alias: bool) -> None:
        self.by_alias = by_alias
        self.definitions: dict[str, Any] = {}
        self.active: set[str] = set()  # refs being compiled: a recursive model is refused

    def node(self, schema: dict[str, Any]) -> Any:
        kind = schema["type"]
        if kind in _LEAVES:
            _only(schema, set())
            return _LEAVES[kind]
        if kind == "nullable":
            _only(schema, {"schema"})
            return (NULLABLE, self.node(schema["schema"]))
        if kind == "list":
            _only(schema, {"items_schema"})
            return (LIST, self.node(schema["items_schema"]))
        if kind == "default":  # see field(): the default is written when the key is missing
            _only(schema, {"schema", "default", "default_factory", "default_factory_takes_data"})
            return self.node(schema["schema"])
        if kind == "definitions":
            _only(schema, {"schema", "definitions"})
            for definition in schema["definitions"]:
                self.definitions[definition["ref"]] = definition
            return self.node(schema["schema"])
        if kind == "definition-ref":
            _only(schema, {"schema_ref"})
            return self.node(self.definitions[schema["schema_ref"]])
        if kind == "model":
            return self.model(schema)
        raise _Unsupported(kind)

    def model(self, schema: dict[str, Any]) -> Any:
        _only(schema, {"cls", "schema", "config", "custom_init", "root_model", "generic_origin"})
        if schema.get("custom_init") or schema.get("root_model"):
            raise _Unsupported("custom __init__ or RootModel")
        ref = schema.get("ref")
        if ref is not None:
            if ref in self.active:
                raise _Unsupported("recursive model")
            self.active.add(ref)
        config = schema.get("config") or {}
        _check_config(config)
        fields_schema = schema["schema"]
        if fields_schema["type"] != "model-fields":
            raise _Unsupported(fields_schema["type"])
        _only(fields_schema, {"fields", "model_name", "computed_fields", "extra_behavior"})
        if fields_schema.get("computed_fields") or fields_schema.get("extra_behavior") not in (
            None, "ignore",
        ):  # fmt: skip
            raise _Unsupported("computed fields or extra fields")
        by_name = bool(config.get("validate_by_name")) or config.get("validate_by_alias") is False
        fields = []
        for name, field in fields_schema["fields"].items():
            if field["type"] != "model-field":
                raise _Unsupported(field["type"])
            _only(field, {"schema", "validation_alias", "serialization_alias", "frozen"})
            key = field.get("validation_alias", name)
            if not isinstance(key, str) or (by_name and key != name):
                raise _Unsupported("alias paths, or a field readable by name and by alias")
            out = field.get("serialization_alias", name) if self.by_alias else name
            if not isinstance(out, str):
                raise _Unsupported("serialization alias")
            prefix = json_dumps(out) + b":"
            inner = field["schema"]
            node = self.node(inner)
            default = _default(inner)
            fields.append((key, name, prefix, node) + (() if default is _NONE else (default,)))
        if ref is not None:
            self.active.discard(ref)
        return (MODEL, schema["cls"], tuple(fields))
