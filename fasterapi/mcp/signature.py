"""A handler's signature as a pydantic model: the JSON Schema (2020-12) clients see as
inputSchema, validation of incoming arguments, and where the Context goes."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from fasterapi.mcp.context import Context


class Arguments:
    """Validates a JSON arguments object against `fn`'s parameters."""

    def __init__(self, fn: Callable[..., Any], model_name: str) -> None:
        sig = inspect.signature(fn)
        try:
            hints = get_type_hints(fn, include_extras=True)
        except Exception:  # unresolvable forward references: fall back to raw annotations
            hints = {}
        self.context_param: str | None = None
        fields: dict[str, Any] = {}
        for name, param in sig.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            annotation = hints.get(name, param.annotation)
            if annotation is inspect.Parameter.empty:
                annotation = Any
            if isinstance(annotation, type) and issubclass(annotation, Context):
                self.context_param = name
                continue
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (annotation, default)
        self.names = tuple(fields)
        self.model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            model_name, __config__=ConfigDict(arbitrary_types_allowed=True), **fields
        )
        self._fast = all(
            hints.get(n) in (str, int, float, bool) and sig.parameters[n].default is
            inspect.Parameter.empty for n in self.names
        )
        self._types = {n: hints.get(n) for n in self.names}
        self._floats = tuple(n for n in self.names if self._types[n] is float)

    def json_schema(self) -> dict[str, Any]:
        return self.model.model_json_schema(by_alias=True)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments for the call. Raises pydantic.ValidationError."""
        if self._fast and len(arguments) == len(self.names) and _plain_ok(arguments, self._types):
            # Exact JSON types already: skip pydantic (an int for a float becomes a float). The
            # dict is this call's own (decoded from its message), so it is handed on as is.
            for n in self._floats:
                arguments[n] = float(arguments[n])
            return arguments
        model = self.model.model_validate(arguments)
        return {name: getattr(model, name) for name in self.names}


def _plain_ok(arguments: dict[str, Any], types: dict[str, Any]) -> bool:
    for name, expected in types.items():
        if name not in arguments:
            return False
        value = arguments[name]
        kind = type(value)
        if kind is bool and expected is not bool:
            return False
        if not (kind is expected or (expected is float and kind is int)):
            return False
    return True


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg')}")
    return "Invalid arguments: " + "; ".join(parts)
