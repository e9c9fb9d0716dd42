"""Routes and APIRouter: the `@get/@post/...` decorators and route tables to include."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fasterapi.dependencies import Dependant, compile_dependant
from fasterapi.params import Depends

if TYPE_CHECKING:
    from fasterapi._ws_route import WebSocketRoute

F = TypeVar("F", bound=Callable[..., Any])

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(int|path|str))?\}")


def path_param_names(path: str) -> list[str]:
    """Names of `{name}`, `{name:int}`, `{name:path}` in `path`, in order."""
    return [m.group(1) for m in _PARAM.finditer(path)]


class Route:
    """One path + methods + endpoint, with everything registration computes once."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] = ("GET",),
        name: str | None = None,
        status_code: int | None = None,
        response_model: Any = None,
        response_class: type | None = None,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        dependencies: Sequence[Depends] | None = None,
        include_in_schema: bool = True,
        deprecated: bool | None = None,
        operation_id: str | None = None,
        responses: dict[int | str, Any] | None = None,
        threadpool: bool = False,
        response_model_exclude_none: bool = False,
        response_model_include: Any = None,
        response_model_exclude: Any = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_description: str = "Successful Response",
        openapi_extra: dict[str, Any] | None = None,
        callbacks: list[Any] | None = None,
        generate_unique_id_function: Callable[[Route], str] | None = None,
    ) -> None:
        # The path is checked where it is served (App.add_route): a router used only for
        # OpenAPI callbacks or webhooks holds paths such as "{$callback_url}/invoices".
        if not callable(endpoint):
            raise TypeError(f"route {path!r}: endpoint {endpoint!r} is not callable")
        bad = [m for m in methods if m.upper() not in METHODS]
        if bad:
            raise ValueError(f"route {path!r}: unknown method(s) {bad}; use {sorted(METHODS)}")
        self.path = path
        self.endpoint = endpoint
        self.methods = [m.upper() for m in methods]
        self.name: str = name or str(getattr(endpoint, "__name__", "endpoint"))
        self.status_code = status_code
        self.response_model = response_model
        self.response_class = response_class
        self.tags = list(tags or [])
        self.summary = summary
        self.description = description
        self.dependencies = list(dependencies or [])
        self.include_in_schema = include_in_schema
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.responses = dict(responses or {})
        self.threadpool = threadpool
        self.response_model_exclude_none = response_model_exclude_none
        self.response_model_include = response_model_include
        self.response_model_exclude = response_model_exclude
        self.response_model_by_alias = response_model_by_alias
        self.response_model_exclude_unset = response_model_exclude_unset
        self.response_model_exclude_defaults = response_model_exclude_defaults
        self.response_description = response_description
        self.openapi_extra = openapi_extra
        self.callbacks = list(callbacks or [])
        self.generate_unique_id_function = generate_unique_id_function
        self.param_names = path_param_names(path)
        # Signature inspection happens here, once; a bad signature fails at import time.
        self.dependant: Dependant = compile_dependant(
            endpoint, set(self.param_names), extra=self.dependencies
        )

    def __repr__(self) -> str:
        return f"Route({self.path!r}, methods={self.methods}, name={self.name!r})"

    def options(self) -> dict[str, Any]:
        """The keyword arguments that re-create this route (include_router copies routes)."""
        return {name: getattr(self, name) for name in _ROUTE_OPTIONS}

    def get_route_handler(self) -> Callable[[Any], Any]:
        """FastAPI's hook for custom route classes: the `async (request) -> Response` this
        route answers with. A subclass that overrides it wraps `super().get_route_handler()`;
        routes that don't are served without it (fasterapi/_endpoint.py)."""
        from fasterapi._endpoint import route_handler

        return route_handler(self)


APIRoute = Route  # FastAPI's name for the route class (custom classes subclass it)

_ROUTE_OPTIONS = (
    "methods", "name", "status_code", "response_model", "response_class", "tags", "summary",
    "description", "dependencies", "include_in_schema", "deprecated", "operation_id",
    "responses", "threadpool", "response_model_exclude_none", "response_model_include",
    "response_model_exclude", "response_model_by_alias", "response_model_exclude_unset",
    "response_model_exclude_defaults", "response_description", "openapi_extra", "callbacks",
    "generate_unique_id_function",
)  # fmt: skip


