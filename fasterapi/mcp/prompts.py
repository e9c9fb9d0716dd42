"""Prompts (server/prompts.mdx): the descriptor with its arguments, and the messages a prompt
function's value becomes (str -> one user text message; dicts with role/content pass through)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from fasterapi.mcp.content import to_blocks
from fasterapi.mcp.context import Context
from fasterapi.mcp.errors import InvalidParams
from fasterapi.mcp.signature import Arguments, describe_validation_error


def to_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list | tuple):
        messages: list[dict[str, Any]] = []
        for item in value:
            messages.extend(to_messages(item))
        return messages
    if isinstance(value, dict) and "role" in value and "content" in value:
        content = value["content"]
        if isinstance(content, str):
            content = {"type": "text", "text": content}
        return [{"role": value["role"], "content": content}]
    return [{"role": "user", "content": block} for block in to_blocks(value)]


class Prompt:
    def __init__(
        self, fn: Callable[..., Any], name: str, title: str | None, description: str | None
    ) -> None:
        self.fn = fn
        self.name = name
        self.arguments = Arguments(fn, f"{name}Arguments")
        self.description = description if description is not None else inspect.getdoc(fn)
        required = set(self.arguments.json_schema().get("required", ()))
        props = self.arguments.json_schema().get("properties", {})
        self.descriptor: dict[str, Any] = {"name": name}
        if title:
            self.descriptor["title"] = title
        if self.description:
            self.descriptor["description"] = self.description
        args = []
        for arg in self.arguments.names:
            entry: dict[str, Any] = {"name": arg, "required": arg in required}
            if "description" in props.get(arg, {}):
                entry["description"] = props[arg]["description"]
            args.append(entry)
        self.descriptor["arguments"] = args

    def call(self, arguments: dict[str, Any], reply: Any, server: Any) -> Any:
        try:
            kwargs = self.arguments.validate(arguments)
        except ValidationError as exc:
            raise InvalidParams(describe_validation_error(exc)) from None
        if self.arguments.context_param is not None:
            kwargs[self.arguments.context_param] = Context(reply, server)
        return self.fn(**kwargs)

    def result(self, value: Any) -> dict[str, Any]:
        result: dict[str, Any] = {"messages": to_messages(value)}
        if self.description:
            result["description"] = self.description
        return result
