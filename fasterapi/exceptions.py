"""Exceptions a handler raises to produce an error response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fasterapi.datastructures import encode_header


class HTTPException(Exception):
    """Answer with `status_code` and `{"detail": detail}` (plus `headers`) instead of 500."""

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = "Error"
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        if headers:
            for name, value in headers.items():
                encode_header(name, value)  # a bad header fails here, where it was written
        self.headers = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class InvalidBodyError(HTTPException, ValueError):
    """The request body could not be decoded (malformed JSON, not UTF-8): answered 400 with
    `{"detail": "Invalid JSON: ..."}`. Also a ValueError, so `except ValueError` catches it."""

    def __init__(self, detail: str) -> None:
        HTTPException.__init__(self, 400, detail)


class RequestValidationError(Exception):
    """Request data failed validation; answered 422 with FastAPI's `{"detail": [errors]}`."""

    def __init__(self, errors: Sequence[Any], body: Any = None) -> None:
        super().__init__(errors)
        self._errors = list(errors)
        self.body = body

    def errors(self) -> list[Any]:
        return self._errors


class ResponseValidationError(Exception):
    """The handler's return value does not match its `response_model` (a server bug → 500)."""

    def __init__(self, errors: Sequence[Any]) -> None:
        super().__init__(errors)
        self._errors = list(errors)

    def errors(self) -> list[Any]:
        return self._errors


class FastAPIError(RuntimeError):
    """A problem with how the app is written (FastAPI's name)."""


class DependencyScopeError(FastAPIError):
    """A dependency depends on another with a narrower scope: a "request"-scoped generator
    dependency on a "function"-scoped one (its exit would run after the one it uses)."""
