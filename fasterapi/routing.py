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
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"route path must start with '/': {path!r}")
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
        self.param_names = path_param_names(path)
        # Signature inspection happens here, once; a bad signature fails at import time.
        self.dependant: Dependant = compile_dependant(
            endpoint, set(self.param_names), extra=self.dependencies
        )

    def __repr__(self) -> str:
        return f"Route({self.path!r}, methods={self.methods}, name={self.name!r})"


class APIRouter:
    """A group of routes; `app.include_router(router, prefix="/v1", tags=["v1"])` adds them."""

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"router prefix must start with '/' and not end with '/': {prefix!r}")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.routes: list[Route] = []
        self.websocket_routes: list[WebSocketRoute] = []

    def add_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        """Register `endpoint` at `path` (prefix added); returns the Route."""
        options["tags"] = [*self.tags, *(options.get("tags") or [])]
        options["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        route = Route(self.prefix + path, endpoint, **options)
        for other in self.routes:
            if other.path == route.path and set(other.methods) & set(route.methods):
                raise ValueError(
                    f"{sorted(set(other.methods) & set(route.methods))} {route.path} is already "
                    f"handled by {other.name!r}; use another path or method"
                )
        self.routes.append(route)
        return route

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
    ) -> None:
        """Copy `router`'s routes here under `prefix`, adding `tags` and `dependencies`."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(
                f"include_router prefix must start with '/' and not end with '/': {prefix!r}"
            )
        for r in router.routes:
            self.add_route(
                prefix + r.path,
                r.endpoint,
                methods=r.methods,
                name=r.name,
                status_code=r.status_code,
                response_model=r.response_model,
                response_class=r.response_class,
                tags=[*(tags or []), *r.tags],
                summary=r.summary,
                description=r.description,
                dependencies=[*(dependencies or []), *r.dependencies],
                include_in_schema=r.include_in_schema,
                deprecated=r.deprecated,
                operation_id=r.operation_id,
                responses=r.responses,
                threadpool=r.threadpool,
                response_model_exclude_none=r.response_model_exclude_none,
            )
        for w in router.websocket_routes:
            self.add_api_websocket_route(
                prefix + w.path,
                w.endpoint,
                w.name,
                dependencies=[*(dependencies or []), *w.dependencies],
            )
