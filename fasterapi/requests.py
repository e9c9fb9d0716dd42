"""Request: the engine's lazy request with Python conveniences computed on first use."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from fasterapi._engine import NativeRequest
from fasterapi._jsonio import json_loads
from fasterapi.datastructures import URL, Address, Headers, QueryParams, parse_cookies


class Request(NativeRequest):  # type: ignore[misc]
    """One HTTP request. The engine fills `method`, `path`, `path_params`, `body`, ...;
    everything below is built only when a handler reads it, then cached."""

    @cached_property
    def query_params(self) -> QueryParams:
        """Query parameters, multi-valued (`getlist`), `+` and percent-escapes decoded."""
        return QueryParams(self.query_string)

    @cached_property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued headers."""
        return Headers(self.header_list)

    @cached_property
    def cookies(self) -> dict[str, str]:
        return parse_cookies(self.headers.getlist("cookie"))

    @cached_property
    def url(self) -> URL:
        host = self.headers.get("host") or "{}:{}".format(*self.client)
        raw = self.raw_path.decode("latin-1")
        return URL(self.scheme, host, raw, self.query_string.decode("latin-1"))

    @property
    def client_address(self) -> Address:
        return Address(self.client)

    @cached_property
    def state(self) -> dict[str, Any]:
        """Per-request scratch space for middleware and dependencies."""
        return {}

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded (UTF-8 unless told otherwise)."""
        return self.body.decode(encoding)  # type: ignore[no-any-return]

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError on malformed JSON."""
        return json_loads(self.body)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"
