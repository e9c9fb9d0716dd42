"""Turn a Route into the callable the engine calls as endpoint(req, res), once, at startup.

A plain `def h(req, res)` / `async def h(req, res)` route is handed to the engine as is;
anything else gets the smallest wrapper that does what its signature asks for."""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
import dataclasses
import functools
import inspect
import json
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from fasterapi import _model_json
from fasterapi import dependencies as _dependencies
from fasterapi._jsonio import JSONBody, json_dumps, json_dumps_plan
from fasterapi.dependencies import (
    SolveState,
    finish_function_scope,
    finish_function_scope_async,
    request_body,
    solve_async,
    solve_sync,
    unwind,
    unwind_async,
)
from fasterapi.encoders import jsonable_encoder
from fasterapi.exceptions import HTTPException, RequestValidationError, ResponseValidationError
from fasterapi.requests import Request
from fasterapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fasterapi.routing import Route

_ENGINE_BODY = Request.__dict__["body"]  # Request's own body attribute (not overridden)

Endpoint = Callable[[Any, Any], Any]
Middleware = Callable[[Any, Callable[[Any], Awaitable[Response]]], Awaitable[Response]]


def _is_model_type(tp: Any) -> bool:
    if isinstance(tp, type):
        return issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp)
    origin = typing.get_origin(tp)
    return origin in (list, tuple, set, dict, typing.Union) and any(
        _is_model_type(a) for a in typing.get_args(tp)
    )


def response_adapter(route: Route) -> TypeAdapter[Any] | None:
    """The response_model's adapter: explicit, or inferred from a model return annotation."""
    model = route.response_model
    if model is None:
        try:
            model = typing.get_type_hints(route.endpoint).get("return")
        except Exception:
            model = None
        if model is None or not _is_model_type(model):
            return None
    try:
        return TypeAdapter(model)
    except Exception as e:
        raise TypeError(
            f"route {route.path!r}: response_model {model!r} is not a pydantic type: {e}"
        ) from e


def has_custom_handler(route: Route) -> bool:
    """True for a route class that overrides FastAPI's `get_route_handler` hook."""
    return type(route).get_route_handler is not Route.get_route_handler


def route_handler(route: Route) -> Callable[[Any], Awaitable[Response]]:
    """The route as FastAPI's `async (request) -> Response`: what a custom route class's
    `get_route_handler` gets from `super()`. Errors propagate to the caller (a custom
    handler may catch them); the app's exception handlers answer what escapes."""
    inner, is_async = _wrap(route)

    async def handler(request: Any) -> Response:
        body = getattr(type(request), "body", None)
        if body is not _ENGINE_BODY and callable(body):  # a custom Request class's body()
            _dependencies.custom_bodies_in_use = True
            request.__dict__[_dependencies.CUSTOM_BODY] = await request.body()
        res = Response()
        result = inner(request, res)
        if is_async:
            result = await result
        return to_response(result, res)

    return handler


def _custom_endpoint(route: Route) -> Endpoint:
    handler = route.get_route_handler()

    async def endpoint(req: Any, res: Any) -> Any:
        return await handler(req)

    return endpoint


def _field_set(fields: Any) -> Any:
    """response_model_include/exclude as pydantic takes them (FastAPI also takes lists)."""
    return set(fields) if isinstance(fields, list | tuple) else fields


def _filters(dump_options: dict[str, Any]) -> bool:
    """True when the response_model_* options may drop fields (anything but by_alias; an
    empty include set drops every field)."""
    return any(
        v is not None if k in ("include", "exclude") else bool(v)
        for k, v in dump_options.items()
        if k != "by_alias"
    )


_STREAMS = {
    collections.abc.AsyncIterable, collections.abc.AsyncIterator, collections.abc.AsyncGenerator,
    collections.abc.Iterable, collections.abc.Iterator, collections.abc.Generator,
}  # fmt: skip


