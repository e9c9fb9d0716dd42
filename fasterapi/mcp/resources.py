"""Resources (server/resources.mdx): static URIs the C++ core looks up itself, and URI templates
(RFC 6570 level 1, `users://{id}/profile`) matched here for the URIs it does not know."""

from __future__ import annotations

import base64
import inspect
import json
import re
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, ValidationError

from fasterapi.mcp.content import to_jsonable
from fasterapi.mcp.context import Context
from fasterapi.mcp.errors import InvalidParams
from fasterapi.mcp.signature import Arguments, describe_validation_error

_PARAM = re.compile(r"{(\w+)}")


def template_params(uri: str) -> list[str]:
    return _PARAM.findall(uri)


def _default_mime(fn: Callable[..., Any]) -> str:
    try:
        hint = get_type_hints(fn).get("return")
    except Exception:
        hint = None
    if hint in (str, None):
        return "text/plain"
    if hint is bytes:
        return "application/octet-stream"
    return "application/json"


class Resource:
    """A resource or resource template and how to read it."""

    def __init__(
        self,
        fn: Callable[..., Any],
        uri: str,
        name: str | None,
        title: str | None,
        description: str | None,
        mime_type: str | None,
        annotations: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.uri = uri
        self.params = template_params(uri)
        self.is_template = bool(self.params)
        self.mime_type = mime_type or _default_mime(fn)
        self.arguments = Arguments(fn, f"{fn.__name__}Params")
        if not self.is_template and self.arguments.names:
            raise ValueError(
                f"resource {uri!r}: a static URI takes no parameters; use {{name}} in the URI"
            )
        if self.is_template and set(self.params) != set(self.arguments.names):
            raise ValueError(
                f"resource template {uri!r}: URI parameters {sorted(self.params)} must match "
                f"the function's parameters {sorted(self.arguments.names)}"
            )
        pattern = "".join(
            f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part)
            for i, part in enumerate(_PARAM.split(uri))
        )
        self.regex = re.compile(f"^{pattern}$")
        self.descriptor: dict[str, Any] = {
            "uriTemplate" if self.is_template else "uri": uri,
            "name": name or fn.__name__,
        }
        if title:
            self.descriptor["title"] = title
        doc = description if description is not None else inspect.getdoc(fn)
        if doc:
            self.descriptor["description"] = doc
        self.descriptor["mimeType"] = self.mime_type
        if annotations:
            self.descriptor["annotations"] = annotations
        if meta:
            self.descriptor["_meta"] = meta

    def match(self, uri: str) -> dict[str, str] | None:
        m = self.regex.match(uri)
        return m.groupdict() if m else None

    def call(self, params: dict[str, str], reply: Any, server: Any) -> Any:
        try:
            kwargs = self.arguments.validate(params)
        except ValidationError as exc:
            raise InvalidParams(describe_validation_error(exc)) from None
        if self.arguments.context_param is not None:
            kwargs[self.arguments.context_param] = Context(reply, server)
        return self.fn(**kwargs)

    def contents(self, uri: str, value: Any) -> dict[str, Any]:
        """The ReadResourceResult for the function's return value."""
        if isinstance(value, bytes | bytearray):
            blob = base64.b64encode(value).decode()
            item = {"uri": uri, "mimeType": self.mime_type, "blob": blob}
        elif isinstance(value, str):
            item = {"uri": uri, "mimeType": self.mime_type, "text": value}
        else:
            if isinstance(value, BaseModel):
                value = to_jsonable(value)
            text = json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)
            item = {"uri": uri, "mimeType": self.mime_type, "text": text}
        return {"contents": [item]}
