"""Multi-round requests of protocol revision 2026-07-28 (basic/utilities/mrtr.mdx, SEP-2322).

A 2026-07-28 server cannot send the client a request mid-call; instead the call answers with an
`InputRequiredResult` naming what it needs (`inputRequests`) and an opaque `requestState`, and
the client calls again with `inputResponses` and the state echoed. The spec makes the echoed
state attacker-controlled, so ours is sealed: HMAC-SHA256 under a per-server secret, compared in
constant time, bound to the method and name it was issued for, and short-lived.

`Context.elicit/sample/list_roots` use this on 2026-07-28 requests: an input that was not
answered yet raises `InputRequired`, the tool's runner answers with the InputRequiredResult, and
the retried call replays the tool with the answers collected so far (carried in the state).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fasterapi.mcp.errors import INVALID_PARAMS, McpError

#: How long a requestState stays valid (s): a user answering an elicitation takes minutes.
STATE_TTL_S = 3600


@dataclass
class InputRequiredResult:
    """Returned by a tool or prompt that needs the client's input before it can finish.

    `input_requests` maps a key of your choosing to a request: `{"method": "elicitation/create",
    "params": {...}}` (also sampling/createMessage and roots/list). The retried call sees the
    answers in `ctx.input_responses[key]` and `request_state` in `ctx.request_state`.
    """

    input_requests: dict[str, Any] = field(default_factory=dict)
    request_state: str | None = None


class InputRequired(Exception):
    """Raised by a Context ask on a 2026-07-28 request whose answer has not arrived yet; the
    runner turns it into an InputRequiredResult. Tools should let it propagate."""

    def __init__(self, requests: dict[str, Any]) -> None:
        super().__init__("input required")
        self.requests = requests


class StateSeal:
    """Seals and opens requestState tokens: base64url(payload) "." base64url(HMAC-SHA256)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._key = secret or secrets.token_bytes(32)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def seal(self, bound_to: str, payload: dict[str, Any]) -> str:
        doc = {"b": bound_to, "exp": int(time.time()) + STATE_TTL_S, **payload}
        body = _b64(json.dumps(doc, separators=(",", ":")).encode())
        return body + "." + _b64(self._mac(body.encode()))

    def open(self, bound_to: str, token: Any) -> dict[str, Any]:
        """The payload of a token this server sealed for `bound_to`; McpError -32602 otherwise."""
        if not isinstance(token, str) or token.count(".") != 1:
            raise _invalid()
        body, mac = token.split(".")
        try:
            given = _unb64(mac)
        except ValueError:
            raise _invalid() from None
        if not hmac.compare_digest(given, self._mac(body.encode())):  # constant time
            raise _invalid()
        doc = json.loads(_unb64(body))
        if doc.get("b") != bound_to or int(doc.get("exp", 0)) < time.time():
            raise _invalid()
        return dict(doc)


def _invalid() -> McpError:
    return McpError("Invalid params: requestState failed verification", INVALID_PARAMS)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def request_dict(request: Any) -> dict[str, Any]:
    """An input request as the wire wants it: a {"method", "params"} dict, or a pydantic
    model of one (the official SDK's ElicitRequest, CreateMessageRequest, ...)."""
    if hasattr(request, "model_dump"):
        request = request.model_dump(by_alias=True, exclude_none=True, mode="json")
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        raise TypeError("an input request is {'method': ..., 'params': {...}}")
    return request
