"""Request: the engine's lazy request with Python conveniences computed on first use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from fasterapi._body_stream import ClientDisconnect, disconnect_reason, next_chunk
from fasterapi._engine import NativeRequest
from fasterapi._jsonio import json_loads
from fasterapi.datastructures import URL, Address, Headers, QueryParams, parse_cookies
from fasterapi.exceptions import InvalidBodyError

T = TypeVar("T")
R = TypeVar("R")


class cached(Generic[T]):
    """A lock-free cached_property: the first read stores the value in the instance's
    __dict__, which later reads find before this descriptor (it defines no __set__)."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


raw_body: Callable[[Any], bytes] = NativeRequest.body.__get__  # the engine's bytes, no copy


class Body(bytes):
    """The request body: `bytes` (`req.body`), and also callable as Starlette's coroutine
    method, so FastAPI code's `await request.body()` works unchanged."""

    __slots__ = ()

    def __call__(self) -> Awaitable[bytes]:
        return _ready(bytes(self))


async def _ready(value: R) -> R:
    return value


def _body_bytes(req: Any) -> bytes:
    """The engine's body, or a streamed body once `await request.body()` collected it."""
    if req.body_streamed:
        collected = req.__dict__.get("_streamed_body")
        if collected is None:
            raise RuntimeError(
                "the request body is streamed (a large body on an endpoint that reads "
                "request.stream()): `await request.body()` first, or iterate request.stream()"
            )
        return collected  # type: ignore[no-any-return]
    return raw_body(req)


class _StreamedBody(Body):
    """`request.body` of a streamed request (a streaming route, a large or chunked body):
    empty as bytes until collected; `await request.body()` reads the stream to its end."""

    def __call__(self) -> Awaitable[bytes]:
        return _collect(self.req)  # type: ignore[attr-defined]


async def _collect(req: Any) -> bytes:
    cached_body = req.__dict__.get("_streamed_body")
    if cached_body is None:
        cached_body = b"".join([chunk async for chunk in req.stream()])
        req.__dict__["_streamed_body"] = cached_body
    return cached_body  # type: ignore[no-any-return]


class _BodyAttr:
    """Request.body: built on first read and cached in the instance, except on a subclass
    that overrides `body()` (FastAPI's custom request classes call `await super().body()`
    from their own `body`, which must stay reachable afterwards)."""

    __doc__ = "The body as bytes; `await request.body()` also works (FastAPI's spelling)."

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if obj.body_streamed:
            streamed = _StreamedBody(obj.__dict__.get("_streamed_body", b""))
            streamed.req = obj  # type: ignore[attr-defined]
            return streamed
        value = Body(raw_body(obj))
        if type(obj).body is self:
            obj.__dict__["body"] = value
        return value


