"""FastAPI's `solve_dependencies`, compiled once per route for ASGI mode's native path
(fasterapi/asgi/fastapi_native.py).

FastAPI walks a route's dependant tree on every request and re-derives, from each field's
annotation, how to read it. `Solver` does that walk once: each dependant of the tree becomes
a `Level` holding its sub-dependencies and the plan for its own inputs (path, query, header
and cookie parameters; JSON body parameters; the Request, Response, BackgroundTasks and
SecurityScopes it asks for). A request is then solved in two phases:

1. `validate` and `validate_body`: every input of every level, validated with the field
   FastAPI would use. No user code runs, so on any error nothing has happened yet and the
   request can go to the route's own FastAPI handler, which answers the error as FastAPI
   does.
2. `call`: the dependencies, depth first and each after its own sub-dependencies, with
   FastAPI's per-request cache (the same call with the same security scopes runs once), sync
   ones in the thread pool as FastAPI runs them.

FastAPI interleaves the two (a level's inputs, then its call); since validating has no
effect, only the order differs, and only when a dependency fails: FastAPI may then report
the failure of a dependency that runs before an invalid input is found, where this answers
through FastAPI's handler, which runs the dependency and reports the same failure.

`Ineligible` is raised at compile time for what this does not mirror: dependencies with
`yield`, a dependency's concurrency limit, WebSocket parameters, parameter models, form and
file bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

# Imported only where fastapi is installed (fastapi_native.install checks first).
from fastapi import params, routing
from fastapi._compat.shared import field_annotation_is_sequence
from fastapi.background import BackgroundTasks
from fastapi.dependencies.models import _get_cache_key, _get_oauth_scopes
from fastapi.dependencies.utils import (
    Undefined,
    _get_multidict_value,
    _get_param_aliases,
    _get_param_model,
    _validate_value_with_model_field,
    request_body_to_args,
    run_in_threadpool,
)
from fastapi.security import SecurityScopes
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response


class Ineligible(Exception):
    """The route has an input this solver does not mirror."""


# (field, name, request keys, error loc kind, read as a list)
Plan = list[tuple[Any, str, list[str], str, bool]]


def _plan(fields: list[Any]) -> Plan:
    for field in fields:
        info = field.field_info
        if not isinstance(info, params.Param) or _get_param_model(field) is not None:
            raise Ineligible("parameter model")  # reads many keys
    return [
        (
            f,
            f.name,
            [key for _, key in _get_param_aliases(f)],
            f.field_info.in_.value,
            field_annotation_is_sequence(f.field_info.annotation),
        )
        for f in fields
    ]


class Level:
    """One dependant: its sub-dependencies and how to read its own inputs."""

    def __init__(self, dependant: Any, levels: list[Level]) -> None:
        if dependant.call is None or dependant.websocket_param_name:
            raise Ineligible("not an HTTP dependant")
        self.index = len(levels)  # where validate() puts this level's values
        levels.append(self)
        self.subs: list[tuple[Level, Any, Any, bool]] = []
        for sub in dependant.dependencies:
            call = sub.call
            if routing._is_gen_callable(call) or routing._is_async_gen_callable(call):
                raise Ineligible("dependency with yield")
            if sub.concurrency is not None:
                raise Ineligible("dependency with a concurrency limit")
            key = _get_cache_key(dependant=sub, uses_scopes_cache={})
            self.subs.append((Level(sub, levels), sub, key, routing._is_coroutine_callable(call)))
        self.path = _plan(dependant.path_params)
        self.query = _plan(dependant.query_params)
        self.header = _plan(dependant.header_params)
        self.cookie = _plan(dependant.cookie_params)
        for field in dependant.body_params:
            info = field.field_info
            if not isinstance(info, params.Body) or isinstance(info, params.Form):
                raise Ineligible("form or file body")
        self.body = dependant.body_params
        self.request_names = [
            n for n in (dependant.http_connection_param_name, dependant.request_param_name) if n
        ]
        self.tasks_name = dependant.background_tasks_param_name
        self.response_name = dependant.response_param_name
        self.scopes_name = dependant.security_scopes_param_name
        self.scopes = _get_oauth_scopes(dependant=dependant) if self.scopes_name else []


class Inputs:
    """What one request brings to the solver, read once."""

    __slots__ = ("messages", "query", "request", "sub_response", "tasks")

    def __init__(self) -> None:
        self.query: Mapping[str, str] | None = None  # a dict, or QueryParams for getlist()
        self.request: Any = None  # the starlette Request FastAPI would make
        self.messages: list[dict[str, Any]] = []  # what was received of the body
        self.tasks: Any = None  # the one BackgroundTasks of the request
        self.sub_response: Any = None  # the one Response parameter of the request


class Solver:
    """A route's dependant tree, solved per request in two phases (see the module)."""

    def __init__(self, dependant: Any, embed_body_fields: bool) -> None:
        self.levels: list[Level] = []
        self.root = Level(dependant, self.levels)
        self.has_subs = len(self.levels) > 1
        self.has_body = any(level.body for level in self.levels)
        self.needs_request = any(
            level.header or level.cookie or level.request_names for level in self.levels
        )
        self.query_lists = any(p[4] for level in self.levels for p in level.query)
        self.embed_body_fields = embed_body_fields

    def inputs(self, level: Level, scope: dict[str, Any], req: Inputs) -> dict[str, Any] | None:
        """`level`'s path, query, header and cookie parameters, validated (None: an error)."""
        values: dict[str, Any] = {}
        if level.path and not _solve(level.path, scope.get("path_params", {}), values):
            return None
        if level.query:
            if req.query is None and self.query_lists:
                req.query = QueryParams(scope["query_string"])  # getlist() for list parameters
            elif req.query is None:
                # starlette's QueryParams: latin-1, blank values kept, the last one wins
                q = scope["query_string"]
                req.query = (
                    dict(parse_qsl(q.decode("latin-1"), keep_blank_values=True)) if q else {}
                )
            if not _solve(level.query, req.query, values):
                return None
        if level.header and not _solve(level.header, req.request.headers, values):
            return None
        if level.cookie and not _solve(level.cookie, req.request.cookies, values):
            return None
        return values

    def validate(
        self, scope: dict[str, Any], receive: Any, send: Any, req: Inputs
    ) -> list[dict[str, Any]] | None:
        """Phase 1 without the body: every level's parameters (None: one is missing or
        invalid). A route with a body then needs `validate_body`."""
        if self.needs_request:
            req.request = Request(scope, receive, send)
        found: list[dict[str, Any]] = []
        for level in self.levels:
            values = self.inputs(level, scope, req)
            if values is None:
                return None
            found.append(values)
        return found

    async def validate_body(
        self, scope: dict[str, Any], receive: Any, req: Inputs, found: list[dict[str, Any]]
    ) -> bool:
        """Phase 1's body: read, parsed and validated into `found` (False: not a JSON body
        this path reads, or invalid; `req.messages` then holds what was received)."""
        # Content-Type exactly application/json; another type, an empty body or bad
        # JSON goes to FastAPI's handler (which answers 415, 422 or 400 as it does)
        raw, req.messages = await _read_body(receive)
        if not raw or _content_type(scope["headers"]) != b"application/json":
            return False
        try:
            body = json.loads(raw)  # as starlette's Request.json()
        except Exception:
            return False
        if req.request is not None:  # FastAPI read them through this Request
            req.request._body = raw
            req.request._json = body
        for level, values in zip(self.levels, found, strict=True):
            if level.body:
                body_values, errors = await request_body_to_args(
                    body_fields=level.body,
                    received_body=body,
                    embed_body_fields=self.embed_body_fields,
                )
                if errors:
                    return False
                values.update(body_values)
        return True

    async def call(
        self, level: Level, found: list[dict[str, Any]], req: Inputs, cache: dict[Any, Any]
    ) -> dict[str, Any]:
        """Phase 2: `level`'s arguments: its dependencies' results (each run after its own
        dependencies, at most once per cache key) and its validated inputs."""
        values: dict[str, Any] = {}
        for sub_level, sub, key, is_coroutine in level.subs:
            sub_values = await self.call(sub_level, found, req, cache)
            if sub.use_cache and key in cache:
                solved = cache[key]
            elif is_coroutine:
                solved = await sub.call(**sub_values)
            else:
                solved = await run_in_threadpool(sub.call, **sub_values)
            if sub.name is not None:
                values[sub.name] = solved
            if key not in cache:
                cache[key] = solved
        values.update(found[level.index])
        return self.add_special(level, values, req)

    def add_special(self, level: Level, values: dict[str, Any], req: Inputs) -> dict[str, Any]:
        """`values` plus the Request, BackgroundTasks, Response and SecurityScopes that
        `level` asks for (the whole of phase 2 for a route without dependencies)."""
        for name in level.request_names:
            values[name] = req.request
        if level.tasks_name:
            if req.tasks is None:
                req.tasks = BackgroundTasks()
            values[level.tasks_name] = req.tasks
        if level.response_name:
            values[level.response_name] = self.sub_response(req)
        if level.scopes_name:
            values[level.scopes_name] = SecurityScopes(scopes=level.scopes)
        return values

    @staticmethod
    def sub_response(req: Inputs) -> Any:
        """The request's `response: Response` parameter, as solve_dependencies makes it."""
        if req.sub_response is None:
            sub = Response()
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            req.sub_response = sub
        return req.sub_response


def _solve(plan: Plan, received: Any, values: dict[str, Any]) -> bool:
    """fastapi.dependencies.utils.request_params_to_args for one kind of parameter."""
    kind_values: dict[str, Any] = {}
    for field, name, keys, kind, listed in plan:
        key = next((k for k in keys if k in received), keys[0])
        if listed:  # FastAPI's own reading: getlist() from a multi-dict, Undefined if empty
            value = _get_multidict_value(field, received, alias=key)
        else:
            value = received.get(key)
            if value is None:
                value = Undefined
        value, errors = _validate_value_with_model_field(
            field=field, value=value, values=kind_values, loc=(kind, key)
        )
        if errors:
            return False
        kind_values[name] = value
    values.update(kind_values)
    return True


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


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:  # the first one, as Starlette's Headers.get
        if name == b"content-type":
            return value
    return None
