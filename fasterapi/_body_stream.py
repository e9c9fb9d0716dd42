"""Streamed request bodies: which routes take them, and reading the next chunk.

A route streams its body when nothing but the endpoint reads it: an ASGI app, or an endpoint
that calls `request.stream()` (or `request.receive()`) and whose parameters are the Request
and scalar path/query/header/cookie values (no Body, Form, File, model or dependency). The
engine then dispatches a body past 64 KiB (or chunked) as soon as the head is parsed, and
`request.stream()` / ASGI `receive()` read it chunk by chunk, the connection pausing while
the handler does not read (backpressure). Smaller bodies are read whole first, as on every
other route. Over HTTP/2 the same reads take the stream's DATA as it arrives, and the
stream's flow-control window reopens only as they do (src/h2/body_stream.cpp); a body already
complete when the handler is dispatched comes whole.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from typing import Any

from fasterapi import params

_SCALARS = (str, int, float, bool, bytes)
_PLAIN = (params.Path, params.Query, params.Header, params.Cookie)


class ClientDisconnect(Exception):
    """The body ended before it was complete: the client left (Starlette's
    `starlette.requests.ClientDisconnect`), or the engine refused it (413, bad framing)."""


def streams_body(route: Any) -> bool:
    """Whether the route's endpoint reads the body only through the request."""
    from fasterapi.asgi.adapter import ASGIApp
    from fasterapi.requests import Request

    endpoint = route.endpoint
    if isinstance(endpoint, ASGIApp):
        return True
    if getattr(route, "dependencies", None):
        return False
    # Only an endpoint that reads the stream itself: one that calls request.json(), .form()
    # or .body() keeps the body read whole before it runs (those need all of it anyway).
    code = getattr(inspect.unwrap(endpoint), "__code__", None)
    if code is None or not {"stream", "receive"} & set(code.co_names):
        return False
    try:
        sig = inspect.signature(endpoint)
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except (TypeError, ValueError, NameError):
        return False
    takes_request = False
    for name, p in sig.parameters.items():
        hint = hints.get(name, p.annotation)
        if typing.get_origin(hint) is typing.Annotated:  # Annotated[int, Body()] and the like
            if any(isinstance(m, params.Body | params.Depends) for m in hint.__metadata__):
                return False
            if any(isinstance(m, _PLAIN) for m in hint.__metadata__):
                continue
            hint = typing.get_args(hint)[0]
        if inspect.isclass(hint) and issubclass(hint, Request):
            takes_request = True
            continue
        if isinstance(p.default, params.Body | params.Depends):
            return False
        if isinstance(p.default, _PLAIN) or hint in _SCALARS:
            continue
        return False  # a model, a collection, anything that may be read from the body
    return takes_request


def next_chunk(req: Any) -> asyncio.Future[tuple[bytes | None, int]]:
    """(data, status) of the next read: bytes, b"" at the end, or None with the status
    (0 the client left; 400/408/413 answered by the engine; -1 nothing to read: the
    exchange is over)."""
    fut: asyncio.Future[tuple[bytes | None, int]] = asyncio.get_running_loop().create_future()

    def done(data: bytes | None, status: int) -> None:
        if not fut.done():
            fut.set_result((data, status))

    if not req.read_body(done):
        fut.set_result((None, -1))
    return fut


def disconnect_reason(status: int) -> str:
    if status == 413:
        return "the request body is larger than max_body_bytes (answered 413)"
    if status == 408:
        return "the client stopped sending the body (answered 408 after body_timeout)"
    if status == 400:
        return "the request body's chunked framing is malformed (answered 400)"
    return "the client disconnected before the body was complete"