class Request(NativeRequest):  # type: ignore[misc]
    """One HTTP request. The engine fills `method`, `path`, `path_params`, `body`, ...;
    everything below is built only when a handler reads it, then cached."""

    app: Any = None  # the App serving this request (set on a per-app subclass)

    def __new__(cls, scope: Any = None, receive: Any = None, send: Any = None) -> Any:
        """Starlette's `Request(scope, receive)`, as FastAPI's custom request classes build
        one from the request they were given (`GzipRequest(request.scope, request.receive)`):
        the engine's request becomes an instance of `cls`. Only the engine creates requests
        from nothing (it does not call this)."""
        orig = getattr(receive, "__self__", None)
        if not isinstance(orig, Request):
            raise TypeError(
                "Request(scope, receive) takes request.scope and request.receive of a request "
                "being served (requests are created by the engine)"
            )
        if type(orig) is not cls:
            if not issubclass(cls, Request):
                raise TypeError(f"{cls.__name__} is not a fasterapi Request class")
            orig.__dict__.setdefault("app", orig.app)  # the per-app class carried it
            orig.__dict__.pop("body", None)  # a subclass's own body() must be reachable
            orig.__class__ = cls
        return orig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # see __new__; the engine fills everything

    async def receive(self) -> dict[str, Any]:
        """The next ASGI `http.request` message (Starlette's `request.receive`): the whole
        body at once, or, for a streamed body, its next chunk with `more_body`;
        `http.disconnect` when the client left mid-body."""
        if not self.body_streamed:
            return {"type": "http.request", "body": raw_body(self), "more_body": False}
        data, _status = await next_chunk(self)
        if data is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": data, "more_body": bool(data)}

    async def is_disconnected(self) -> bool:
        """Whether the client has left (Starlette's `await request.is_disconnected()`): it
        closed its side of the connection, or the connection is gone. Does not wait; a
        streaming handler polls it to stop producing for nobody."""
        return bool(self.client_gone)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body in chunks, then b"" (Starlette's `async for chunk in request.stream()`).
        On a streaming route (an endpoint that takes only the Request and scalar parameters)
        a body past 64 KiB or chunked arrives as the client sends it, the connection pausing
        while this is not iterated; a client leaving mid-body raises ClientDisconnect. Other
        bodies were read whole before the handler ran: one chunk."""
        if not self.body_streamed or "_streamed_body" in self.__dict__:
            body = self.__dict__.get("_streamed_body") or raw_body(self)
            if body:
                yield body
            yield b""
            return
        if self.__dict__.get("_stream_consumed"):
            raise RuntimeError("Stream consumed")
        self.__dict__["_stream_consumed"] = True
        while True:
            data, status = await next_chunk(self)
            if data is None:
                raise ClientDisconnect(disconnect_reason(status))
            if not data:
                break
            yield data
        yield b""

    @cached
    def query_params(self) -> QueryParams:
        """Query parameters, multi-valued (`getlist`), `+` and percent-escapes decoded."""
        return QueryParams(self.query_string)

    @cached
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued headers."""
        return Headers(self.header_list)

    @cached
    def cookies(self) -> dict[str, str]:
        return parse_cookies(self.headers.getlist("cookie"))

    @cached
    def url(self) -> URL:
        host = self.headers.get("host") or "{}:{}".format(*self.client)
        raw = self.raw_path.decode("latin-1")
        return URL(self.scheme, host, raw, self.query_string.decode("latin-1"))

    @cached
    def client(self) -> Address:
        """(host, port) of the peer, also as `.host` and `.port` (Starlette's
        `request.client.host`)."""
        return Address(NativeRequest.client.__get__(self))

    @property
    def client_address(self) -> Address:
        """Alias of `client`."""
        return self.client

    body = _BodyAttr()  # the framework's own parsing reads the engine's bytes directly

    @cached
    def scope(self) -> dict[str, Any]:
        """An ASGI-style HTTP scope built from the request, for code written against
        Starlette's `request.scope` (root_path, headers as byte pairs, client, app, ...)."""
        app = self.app
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.http_version,
            "method": self.method,
            "scheme": self.scheme,
            "path": self.path,
            "raw_path": self.raw_path,
            "root_path": getattr(app, "root_path", ""),
            "query_string": self.query_string,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in self.headers.items()],
            "client": tuple(self.client),
            "path_params": self.path_params,
            "app": app,
            # ASGI's TLS extension over TLS (client certificate details for mTLS)
            "extensions": {"tls": self.tls_extension} if self.tls_extension else {},
        }

    @cached
    def state(self) -> SimpleNamespace:
        """Per-request scratch space for middleware and dependencies (`req.state.user = u`)."""
        return SimpleNamespace()

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded (UTF-8 unless told otherwise); a body that does not decode raises
        InvalidBodyError (a ValueError answered 400)."""
        try:
            return _body_bytes(self).decode(encoding)
        except UnicodeDecodeError as e:
            raise InvalidBodyError(f"Request body is not valid {e.encoding}: {e.reason}") from e

    def json(self) -> Any:
        """The body parsed as JSON. Malformed JSON (or a body that is not UTF-8) raises
        InvalidBodyError: a ValueError that is answered 400 {"detail": "Invalid JSON: ..."}."""
        try:
            return json_loads(_body_bytes(self))
        except UnicodeDecodeError as e:
            raise InvalidBodyError(f"Invalid JSON: the body is not UTF-8 ({e.reason})") from e
        except ValueError as e:
            raise InvalidBodyError(f"Invalid JSON: {e}") from e

    def form(self, **limits: int) -> _FormCall:
        """The form body (multipart/form-data parsed in C++, or urlencoded) as a FormData of
        str fields and UploadFile files: `await request.form()` or `async with
        request.form() as form:` (Starlette's spellings). Limits (max_files, max_fields,
        max_part_size) apply to the first call; a malformed body raises HTTPException 400."""
        return _FormCall(self, limits)

    def send_push_promise(self, path: str) -> PushPromise:
        """HTTP/2 server push (RFC 9113 §8.4): promise the client `GET path` (origin-form,
        e.g. "/static/app.css"), whose response the app's own routes make. Starlette's name:
        `await request.send_push_promise(path)` works, and so does a plain call (as with
        `send_early_hints`); the result is true when the promise was sent, false when push
        cannot go (HTTP/1.1, the client disabled it, the response was already sent). Browsers
        ignore push today: `send_early_hints` is what they act on."""
        return PushPromise(self.push_promise(path))

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


class PushPromise:
    """send_push_promise's result: true when the promise was sent, and awaitable (to the same
    bool) so Starlette's `await request.send_push_promise(path)` runs unchanged."""

    __slots__ = ("sent",)

    def __init__(self, sent: bool) -> None:
        self.sent = sent

    def __bool__(self) -> bool:
        return self.sent

    def __await__(self) -> Generator[Any, None, bool]:
        return _ready(self.sent).__await__()

    def __repr__(self) -> str:
        return f"<PushPromise sent={self.sent}>"


class _FormCall:
    """Awaitable, or usable as `async with` (files closed on exit)."""

    def __init__(self, req: Request, limits: dict[str, int]) -> None:
        self.req, self.limits = req, limits

    def _parse(self) -> Any:
        import dataclasses

        from fasterapi._forms import DEFAULT_LIMITS, parse_form

        d = self.req.__dict__
        if "_fa_form" not in d:
            base = getattr(self.req.app, "form_limits", None) or DEFAULT_LIMITS
            lim = self.limits
            d["_fa_form"] = parse_form(
                self.req,
                dataclasses.replace(
                    base,
                    max_fields=lim.get("max_fields", base.max_fields),
                    max_files=lim.get("max_files", base.max_files),
                    max_field_size=lim.get("max_part_size", base.max_field_size),
                ),
            )
        return d["_fa_form"]

    def __await__(self) -> Any:
        return self._coro().__await__()

    async def _coro(self) -> Any:
        if self.req.body_streamed:
            await self.req.body()  # collect a streamed body first
        return self._parse()

    async def __aenter__(self) -> Any:
        if self.req.body_streamed:
            await self.req.body()
        self.form = self._parse()
        return self.form

    async def __aexit__(self, *exc: object) -> None:
        await self.form.close()
