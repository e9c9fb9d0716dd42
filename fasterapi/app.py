"""App: routes, middleware, lifespan and settings; `app.run()` serves it."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import types
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from fasterapi import _dispatch
from fasterapi import dependencies as _dependencies
from fasterapi._body_stream import streams_body
from fasterapi._compression import Compression
from fasterapi._endpoint import Middleware, build_endpoint
from fasterapi.exceptions import HTTPException
from fasterapi.params import Depends
from fasterapi.requests import Request
from fasterapi.responses import Response
from fasterapi.routing import APIRouter, Route
from fasterapi.uploads import FormLimits

F = TypeVar("F", bound=Callable[..., Any])
access_log = logging.getLogger("fasterapi.access")


class App(APIRouter):
    """A FasterAPI application. `App(port=8000)`, decorate handlers, then `app.run()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        *,
        title: str = "FasterAPI",
        version: str = "0.1.0",
        description: str | None = None,
        lifespan: Callable[[App], contextlib.AbstractAsyncContextManager[Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Sequence[Depends] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        access_log: bool = False,
        timeout_keep_alive: float = 5.0,
        timeout_send: float = 30.0,
        timeout_graceful_shutdown: float = 30.0,
        loop: str | None = None,  # event loop backend: "epoll", "uring", "auto" (None: env)
        max_body_bytes: int = 16 * 1024 * 1024,
        form_limits: FormLimits | None = None,  # Form/File bodies (fasterapi.uploads)
        debug: bool = False,
        redirect_slashes: bool = True,
        compression: bool | Sequence[str] = False,
        compress_min_size: int = 500,
        compress_levels: dict[str, int] | None = None,
        # TLS with uvicorn's keywords (docs/http-server.md "TLS")
        ssl_keyfile: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile_password: str | None = None,
        ssl_ca_certs: str | None = None,
        ssl_cert_reqs: int = 0,
        # SNI: server name -> certfile, or (certfile, keyfile[, password]) (ours: not uvicorn's)
        ssl_sni_certs: Mapping[str, str | Sequence[str]] | None = None,
        # FastAPI's keywords: OpenAPI metadata and docs pages (fasterapi/openapi/) ...
        summary: str | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        openapi_external_docs: dict[str, Any] | None = None,
        separate_input_output_schemas: bool = True,
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        docs_assets: str = "cdn",
        root_path: str = "",
        root_path_in_servers: bool = True,
        webhooks: APIRouter | None = None,
        # ... and defaults for every route (fasterapi/routing.py)
        default_response_class: type | None = None,
        responses: dict[int | str, Any] | None = None,
        callbacks: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        exception_handlers: dict[Any, Callable[..., Any]] | None = None,
        middleware: Sequence[Any] | None = None,
        strict_content_type: bool = True,
    ) -> None:
        super().__init__(
            dependencies=dependencies,
            default_response_class=default_response_class,
            responses=responses,
            callbacks=callbacks,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
        )
        if docs_assets not in ("cdn", "local"):
            raise ValueError(f"docs_assets is 'cdn' or 'local', not {docs_assets!r}")
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.host, self.port, self.workers = host, port, workers
        self.title, self.version, self.description = title, version, description
        self.lifespan = lifespan
        self.startup_handlers = list(on_startup or [])
        self.shutdown_handlers = list(on_shutdown or [])
        self.openapi_url, self.docs_url = openapi_url, docs_url
        self.access_log = access_log
        self.timeout_keep_alive = timeout_keep_alive
        self.timeout_send = timeout_send
        self.timeout_graceful_shutdown = timeout_graceful_shutdown
        if loop not in (None, "auto", "epoll", "uring"):
            raise ValueError(f"loop is 'auto', 'epoll' or 'uring', not {loop!r}")
        self.loop = loop
        self.max_body_bytes = max_body_bytes
        self.form_limits = form_limits
        self.ssl: dict[str, Any] = {
            "ssl_keyfile": ssl_keyfile,
            "ssl_certfile": ssl_certfile,
            "ssl_keyfile_password": ssl_keyfile_password,
            "ssl_ca_certs": ssl_ca_certs,
            "ssl_cert_reqs": ssl_cert_reqs,
            "ssl_sni_certs": ssl_sni_certs,
        }
        self.debug = debug
        self.redirect_slashes = redirect_slashes  # /items → 307 /items/ when only that exists
        # Responses compressed in C++ by Accept-Encoding (docs/http-server.md, "Compression").
        self.compression = Compression.from_args(compression, compress_min_size, compress_levels)
        self.http_middleware: list[Middleware] = []
        self.exception_handlers: dict[type[BaseException] | int, Callable[..., Any]] = {}
        self.state = types.SimpleNamespace()
        self.preflight: Callable[[Any], Response] | None = None  # set by CORSMiddleware
        self._openapi: dict[str, Any] | None = None
        self.summary, self.terms_of_service = summary, terms_of_service
        self.contact, self.license_info = contact, license_info
        self.openapi_tags, self.servers = openapi_tags, list(servers or [])
        self.openapi_external_docs = openapi_external_docs
        self.separate_input_output_schemas = separate_input_output_schemas
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.docs_assets = docs_assets
        self.root_path, self.root_path_in_servers = root_path.rstrip("/"), root_path_in_servers
        self.webhooks = webhooks if webhooks is not None else APIRouter()
        self.strict_content_type = strict_content_type
        self.mounted_apps: list[tuple[str, App]] = []  # app.mount(prefix, other_app)
        self.frontends: list[Any] = []  # app.frontend(...): fasterapi._frontend.Frontend
        self.router = self  # `app.router.route_class = ...` as on FastAPI
        self.dependency_overrides = {}
        self.openapi_schema: dict[str, Any] | None = None  # FastAPI's cache, user-settable
        for key, handler in (exception_handlers or {}).items():
            self.exception_handler(key)(handler)
        for entry in middleware or ():  # starlette.middleware.Middleware(cls, **options)
            self.add_middleware(entry.cls, *getattr(entry, "args", ()), **entry.kwargs)

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """`app.dependency_overrides[dep] = fake`: requests call `fake` wherever `dep` is a
        dependency (for tests; checked per request, so changes apply at once)."""
        return self._dependency_overrides

    @dependency_overrides.setter
    def dependency_overrides(self, value: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        self._dependency_overrides = _Overrides(value)

    # -- registration -------------------------------------------------------------------
    def on_event(self, event: str) -> Callable[[F], F]:
        """`@app.on_event("startup")` / `("shutdown")`: sync or async, no arguments."""
        if event not in ("startup", "shutdown"):
            raise ValueError(f"on_event takes 'startup' or 'shutdown', not {event!r}")

        def decorator(fn: F) -> F:
            (self.startup_handlers if event == "startup" else self.shutdown_handlers).append(fn)
            return fn

        return decorator

    def middleware(self, kind: str = "http") -> Callable[[F], F]:
        """`@app.middleware("http")` over `async def mw(request, call_next) -> Response`.
        The first registered is the innermost, as in FastAPI."""
        if kind != "http":
            raise ValueError(f'only @app.middleware("http") is supported, not {kind!r}')

        def decorator(fn: F) -> F:
            self.http_middleware.insert(0, fn)
            return fn

        return decorator

    def add_middleware(self, middleware_class: type, *args: Any, **options: Any) -> None:
        """`app.add_middleware(CORSMiddleware, allow_origins=[...])`; last added is outermost."""
        try:
            params = inspect.signature(middleware_class).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        if "app" in params:
            raise TypeError(
                f"{middleware_class.__name__} looks like ASGI middleware (it takes `app`); "
                "FasterAPI middleware is `async def mw(request, call_next)` or a class with that "
                "__call__, e.g. fasterapi.middleware.CORSMiddleware / GZipMiddleware"
            )
        instance = middleware_class(*args, **options)
        self.http_middleware.insert(0, instance)
        hook = getattr(instance, "on_add", None)
        if hook is not None:
            hook(self)

    def exception_handler(self, exc_class: type[BaseException] | int) -> Callable[[F], F]:
        """`@app.exception_handler(MyError)` or `(404)`: `(request, exc) -> Response` (sync or
        async). A status code catches HTTPExceptions with that status, before any class."""

        def decorator(fn: F) -> F:
            self.exception_handlers[_handler_key(exc_class)] = fn
            return fn

        return decorator

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serve `app` (a StaticFiles) under `path`:
        `app.mount("/static", StaticFiles(directory="static"))`; or an MCP server's
        Streamable HTTP endpoint at `path`: `app.mount("/mcp", mcp_server)`; or any ASGI
        app (FastAPI, Starlette) through the ASGI adapter, scope["root_path"] = `path`."""
        from fasterapi.mcp.proxy import MCPProxy
        from fasterapi.mcp.server import MCPServer

        if isinstance(app, (MCPServer, MCPProxy)):
            app.mount_into(self, path)
            return
        if isinstance(app, App):  # a sub-application: its routes under `path`
            prefix = path.rstrip("/")
            if not prefix.startswith("/"):
                raise ValueError(f"mount path must start with '/': {path!r}")
            # Its OpenAPI document and docs pages name the prefix, as FastAPI's do from
            # scope["root_path"] ("servers": [{"url": "/subapi"}]).
            if not app.root_path:
                app.root_path = self.root_path + prefix
            self.mounted_apps.append((prefix, app))
            return
        from fasterapi.asgi import METHODS, ASGIApp, is_asgi_app

        if is_asgi_app(app):  # FastAPI, Starlette, ...: every method under `path`
            prefix = path.rstrip("/")
            self.add_route(
                prefix + "/{path:path}",
                ASGIApp(app, prefix),
                methods=METHODS,
                name=name,
                include_in_schema=False,
            )
            return
        if not callable(app):
            raise TypeError("mount() takes a StaticFiles instance (or any endpoint(req, res))")
        path = path.rstrip("/")
        route = self.add_route(
            path + "/{path:path}", app, methods=["GET"], name=name, include_in_schema=False
        )
        if [f.source for f in route.dependant.fields] != ["request", "response"]:
            self.routes.remove(route)
            raise TypeError(
                "mount() serves objects called as endpoint(req, res), such as StaticFiles; "
                f"{app!r} is not one (ASGI apps are not supported)"
            )

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Literal["auto", "index.html", "404.html"] | None = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serve a static frontend build (`dist/`) under `path` at low priority: routes are
        matched first. A missing file answers `404.html` if the build has one, else
        `index.html` to browser navigations (single-page apps), else 404 (FastAPI's
        `app.frontend`)."""
        from fasterapi._frontend import Frontend, resolve_check_dir

        checked = resolve_check_dir(directory, check_dir)
        self.frontends.append(Frontend(path, directory, fallback, checked))

    def add_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        """Register `endpoint` at `path`; the path must start with '/' (it is served)."""
        if not path.startswith("/"):
            raise ValueError(f"route path must start with '/': {path!r}")
        return super().add_route(path, endpoint, **options)

    # -- serving ------------------------------------------------------------------------
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document for this app (built once, then cached; an app may set
        `app.openapi_schema` or replace `app.openapi` itself, as on FastAPI)."""
        if self.openapi_schema is not None:
            return self.openapi_schema
        if self._openapi is None:
            from fasterapi.openapi.schema import build_openapi

            self._openapi = build_openapi(self)
        return self._openapi

    def install(
        self, server: Any, *, access_log: bool = False, config: Any = None
    ) -> set[asyncio.Task[Any]]:
        """Register hooks and every route on an engine `server` (once per server). Returns
        the set that will hold this server's suspended handlers (for the graceful drain)."""
        from fasterapi.asgi.adapter import ASGIApp
        from fasterapi.asgi.websocket import add_asgi_route

        handle_error = _dispatch.make_error_handler(self.exception_handlers, self.debug)
        tasks: set[asyncio.Task[Any]] = set()
        spawn = _dispatch.make_spawn(handle_error, asyncio.get_running_loop(), tasks)
        # A subclass per app gives every request `req.app` at no per-request cost.
        request_class = type("Request", (Request,), {"app": self, "__module__": Request.__module__})
        server.set_hooks(
            request_class, Response, _dispatch.render, spawn, handle_error, _dispatch.PENDING
        )
        self.compression.apply(server)
        routes = list(self.routes)
        if self.openapi_url or self.docs_url:
            from fasterapi.openapi.docs import openapi_routes

            taken = {r.path for r in routes}
            routes += [r for r in openapi_routes(self) if r.path not in taken]
        preflight_paths = {r.path for r in routes if "OPTIONS" in r.methods}
        ws_paths = {r.path for r in self.websocket_routes}
        shared_gets: dict[str, tuple[Any, bool]] = {}  # GET routes a websocket route shares
        for route in routes:
            endpoint, is_async = build_endpoint(route, self.http_middleware)
            if self.preflight is not None and "OPTIONS" not in route.methods:
                if route.path not in preflight_paths:
                    preflight_paths.add(route.path)
                    server.add_route("OPTIONS", route.path, _preflight(self.preflight), False)
            if access_log or self.access_log:
                endpoint = _logged(endpoint)
            for method in route.methods:
                if method == "GET" and isinstance(route.endpoint, ASGIApp):
                    # An ASGI app's route also takes its WebSocket upgrades (websocket scope)
                    add_asgi_route(
                        server, route.path, endpoint, is_async, route.endpoint, tasks, config
                    )
                elif method == "GET" and route.path in ws_paths:
                    shared_gets[route.path] = (endpoint, is_async)  # one route for both
                else:
                    server.add_route(
                        method, route.path, endpoint, is_async, stream_body=streams_body(route)
                    )
        for prefix, sub in self.mounted_apps:
            # The sub-application's routes and its own middleware; the exception handlers
            # and request.app are this app's (one set of engine hooks per server).
            sub_routes = list(sub.routes)
            if sub.openapi_url or sub.docs_url:
                from fasterapi.openapi.docs import openapi_routes

                sub_routes += openapi_routes(sub)
            for route in sub_routes:
                endpoint, is_async = build_endpoint(route, sub.http_middleware)
                if access_log or self.access_log:
                    endpoint = _logged(endpoint)
                for method in route.methods:
                    server.add_route(
                        method,
                        prefix + route.path,
                        endpoint,
                        is_async,
                        stream_body=streams_body(route),
                    )
        if self.websocket_routes:
            from fasterapi._ws_endpoint import install_websockets

            install_websockets(self, server, tasks, config, shared_gets)
        if self.redirect_slashes:
            _add_slash_redirects(server, routes)
        if (
            self.http_middleware
            or self.exception_handlers
            or access_log
            or self.access_log
            or self.frontends
        ):
            # 404/405 then pass the middleware (CORS headers on a 404), the exception handlers
            # and the access log, as in FastAPI. Without any, the engine answers them alone.
            unrouted: Callable[[Any, Any], Any] = _unrouted
            if self.frontends:  # app.frontend(): what no route matched may be a build file
                from fasterapi._frontend import frontend_endpoint

                unrouted = frontend_endpoint(self.frontends, _unrouted)
            fallback = Route("/", unrouted, methods=["GET"], include_in_schema=False)
            endpoint, is_async = build_endpoint(fallback, self.http_middleware)
            if access_log or self.access_log:
                endpoint = _logged(endpoint)
            server.set_fallback(endpoint, is_async)
        if access_log or self.access_log:
            server.set_error_log(_log_engine_error)
        return tasks

    @contextlib.asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[None]:
        """Startup handlers and `lifespan` on enter; shutdown on exit."""
        for fn in self.startup_handlers:
            result = fn()
            if inspect.isawaitable(result):
                await result
        async with contextlib.AsyncExitStack() as stack:
            if self.lifespan is not None:
                state = await stack.enter_async_context(self.lifespan(self))
                if isinstance(state, dict):
                    vars(self.state).update(state)
            try:
                yield
            finally:
                for fn in self.shutdown_handlers:
                    result = fn()
                    if inspect.isawaitable(result):
                        await result

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
        **config: Any,
    ) -> None:
        """Serve until SIGTERM/SIGINT. `workers > 1` forks that many processes on one port."""
        from fasterapi.server import Config
        from fasterapi.supervisor import run_workers

        cfg = Config(
            host=host or self.host,
            port=self.port if port is None else port,
            workers=workers or self.workers,
            access_log=config.pop("access_log", self.access_log),
            timeout_keep_alive=config.pop("timeout_keep_alive", self.timeout_keep_alive),
            timeout_send=config.pop("timeout_send", self.timeout_send),
            loop=config.pop("loop", self.loop),
            timeout_graceful_shutdown=config.pop(
                "timeout_graceful_shutdown", self.timeout_graceful_shutdown
            ),
            max_body_bytes=config.pop("max_body_bytes", self.max_body_bytes),
            **{k: config.pop(k, v) for k, v in self.ssl.items()},
            **config,
        )
        if not logging.getLogger().handlers:  # a script's app.run(): log like the CLI does
            from fasterapi.cli import configure_logging

            configure_logging(cfg.log_level or "info")
        run_workers(lambda: self, cfg)


class _Overrides(dict[Callable[..., Any], Callable[..., Any]]):
    """app.dependency_overrides: the first override set turns on the solver's check."""

    def __init__(self, value: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        super().__init__(value)
        if value:
            _dependencies.overrides_in_use = True

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        _dependencies.overrides_in_use = True
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        _dependencies.overrides_in_use = True
        super().update(*args, **kwargs)


def _unrouted(req: Any, res: Any) -> None:
    """The endpoint of requests no route matches (the engine's fallback)."""
    allowed = req.allowed_methods
    if allowed:
        raise HTTPException(405, "Method Not Allowed", headers={"Allow": allowed})
    raise HTTPException(404, "Not Found")


def _handler_key(exc_class: type[BaseException] | int) -> type[BaseException] | int:
    """What exception_handlers is keyed by: a status code (for HTTPExceptions with it) or an
    exception class. Starlette's HTTPException, which FastAPI apps register to catch 404s and
    405s, stands for ours: it is the base of every HTTP error there."""
    if isinstance(exc_class, int):
        return exc_class
    if (exc_class.__module__, exc_class.__qualname__) == ("starlette.exceptions", "HTTPException"):
        return HTTPException
    return exc_class


def _add_slash_redirects(server: Any, routes: list[Route]) -> None:
    """For each route path, answer the same path with/without a trailing slash by a 307 to
    it, as FastAPI does, unless that other path has a route of its own. Done at startup:
    requests to existing routes pay nothing."""
    taken = {(m, r.path) for r in routes for m in r.methods}
    for route in routes:
        path = route.path
        if path == "/" or path.endswith(":path}"):
            continue
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        for method in route.methods:
            if (method, other) in taken:
                continue
            taken.add((method, other))
            try:
                server.add_route(method, other, _redirect_slash, False)
            except ValueError:  # the engine sees it as overlapping another pattern: skip
                pass


def _redirect_slash(req: Any, res: Any) -> Response:
    raw = req.raw_path.decode("latin-1")
    target = raw[:-1] if raw.endswith("/") else raw + "/"
    if req.query_string:
        target += "?" + req.query_string.decode("latin-1")
    response = Response(status_code=307)
    response.raw_headers = [(b"location", target.encode("latin-1"))]
    return response


def _preflight(answer: Callable[[Any], Response]) -> Callable[[Any, Any], Response]:
    def preflight(req: Any, res: Any) -> Response:
        if req.headers.get("access-control-request-method") is None:
            raise HTTPException(405, "Method Not Allowed")
        return answer(req)

    return preflight


def _log_engine_error(host: str, port: int, status: int, reason: str, line: bytes) -> None:
    """Access-log line for a request the engine refused before any handler (bad syntax,
    too large, timed out): no method or path when the head did not parse."""
    request = line.decode("latin-1") if line else "-"
    access_log.info('%s:%d - "%s" %d (%s)', host, port, request, status, reason)


def _logged(endpoint: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def log_when_sent(req: Any, res: Any) -> None:
        target = req.raw_path.decode("latin-1")
        if req.query_string:
            target += "?" + req.query_string.decode("latin-1")
        access_log.info(
            '%s:%d - "%s %s HTTP/%s" %d',
            *req.client,
            req.method,
            target,
            req.http_version,
            res.status_code,
        )

    def wrapper(req: Any, res: Any) -> Any:
        req.add_done_callback(lambda: log_when_sent(req, res))
        return endpoint(req, res)

    return wrapper
