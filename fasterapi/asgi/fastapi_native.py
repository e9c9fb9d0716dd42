"""ASGI mode's native path for an unchanged FastAPI app: a route whose only inputs are scalar
path, query, header and cookie parameters, a JSON body, its Request, Response and
BackgroundTasks is answered without FastAPI's general request handler.

FastAPI's handler (`fastapi.routing.get_request_handler`) spends about half of a simple
route's time in `solve_dependencies`, which re-derives each parameter's kind from its type
annotation on every request. For a route with no dependencies and no special parameters
but the Request, Response and BackgroundTasks, that work reduces to: take each path
parameter from `scope["path_params"]`, each query parameter from the query string and each
header and cookie parameter from the Request FastAPI would make, and validate it with the
route's own pydantic field; parse an `application/json` body and validate it with FastAPI's
own `request_body_to_args`. This
module installs, in place of such a route's ASGI app, one that does exactly that and then
runs FastAPI's own pieces for the rest (its endpoint call, `serialize_response`, the route's
response class), so the answer is FastAPI's.

Anything off the plain path goes to the route's original app, untouched: a parameter or body
that is missing or fails validation (FastAPI then raises its RequestValidationError itself,
and the app's handler answers; a body already read is given to it again), another content
type, a request under FastAPI's telemetry. FastAPI's middleware stack, its router, its
exception handlers and the app's own middleware all still run.

The handler mirrored is FastAPI's at the versions in `VERSIONS` (the one the parity harness
pins, tests/compat/pin.py); on any other version, or with FASTERAPI_FASTAPI_NATIVE=0, no route
is changed. tests/compat (`run.py --asgi`) replays FastAPI's tutorial through this path."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

VERSIONS = ("0.165.0",)  # FastAPI versions whose get_request_handler this module mirrors

_INSTALLED = "_fasterapi_native"  # set on an app once its routes were looked at
_NATIVE = "_fasterapi_native_route"  # set on the ASGI app that answers a route natively


def install(app: Any) -> int:
    """Give every eligible route of the FastAPI app `app` (its own routes and those of
    included routers) the native handler; returns how many. Not a FastAPI app, another
    FastAPI version, or FASTERAPI_FASTAPI_NATIVE=0: nothing is changed."""
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
                if type(context.original_route) is routing.APIRoute and context.app is not None:
                    count += _install_one(context)
    return count


def native_routes(app: Any) -> int:
    """How many of the FastAPI app's routes (its own and its included routers') are served
    by the native path now."""
    from fastapi import routing

    count = 0
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, routing._IncludedRouter):
            count += sum(getattr(c.app, _NATIVE, False) for c in route.effective_route_contexts())
        else:
            count += getattr(getattr(route, "app", None), _NATIVE, False)
    return count


def _install_one(route: Any) -> int:
    """`route`: an APIRoute, or an included router's effective context of one (FastAPI
    builds the handler from the same attributes on either)."""
    native = _native_app(route, route.app)
    if native is None:
        return 0
    route.app = native
    return 1


def _eligible_param(field: Any) -> bool:
    from fastapi import params
    from fastapi._compat.shared import field_annotation_is_sequence
    from fastapi.dependencies.utils import _get_param_model

    info = field.field_info
    return (
        isinstance(info, params.Param)
        and _get_param_model(field) is None  # a parameter model reads many keys
        and not field_annotation_is_sequence(info.annotation)  # a list reads getlist()
    )


def _json_body(field: Any) -> bool:
    """A body parameter read from a JSON body (not a form, not a file)."""
    from fastapi import params

    info = field.field_info
    return isinstance(info, params.Body) and not isinstance(info, params.Form)


async def _read_body(receive: Any) -> tuple[bytes | None, list[dict[str, Any]]]:
    """The whole request body as Starlette's Request.body() reads it, and the messages
    received (None for the body when the client left first)."""
    messages: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks), messages


def _replaying(messages: list[dict[str, Any]], receive: Any) -> Any:
    """`receive` that gives `messages` again first: what FastAPI's own handler reads when a
    request whose body was already read goes to it."""
    pending = iter(messages)

    async def replay() -> dict[str, Any]:
        message = next(pending, None)
        return message if message is not None else await receive()

    return replay


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:  # the first one, as Starlette's Headers.get
        if name == b"content-type":
            return value
    return None


def _native_app(route: Any, original: Callable[..., Any]) -> Callable[..., Any] | None:
    """The native ASGI app for `route`, or None when the route has an input or an output
    this path does not take (then FastAPI's own handler keeps serving it)."""
    from fastapi import routing
    from fastapi.background import BackgroundTasks
    from fastapi.datastructures import DefaultPlaceholder
    from fastapi.dependencies.utils import (
        Undefined,
        _get_param_aliases,
        _validate_value_with_model_field,
        request_body_to_args,
    )
    from fastapi.telemetry._api import _get_request_telemetry
    from fastapi.utils import is_body_allowed_for_status_code
    from starlette.requests import Request
    from starlette.responses import Response

    dependant = getattr(route, "dependant", None)
    call = getattr(dependant, "call", None)
    if dependant is None or call is None:
        return None
    if (
        dependant.dependencies
        or dependant.websocket_param_name
        or dependant.security_scopes_param_name
        or getattr(route, "max_body_size", None) is not None  # a body limit wraps the app
        or getattr(route, "is_json_stream", False)
        or getattr(route, "stream_item_field", None) is not None
        or routing._is_gen_callable(call)
        or routing._is_async_gen_callable(call)
    ):
        return None
    params_fields = (
        dependant.path_params
        + dependant.query_params
        + dependant.header_params
        + dependant.cookie_params
    )
    if not all(_eligible_param(f) for f in params_fields):
        return None
    request_names = [
        name
        for name in (dependant.http_connection_param_name, dependant.request_param_name)
        if name
    ]
    if request_names and dependant.body_params:
        return None  # the endpoint's Request would have to hold the body already read
    body_field = getattr(route, "body_field", None)
    if dependant.body_params and not (
        body_field is not None and all(_json_body(f) for f in [body_field, *dependant.body_params])
    ):
        return None
    response_class = route.response_class
    actual_class = (
        response_class.value if isinstance(response_class, DefaultPlaceholder) else response_class
    )
    if routing.lenient_issubclass(actual_class, routing.EventSourceResponse):
        return None

    def plan(fields: list[Any]) -> list[tuple[Any, str, list[str], str]]:
        # (field, its name, the request keys in preference order, the error loc's kind)
        return [
            (f, f.name, [key for _, key in _get_param_aliases(f)], f.field_info.in_.value)
            for f in fields
        ]

    path_plan = plan(dependant.path_params)
    query_plan = plan(dependant.query_params)
    header_plan = plan(dependant.header_params)
    cookie_plan = plan(dependant.cookie_params)
    needs_request = bool(header_plan or cookie_plan or request_names)
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
    tasks_name = dependant.background_tasks_param_name
    sub_response_name = dependant.response_param_name
    validate = _validate_value_with_model_field
    undefined = Undefined  # the marker _validate_value_with_model_field tests for
    run_endpoint = routing.run_endpoint_function
    serialize = routing.serialize_response
    endpoint_context = routing._extract_endpoint_context
    paths: dict[tuple[str, str], str] = {}
    body_params = dependant.body_params
    embed_body_fields = getattr(route, "_embed_body_fields", False)

    def solve(
        params_plan: list[tuple[Any, str, list[str], str]], received: Any, values: dict[str, Any]
    ) -> bool:
        # fastapi.dependencies.utils.request_params_to_args for one kind of parameter
        kind_values: dict[str, Any] = {}
        for field, name, keys, kind in params_plan:
            key = next((k for k in keys if k in received), keys[0])
            value = received.get(key)
            value, errors = validate(
                field=field,
                value=undefined if value is None else value,
                values=kind_values,
                loc=(kind, key),
            )
            if errors:
                return False
            kind_values[name] = value
        values.update(kind_values)
        return True

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if _get_request_telemetry() is not None:  # FastAPI records this request: its path
            await original(scope, receive, send)
            return
        values: dict[str, Any] = {}
        if path_plan and not solve(path_plan, scope.get("path_params", {}), values):
            await original(scope, receive, send)  # FastAPI answers the validation error
            return
        if query_plan:
            # starlette.datastructures.QueryParams: latin-1, blank values kept, last one wins
            query = scope["query_string"]
            received = (
                dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {}
            )
            if not solve(query_plan, received, values):
                await original(scope, receive, send)
                return
        if needs_request:
            # FastAPI's Request (request_response makes one per request): its headers and
            # cookies are what FastAPI reads header and cookie parameters from
            request = Request(scope, receive, send)
            if header_plan and not solve(header_plan, request.headers, values):
                await original(scope, receive, send)
                return
            if cookie_plan and not solve(cookie_plan, request.cookies, values):
                await original(scope, receive, send)
                return
            for name in request_names:
                values[name] = request
        if body_params:
            # FastAPI's JSON body: Content-Type exactly application/json (others, an empty
            # body, bad JSON or a failed validation: FastAPI's handler, the body replayed)
            body, messages = await _read_body(receive)
            if not body or _content_type(scope["headers"]) != b"application/json":
                await original(scope, _replaying(messages, receive), send)
                return
            try:
                received_body = json.loads(body)  # as starlette's Request.json()
            except Exception:  # FastAPI answers 422 (bad JSON) or 400 (anything else)
                await original(scope, _replaying(messages, receive), send)
                return
            body_values, errors = await request_body_to_args(
                body_fields=body_params,
                received_body=received_body,
                embed_body_fields=embed_body_fields,
            )
            if errors:
                await original(scope, _replaying(messages, receive), send)
                return
            values.update(body_values)
        ctx = endpoint_context(call)  # FastAPI's shared dict: what its errors report
        if dependant.path:
            where = (scope["method"], scope.get("root_path", ""))
            path = paths.get(where)  # a route's methods x the app's root paths: a few
            if path is None:
                path = f"{where[0]} {where[1].rstrip('/')}{dependant.path}"
                if len(paths) < 64:  # bounded: a middleware may set root_path per request
                    paths[where] = path
            ctx["path"] = path
        tasks = sub_response = None
        args: dict[str, Any] = response_args
        if tasks_name or sub_response_name:  # as solve_dependencies and _build_response_args
            if tasks_name:
                tasks = values[tasks_name] = BackgroundTasks()
            if sub_response_name:
                # the endpoint's `response: Response`: its status and headers join the answer
                sub_response = values[sub_response_name] = Response()
                del sub_response.headers["content-length"]
                sub_response.status_code = None  # type: ignore[assignment]
        raw = await run_endpoint(dependant=dependant, values=values, is_coroutine=is_coroutine)
        if isinstance(raw, Response):
            if raw.background is None:
                raw.background = tasks
            response = raw
        else:
            if tasks is not None or sub_response is not None:
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
