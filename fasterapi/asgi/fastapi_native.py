"""ASGI mode's native path for an unchanged FastAPI app: its routes are answered without
FastAPI's general request handler, by a compiled copy of what that handler does.

FastAPI's handler (`fastapi.routing.get_request_handler`) spends much of a simple route's
time in `solve_dependencies`, which walks the route's dependant tree and re-derives each
parameter's kind from its type annotation on every request (docs/performance.md, "ASGI mode
with the native path", has what skipping it saves). fastapi_solver.py does that
walk once per route; this module installs, in place of each route it can take, an ASGI app
that solves the request with it and then runs FastAPI's own pieces for the rest (the
endpoint call, `serialize_response`, the route's response class, the sub-response and
background tasks as `_build_response_args` joins them), so the answer is FastAPI's.

Anything off the plain path goes to the route's original app, untouched: an input that is
missing or fails validation (FastAPI then raises its RequestValidationError itself, and the
app's handler answers; a body already read is given to it again), a body that is not
`application/json`, overridden dependencies (`app.dependency_overrides`), a request under
FastAPI's telemetry. Routes with what the solver does not mirror (dependencies with `yield`,
forms and files, parameter models, streaming and SSE responses, a body size limit) keep
FastAPI's handler. FastAPI's middleware stack, its router, its exception handlers and the
app's own middleware all still run.

The handler mirrored is FastAPI's at the versions in `VERSIONS` (the one the parity harness
pins, tests/compat/pin.py); on any other version, or with FASTERAPI_FASTAPI_NATIVE=0, no route
is changed. tests/compat (`run.py --asgi`) replays FastAPI's tutorial through this path."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

VERSIONS = ("0.165.0",)  # FastAPI versions whose get_request_handler this module mirrors

_INSTALLED = "_fasterapi_native"  # set on an app once its routes were looked at
_NATIVE = "_fasterapi_native_route"  # set on the ASGI app that answers a route natively


def install(app: Any) -> int:
    """Give every eligible route of the FastAPI app `app` (its own routes, those of included
    routers and of FastAPI apps mounted in it) the native handler; returns how many. Not a
    FastAPI app, another FastAPI version, or FASTERAPI_FASTAPI_NATIVE=0: nothing changes."""
    if os.environ.get("FASTERAPI_FASTAPI_NATIVE", "1") == "0":
        return 0
    try:
        import fastapi
    except ImportError:
        return 0
    if fastapi.__version__ not in VERSIONS or not isinstance(app, fastapi.FastAPI):
        return 0
    if getattr(app, _INSTALLED, False):
        return 0
    setattr(app, _INSTALLED, True)
    from fastapi import routing

    count = 0
    for route in app.router.routes:
        if type(route) is routing.APIRoute:
            count += _install_one(route)
        elif isinstance(route, routing._IncludedRouter):
            for context in route.effective_route_contexts():
                if type(context.original_route) is routing.APIRoute:
                    count += _install_one(context)
        elif isinstance(route, routing.Mount):  # app.mount("/sub", another FastAPI app)
            count += install(route.app)
    return count


def native_routes(app: Any) -> int:
    """How many of the FastAPI app's routes (its own, its included routers' and its mounted
    FastAPI apps') are served by the native path now."""
    from fastapi import routing

    count = 0
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, routing._IncludedRouter):
            count += sum(getattr(c.app, _NATIVE, False) for c in route.effective_route_contexts())
        elif isinstance(route, routing.Mount):
            count += native_routes(route.app)
        else:
            count += getattr(getattr(route, "app", None), _NATIVE, False)
    return count


def _install_one(route: Any) -> int:
    """`route`: an APIRoute, or an included router's effective context of one (FastAPI
    builds the handler from the same attributes on either)."""
    own = route.app
    if (getattr(own, "__module__", None), getattr(own, "__qualname__", None)) != (
        "fastapi.routing",
        "request_response.<locals>.app",
    ):
        return 0  # not the app FastAPI made for the route (wrapped or replaced): left alone
    native = _native_app(route, own)
    if native is None:
        return 0
    route.app = native
    return 1


async def fall_back(original: Callable[..., Any], scope: Any, receive: Any, send: Any) -> None:
    """A request the native path does not answer goes to the route's own FastAPI app (one
    function, so a test can see which requests took it)."""
    await original(scope, receive, send)


def _replaying(messages: list[dict[str, Any]], receive: Any) -> Any:
    """`receive` that gives `messages` again first: what FastAPI's own handler reads when a
    request whose body was already read goes to it."""
    pending = iter(messages)

    async def replay() -> dict[str, Any]:
        message = next(pending, None)
        return message if message is not None else await receive()

    return replay


