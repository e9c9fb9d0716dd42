"""What the client answered to a server request (elicitation, sampling, roots): the result
object as sent, readable both as a dict and by attribute (`result.action`,
`result.content.text`), like the official SDK's result models."""

from __future__ import annotations

from typing import Any


class ClientResult(dict[str, Any]):
    """A JSON object with attribute access; nested objects are ClientResults too. A member the
    object lacks reads as None (the SDK's optional fields)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return wrap(self.get(name))


def wrap(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, ClientResult):
        return ClientResult(value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value