def json_lines(route: Route) -> Callable[[Any], StreamingResponse] | None:
    """For an endpoint that is a (async) generator with no response_class: a function
    streaming what it yields as JSON Lines (application/jsonl, one JSON value per line),
    each item validated by the `AsyncIterable[Item]`-style return annotation if any."""
    if route.dependant.kind not in ("gen", "agen") or route.response_class is not None:
        return None
    try:
        annotation = typing.get_type_hints(route.endpoint).get("return")
    except Exception:
        annotation = None
    args = typing.get_args(annotation) if typing.get_origin(annotation) in _STREAMS else ()
    adapter = TypeAdapter(args[0]) if args else None

    def encode(item: Any) -> bytes:
        if adapter is None:  # as FastAPI: json.dumps of jsonable_encoder (", " and ": ")
            return json.dumps(jsonable_encoder(item)).encode() + b"\n"
        item = adapter.dump_python(adapter.validate_python(item, from_attributes=True), mode="json")
        return json_dumps(item) + b"\n"

    def stream(iterator: Any) -> StreamingResponse:
        if inspect.isasyncgen(iterator):

            async def lines() -> Any:
                async for item in iterator:
                    yield encode(item)

            return StreamingResponse(lines(), media_type="application/jsonl")
        return StreamingResponse(
            (encode(item) for item in iterator), media_type="application/jsonl"
        )

    return stream


def is_plain(route: Route) -> bool:
    """True when the engine can call the user's function directly as endpoint(req, res)."""
    dep = route.dependant
    return (
        not has_custom_handler(route)
        and [f.source for f in dep.fields] == ["request", "response"]
        and dep.kind in ("func", "coro")
        and route.status_code is None
        and route.response_class is None
        and not route.threadpool
        and response_adapter(route) is None
    )


def build_endpoint(route: Route, middleware: list[Middleware]) -> tuple[Endpoint, bool]:
    """(endpoint, is_async) for the engine's add_route."""
    if not middleware and is_plain(route):
        return route.endpoint, route.dependant.kind == "coro"
    if has_custom_handler(route):
        inner, is_async = _custom_endpoint(route), True
    else:
        inner, is_async = _wrap(route)
    if not middleware:
        return inner, is_async
    return _with_middleware(inner, is_async, middleware), True


def _wrap(route: Route) -> tuple[Endpoint, bool]:
    dep = route.dependant
    call = route.endpoint
    status = route.status_code
    adapter = response_adapter(route)
    dump_options = {
        "exclude_none": route.response_model_exclude_none,
        "include": _field_set(route.response_model_include),
        "exclude": _field_set(route.response_model_exclude),
        "by_alias": route.response_model_by_alias,
        "exclude_unset": route.response_model_exclude_unset,
        "exclude_defaults": route.response_model_exclude_defaults,
    }
    response_class = route.response_class

    streamed = json_lines(route)
    # As FastAPI (routing.py, get_request_handler's `use_dump_json`): with a response model and
    # no response class set on the route or its routers, the validated value is serialized
    # straight to JSON bytes by pydantic (TypeAdapter.dump_json), no Python dict in between.
    dump_json = adapter is not None and response_class is None and streamed is None
    # Where pydantic would hand the value back unchanged, the same bytes in one C++ pass
    # (fasterapi/_model_json.py); None (per route or per value) means pydantic's path.
    plan = None
    if dump_json and adapter is not None and not _filters(dump_options):
        plan = _model_json.plan(adapter, by_alias=bool(route.response_model_by_alias))

    def finish(result: Any, res: Any) -> Any:
        if isinstance(result, Response):
            return result
        if streamed is not None:
            return streamed(result)
        if adapter is not None:
            if plan is not None:
                body = json_dumps_plan(result, plan)
                if body is not None:
                    return JSONBody(body)
            try:
                value = adapter.validate_python(result, from_attributes=True)
            except ValidationError as e:
                raise ResponseValidationError(e.errors(include_url=False)) from e
            if dump_json:
                return JSONBody(adapter.dump_json(value, **dump_options))
            result = adapter.dump_python(value, mode="json", **dump_options)
        if response_class is not None:
            # A class may say how it wraps a generator endpoint's result (EventSourceResponse).
            make = getattr(response_class, "from_endpoint", response_class)
            # the class's own default status (RedirectResponse: 307) unless one was set
            if "status_code" in vars(res):
                return make(result, status_code=res.status_code)
            return make(result)
        return result

    needs_finish = adapter is not None or response_class is not None or streamed is not None
    function_scoped = dep.function_scoped  # Depends(scope="function") generators inside
    if not dep.fields and not route.threadpool and (dep.kind == "coro" or not dep.needs_async):
        # Nothing to solve (no parameters, no dependencies): no SolveState, no try.
        if dep.kind == "coro":

            async def bare_async_endpoint(req: Any, res: Any) -> Any:
                if status is not None:
                    res.status_code = status
                result = await call()
                return finish(result, res) if needs_finish else result

            return bare_async_endpoint, True

        def bare_endpoint(req: Any, res: Any) -> Any:
            if status is not None:
                res.status_code = status
            result = call()
            return finish(result, res) if needs_finish else result

        return bare_endpoint, False
    if not dep.needs_async and not route.threadpool:

        def endpoint(req: Any, res: Any) -> Any:
            if status is not None:
                res.status_code = status
            st = SolveState(req, res)
            if function_scoped:
                st.function_cleanups = []
            try:
                kwargs = solve_sync(dep, st)
                if st.errors:
                    raise RequestValidationError(st.errors, body=request_body(st))
                result = call(**kwargs)
                if needs_finish:
                    result = finish(result, res)
                if st.function_cleanups:
                    finish_function_scope(st)
                return result
            except BaseException as exc:
                if not st.cleanups and not st.function_cleanups:
                    raise
                answer = unwind(st, exc)  # generator dependencies see the exception
                if answer is exc:
                    raise
                raise answer  # noqa: B904 (keeps the chain the generator made)

        return endpoint, False

    threadpool = route.threadpool and dep.kind == "func"
    is_coro = dep.kind == "coro"
    # An `async def` endpoint whose dependencies are all sync: solved without a coroutine
    # (solve_async would await nothing), unless dependency_overrides may swap in an async one.
    awaits_deps = any(f.dependant is not None and f.dependant.needs_async for f in dep.fields)

    async def async_endpoint(req: Any, res: Any) -> Any:
        if status is not None:
            res.status_code = status
        st = SolveState(req, res)
        if function_scoped:
            st.function_cleanups = []
        try:
            if awaits_deps or _dependencies.overrides_in_use:
                kwargs = await solve_async(dep, st)
            else:
                kwargs = solve_sync(dep, st)
            if st.errors:
                raise RequestValidationError(st.errors, body=request_body(st))
            if threadpool:
                ctx = contextvars.copy_context()
                fn = functools.partial(ctx.run, call, **kwargs)
                result = await asyncio.get_running_loop().run_in_executor(None, fn)
            else:
                result = call(**kwargs)
                if is_coro:
                    result = await result
            if needs_finish:
                result = finish(result, res)
            if st.function_cleanups:
                await finish_function_scope_async(st)
            return result
        except BaseException as exc:
            if not st.cleanups and not st.function_cleanups:
                raise
            answer = await unwind_async(st, exc)  # generator dependencies see the exception
            if answer is exc:
                raise
            raise answer  # noqa: B904 (keeps the chain the generator made)

    return async_endpoint, True