def _native_app(route: Any, original: Callable[..., Any]) -> Callable[..., Any] | None:
    """The native ASGI app for `route`, or None when the route has an input or an output
    this path does not take (then FastAPI's own handler keeps serving it)."""
    from fastapi import routing
    from fastapi.datastructures import DefaultPlaceholder
    from fastapi.telemetry._api import _get_request_telemetry
    from fastapi.utils import is_body_allowed_for_status_code
    from starlette.responses import Response

    from fasterapi.asgi.fastapi_solver import Ineligible, Inputs, Solver

    dependant = getattr(route, "dependant", None)
    call = getattr(dependant, "call", None)
    if dependant is None or call is None:
        return None
    if (
        getattr(route, "max_body_size", None) is not None  # a body limit wraps the app
        or getattr(route, "is_json_stream", False)
        or getattr(route, "stream_item_field", None) is not None
        or routing._is_gen_callable(call)
        or routing._is_async_gen_callable(call)
    ):
        return None
    response_class = route.response_class
    actual_class = (
        response_class.value if isinstance(response_class, DefaultPlaceholder) else response_class
    )
    if routing.lenient_issubclass(actual_class, routing.EventSourceResponse):
        return None
    try:
        solver = Solver(dependant, getattr(route, "_embed_body_fields", False))
    except Ineligible:
        return None
    root, has_subs, has_body = solver.root, solver.has_subs, solver.has_body
    overrides = getattr(route, "dependency_overrides_provider", None)
    is_coroutine = routing._is_coroutine_callable(call)
    status_code = route.status_code
    response_field = route.response_field
    use_dump_json = response_field is not None and isinstance(response_class, DefaultPlaceholder)
    serialize_options = {
        "field": response_field,
        "include": route.response_model_include,
        "exclude": route.response_model_exclude,
        "by_alias": route.response_model_by_alias,
        "exclude_unset": route.response_model_exclude_unset,
        "exclude_defaults": route.response_model_exclude_defaults,
        "exclude_none": route.response_model_exclude_none,
        "is_coroutine": is_coroutine,
        "dump_json": use_dump_json,
    }
    response_args: dict[str, Any] = (
        {"background": None}
        if not status_code
        else {"background": None, "status_code": status_code}
    )
    run_endpoint = routing.run_endpoint_function
    serialize = routing.serialize_response
    endpoint_context = routing._extract_endpoint_context
    paths: dict[tuple[str, str], str] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if _get_request_telemetry() is not None or (
            has_subs and overrides is not None and overrides.dependency_overrides
        ):  # FastAPI records this request, or resolves overridden dependencies: its path
            await fall_back(original, scope, receive, send)
            return
        inputs = Inputs()
        found = solver.validate(scope, receive, send, inputs)
        if found is None or (
            has_body and not await solver.validate_body(scope, receive, inputs, found)
        ):  # FastAPI answers the error; it reads the body again if it was read
            await fall_back(original, scope, _replaying(inputs.messages, receive), send)
            return
        if has_subs:
            values = await solver.call(root, found, inputs, {})
        else:
            values = solver.add_special(root, found[0], inputs)
        ctx = endpoint_context(call)  # FastAPI's shared dict: what its errors report
        if dependant.path:
            where = (scope["method"], scope.get("root_path", ""))
            path = paths.get(where)  # a route's methods x the app's root paths: a few
            if path is None:
                path = f"{where[0]} {where[1].rstrip('/')}{dependant.path}"
                if len(paths) < 64:  # bounded: a middleware may set root_path per request
                    paths[where] = path
            ctx["path"] = path
        raw = await run_endpoint(dependant=dependant, values=values, is_coroutine=is_coroutine)
        tasks, sub_response = inputs.tasks, inputs.sub_response
        if isinstance(raw, Response):
            if raw.background is None:
                raw.background = tasks
            response = raw
        else:
            args = response_args
            if tasks is not None or sub_response is not None:  # as _build_response_args
                args = {"background": tasks}
                sub_status = sub_response.status_code if sub_response is not None else None
                current = status_code if status_code else sub_status
                if current is not None:
                    args["status_code"] = current
                if sub_status:
                    args["status_code"] = sub_status
            content = await serialize(response_content=raw, endpoint_ctx=ctx, **serialize_options)
            if use_dump_json:
                response = Response(content=content, media_type="application/json", **args)
            else:
                response = actual_class(content, **args)
            if not is_body_allowed_for_status_code(response.status_code):
                response.body = b""
            if sub_response is not None:
                response.headers.raw.extend(sub_response.headers.raw)
        await response(scope, receive, send)

    setattr(app, _NATIVE, True)
    return app