class APIRouter:
    """A group of routes; `app.include_router(router, prefix="/v1", tags=["v1"])` adds them."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        default_response_class: type | None = None,
        responses: dict[int | str, Any] | None = None,
        callbacks: list[Any] | None = None,
        route_class: type[Route] = Route,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Route], str] | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"router prefix must start with '/' and not end with '/': {prefix!r}")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.default_response_class = default_response_class
        self.responses = dict(responses or {})
        self.callbacks = list(callbacks or [])
        self.route_class = route_class
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.generate_unique_id_function = generate_unique_id_function
        self.routes: list[Route] = []
        self.websocket_routes: list[WebSocketRoute] = []

    def add_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        """Register `endpoint` at `path` (prefix added); returns the Route."""
        options["tags"] = [*self.tags, *(options.get("tags") or [])]
        options["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        self._apply_defaults(options)
        route = options.pop("route_class", None) or self.route_class
        route = route(self.prefix + path, endpoint, **options)
        for other in self.routes:
            if other.path == route.path and set(other.methods) & set(route.methods):
                raise ValueError(
                    f"{sorted(set(other.methods) & set(route.methods))} {route.path} is already "
                    f"handled by {other.name!r}; use another path or method"
                )
        self.routes.append(route)
        return route

    def _apply_defaults(self, options: dict[str, Any]) -> None:
        """This router's response class, responses, callbacks, deprecation, schema inclusion
        and operation-id function, under what the route itself says (as in FastAPI)."""
        if options.get("response_class") is None and self.default_response_class is not None:
            options["response_class"] = self.default_response_class
        if self.responses:
            options["responses"] = {**self.responses, **(options.get("responses") or {})}
        if self.callbacks:
            options["callbacks"] = [*self.callbacks, *(options.get("callbacks") or [])]
        if self.deprecated and options.get("deprecated") is None:
            options["deprecated"] = True
        if not self.include_in_schema:
            options["include_in_schema"] = False
        if self.generate_unique_id_function and not options.get("generate_unique_id_function"):
            options["generate_unique_id_function"] = self.generate_unique_id_function

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        """FastAPI's name for add_route."""
        return self.add_route(path, endpoint, **options)

    def api_route(
        self, path: str, methods: Sequence[str] = ("GET",), **options: Any
    ) -> Callable[[F], F]:
        """FastAPI's name for route."""
        return self.route(path, methods, **options)

    def route(
        self, path: str, methods: Sequence[str] = ("GET",), **options: Any
    ) -> Callable[[F], F]:
        """Decorator: `@router.route("/x", methods=["GET", "POST"])`."""

        if not isinstance(path, str):
            raise TypeError("route decorators need a path: write @app.get('/path'), not @app.get")

        def decorator(fn: F) -> F:
            self.add_route(path, fn, methods=methods, **options)
            return fn

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["DELETE"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["HEAD"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["OPTIONS"], **options)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Depends] | None = None,
    ) -> WebSocketRoute:
        """Register the `async def` WebSocket `endpoint` at `path` (prefix added)."""
        from fasterapi._ws_route import WebSocketRoute

        route = WebSocketRoute(
            self.prefix + path,
            endpoint,
            name=name,
            dependencies=[*self.dependencies, *(dependencies or [])],
        )
        if any(r.path == route.path for r in self.websocket_routes):
            raise ValueError(f"websocket {route.path} is already handled")
        self.websocket_routes.append(route)
        return route

    add_websocket_route = add_api_websocket_route

    def websocket(
        self, path: str, name: str | None = None, *, dependencies: Sequence[Depends] | None = None
    ) -> Callable[[F], F]:
        """Decorator: `@app.websocket("/ws/{room}")` over `async def h(websocket: WebSocket,
        room: str)`."""
        if not isinstance(path, str):
            raise TypeError("@app.websocket needs a path: write @app.websocket('/ws')")

        def decorator(fn: F) -> F:
            self.add_api_websocket_route(path, fn, name, dependencies=dependencies)
            return fn

        return decorator

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        default_response_class: type | None = None,
        responses: dict[int | str, Any] | None = None,
        callbacks: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Route], str] | None = None,
    ) -> None:
        """Copy `router`'s routes here under `prefix`, adding `tags` and `dependencies` (and
        FastAPI's per-include response class, responses, callbacks, deprecation, schema
        inclusion and operation-id function)."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(
                f"include_router prefix must start with '/' and not end with '/': {prefix!r}"
            )
        for r in router.routes:
            options = r.options()
            options["tags"] = [*(tags or []), *r.tags]
            options["dependencies"] = [*(dependencies or []), *r.dependencies]
            if options["response_class"] is None:
                options["response_class"] = default_response_class
            if responses:
                options["responses"] = {**responses, **r.responses}
            if callbacks:
                options["callbacks"] = [*callbacks, *r.callbacks]
            if deprecated and r.deprecated is None:
                options["deprecated"] = True
            if not include_in_schema:
                options["include_in_schema"] = False
            if generate_unique_id_function and not r.generate_unique_id_function:
                options["generate_unique_id_function"] = generate_unique_id_function
            options["route_class"] = type(r)
            self.add_route(prefix + r.path, r.endpoint, **options)
        for w in router.websocket_routes:
            self.add_api_websocket_route(
                prefix + w.path,
                w.endpoint,
                w.name,
                dependencies=[*(dependencies or []), *w.dependencies],
            )