def to_response(result: Any, res: Any) -> Response:
    """A handler's return value as a Response object (for middleware to inspect)."""
    if isinstance(result, Response) and result is not res:
        return result
    status = res.status_code
    media = res.media_type
    if result is None or result is res:
        return Response(b"", status, media_type=media)
    if isinstance(result, str):
        return PlainTextResponse(result, status, media_type=media)
    if isinstance(result, JSONBody):  # a response model's dump_json
        return Response(bytes(result), status, media_type=media or "application/json")
    if isinstance(result, bytes | bytearray):
        return Response(bytes(result), status, media_type=media or "application/octet-stream")
    if isinstance(result, dict | list | tuple | BaseModel | int | float | bool) or (
        dataclasses.is_dataclass(result) and not isinstance(result, type)
    ):
        return JSONResponse(result, status, media_type=media)
    kind = type(result)
    raise TypeError(f"handler returned unsupported type {kind.__module__}.{kind.__qualname__}")


def error_response(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": exc.errors()}, 422)


def _with_middleware(inner: Endpoint, inner_async: bool, middleware: list[Middleware]) -> Endpoint:
    async def endpoint(req: Any, res: Any) -> Any:
        async def call_endpoint(request: Any) -> Response:
            try:
                result = inner(req, res)
                if inner_async:
                    result = await result
            except (HTTPException, RequestValidationError) as exc:
                return error_response(exc)
            return to_response(result, res)

        handler: Callable[[Any], Awaitable[Response]] = call_endpoint
        for mw in reversed(middleware):
            handler = functools.partial(_call_mw, mw, handler)
        return await handler(req)

    return endpoint


async def _call_mw(
    mw: Middleware, nxt: Callable[[Any], Awaitable[Response]], request: Any
) -> Response:
    response: Any = mw(request, nxt)
    if inspect.isawaitable(response):
        response = await response
    return response
