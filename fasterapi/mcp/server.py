"""MCPServer: tools, resources and prompts declared with decorators (the official SDK's style),
served by the C++ MCP core over stdio or Streamable HTTP."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, TypeVar

from fasterapi import _native
from fasterapi.mcp import _serve
from fasterapi.mcp._serve import DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_TIMEOUT, session_limits
from fasterapi.mcp.context import Context
from fasterapi.mcp.errors import INTERNAL_ERROR, McpError, ResourceNotFound
from fasterapi.mcp.input_required import InputRequired, InputRequiredResult, StateSeal
from fasterapi.mcp.prompts import Prompt
from fasterapi.mcp.resources import Resource
from fasterapi.mcp.tools import Tool, input_required

F = TypeVar("F", bound=Callable[..., Any])

#: What a runner returns when it answers later through its reply (an async handler).
PENDING: Any = object()

Transport = Literal["stdio", "http", "streamable-http"]


class MCPServer:
    """An MCP server (protocol revision 2025-11-25).

    ```python
    server = MCPServer(name="My Tools", version="1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    server.run(transport="stdio")
    ```
    """

    def __init__(
        self,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        instructions: str | None = None,
        version: str = "",
        *,
        page_size: int | None = None,
        request_state_secret: bytes | None = None,
        auth: Any = None,
        authorization_servers: list[str] | None = None,
        task_ttl_ms: int | None = 3_600_000,
        task_poll_interval_ms: int = 1_000,
        **settings: Any,
    ) -> None:
        self.name = name or "fasterapi"
        self.title = title
        self.description = description
        self.instructions = instructions
        self.version = version
        self.settings = settings  # accepted for SDK compatibility (log_level, debug, ...)
        self._native = _native.McpServer(self.name, version, title or "", instructions or "")
        self._native.set_hooks(PENDING, self._cancel)
        self._native.set_response_hook(self._on_response)
        # Seals 2026-07-28 requestState; give every process of one deployment the same secret.
        self._state_seal = StateSeal(request_state_secret)
        # Tasks (SEP-2663): kept ttlMs after creation (None: until the process ends); clients
        # are told to poll every pollIntervalMs.
        self._task_ttl_ms = int(task_ttl_ms or 0)
        self._task_poll_interval_ms = int(task_poll_interval_ms)
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._serving = False
        self.auth = auth
        self._metadata: tuple[str, str] | None = None  # (path, JSON document)
        if auth is not None:
            self._set_auth(auth, authorization_servers)
        self._native.set_resource_fallback(self._read_template)
        if page_size:
            self._native.set_page_size(page_size)
        self._tools: dict[str, Tool] = {}
        self._resources: dict[str, Resource] = {}
        self._templates: list[Resource] = []
        self._prompts: dict[str, Prompt] = {}
        self._tasks: dict[int, asyncio.Task[Any]] = {}

    # -- registration -------------------------------------------------------------------
    def tool(
        self,
        name: str | Callable[..., Any] | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: Any = None,
        icons: Any = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
        input_schema: dict[str, Any] | None = None,
        execution: Any = None,
    ) -> Any:
        """Registers a function as a tool: `@server.tool()`, `@server.tool("name")` or bare
        `@server.tool`. Its parameters (type hints, pydantic models) become the inputSchema, its
        docstring the description, its return annotation the outputSchema. `input_schema`
        advertises a JSON Schema (2020-12) verbatim instead; arguments are still validated
        against the function's parameters. `execution=ToolExecution(taskSupport="optional")`
        lets 2026-07-28 clients that declared the tasks extension get the call as a task
        (fasterapi/mcp/tasks.py)."""
        if callable(name):
            self.add_tool(name)
            return name

        def decorator(fn: F) -> F:
            self.add_tool(
                fn, name, title, description, annotations, icons, meta, structured_output,
                input_schema, execution,
            )
            return fn

        return decorator

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: Any = None,
        icons: Any = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
        input_schema: dict[str, Any] | None = None,
        execution: Any = None,
    ) -> None:
        tool_name = name or fn.__name__
        if hasattr(annotations, "model_dump"):
            annotations = annotations.model_dump(exclude_none=True, by_alias=True)
        tool = Tool(
            self, fn, tool_name, title, description, annotations, meta, structured_output, execution
        )
        if icons:
            tool.descriptor["icons"] = _dump(icons)
        if input_schema is not None:
            tool.descriptor["inputSchema"] = input_schema
        self._tools[tool_name] = tool
        self._native.add_tool(tool_name, tool.descriptor, tool.runner(), tool.wants_reply)
        if tool.task_support != "forbidden":
            self._native.set_tasks(True)  # server/discover now advertises the extension
        mirrored = _mirrored_params(tool.descriptor["inputSchema"])
        if mirrored:
            self._native.set_tool_headers(tool_name, mirrored)
        if self._serving:
            self.notify_tools_changed()

    def remove_tool(self, name: str) -> None:
        """Withdraws a tool; clients listening are told (notifications/tools/list_changed)."""
        if self._tools.pop(name, None) is None or not self._native.remove_tool(name):
            raise KeyError(f"unknown tool {name!r}")
        if self._serving:
            self.notify_tools_changed()

    def remove_prompt(self, name: str) -> None:
        """Withdraws a prompt; clients listening are told (notifications/prompts/list_changed)."""
        if self._prompts.pop(name, None) is None or not self._native.remove_prompt(name):
            raise KeyError(f"unknown prompt {name!r}")
        if self._serving:
            self.notify_prompts_changed()

    def _set_auth(self, auth: Any, authorization_servers: list[str] | None) -> None:
        """Every HTTP request's bearer token is verified in C++ before dispatch (a BearerAuth);
        the RFC 9728 metadata names `authorization_servers` (default: the token issuer)."""
        from fasterapi.mcp.auth import (
            BearerAuth,
            protected_resource_metadata,
            resource_metadata_path,
        )

        if not isinstance(auth, BearerAuth):
            raise TypeError("MCPServer(auth=...) takes a fasterapi.mcp.auth.BearerAuth")
        document = protected_resource_metadata(
            auth.resource, authorization_servers or [auth.issuer], auth.required_scopes
        )
        text = json.dumps(document, separators=(",", ":"))
        path = resource_metadata_path(auth.resource)
        self._metadata = (path, text)
        self._native.set_auth(
            auth._verifier, text, auth.resource_metadata_url, path, " ".join(auth.required_scopes)
        )

    # -- notifications to connected clients ----------------------------------------------
    def notify_tools_changed(self) -> int:
        """notifications/tools/list_changed to every listening client (a 2025-11-25 session's
        GET stream or stdio; a 2026-07-28 subscriptions/listen stream). Returns how many."""
        return int(self._native.notify_list_changed("tools"))

    def notify_prompts_changed(self) -> int:
        return int(self._native.notify_list_changed("prompts"))

    def notify_resources_changed(self) -> int:
        return int(self._native.notify_list_changed("resources"))

    def notify_resource_updated(self, uri: str) -> int:
        """notifications/resources/updated to the clients subscribed to `uri`
        (resources/subscribe, or a subscriptions/listen stream naming it)."""
        return int(self._native.notify_resource_updated(str(uri)))

    # -- answers to our requests to the client (Context.elicit/sample/list_roots) --------
    async def _await_response(self, number: int, timeout: float) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[number] = fut
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise McpError(f"the client did not answer within {timeout:g} s") from None
        finally:
            self._waiters.pop(number, None)

    def _on_response(self, number: int, ok: bool, value: Any) -> None:
        fut = self._waiters.pop(number, None)
        if fut is None or fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            err = value if isinstance(value, dict) else {}
            fut.set_exception(
                McpError(str(err.get("message", "error")), int(err.get("code", INTERNAL_ERROR)),
                         err.get("data"))
            )

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        icons: Any = None,
        annotations: Any = None,
        meta: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Registers a function as a resource (`"config://settings"`) or, when the URI has
        `{params}`, a resource template (`"users://{id}/profile"`)."""
        if callable(uri):
            raise TypeError("use @server.resource(uri), with the resource's URI")

        def decorator(fn: F) -> F:
            res = Resource(fn, uri, name, title, description, mime_type, _dump(annotations), meta)
            if icons:
                res.descriptor["icons"] = _dump(icons)
            if res.is_template:
                self._templates.append(res)
                self._native.add_resource_template(res.descriptor)
            else:
                self._resources[uri] = res
                self._native.add_resource(uri, res.descriptor, self._resource_runner(res), True)
            return fn

        return decorator

    def prompt(
        self,
        name: str | Callable[..., Any] | None = None,
        title: str | None = None,
        description: str | None = None,
        icons: Any = None,
    ) -> Any:
        """Registers a function as a prompt; its parameters are the prompt's arguments."""
        if callable(name):
            self._add_prompt(name, None, None, None)
            return name

        def decorator(fn: F) -> F:
            self._add_prompt(fn, name, title, description)
            return fn

        return decorator

    def _add_prompt(
        self, fn: Callable[..., Any], name: str | None, title: str | None, desc: str | None
    ) -> None:
        prompt = Prompt(fn, name or fn.__name__, title, desc)
        self._prompts[prompt.name] = prompt
        self._native.add_prompt(prompt.name, prompt.descriptor, self._prompt_runner(prompt), True)
        if self._serving:
            self.notify_prompts_changed()

    def completion(self) -> Callable[[F], F]:
        """Registers handler(ref, argument, context) for completion/complete (argument
        autocompletion, server/utilities/completion.mdx). It returns a list of values, a
        dict {"values": [...], "total": n, "hasMore": bool}, or an object with those attributes;
        sync or async."""

        def decorator(fn: F) -> F:
            self._native.set_completion(self._completion_runner(fn))
            return fn

        return decorator

    def _completion_runner(self, fn: Callable[..., Any]) -> Callable[[dict[str, Any], Any], Any]:
        def run(params: dict[str, Any], reply: Any) -> Any:
            call = lambda: fn(params.get("ref"), params.get("argument"), params.get("context"))  # noqa: E731
            return self._answer(call, reply, _completion_result)

        return run

    # -- runners the C++ core calls -----------------------------------------------------
    def _resource_runner(self, res: Resource) -> Callable[[str, Any], Any]:
        def run(uri: str, reply: Any) -> Any:
            return self._answer(
                lambda: res.call({}, reply, self), reply, lambda v: res.contents(uri, v), uri
            )

        return run

    def _read_template(self, uri: str, reply: Any) -> Any:
        for res in self._templates:
            params = res.match(uri)
            if params is not None:
                return self._read_with(res, params, uri, reply)
        raise ResourceNotFound(uri)

    def _read_with(self, res: Resource, params: dict[str, str], uri: str, reply: Any) -> Any:
        return self._answer(
            lambda: res.call(params, reply, self), reply, lambda v: res.contents(uri, v), uri
        )

    def _prompt_runner(self, prompt: Prompt) -> Callable[[dict[str, Any], Any], Any]:
        def run(arguments: dict[str, Any], reply: Any) -> Any:
            return self._answer(lambda: prompt.call(arguments, reply, self), reply, prompt.result)

        return run

    def _answer(
        self,
        call: Callable[[], Any],
        reply: Any,
        shape: Callable[[Any], dict[str, Any]],
        uri: str | None = None,
    ) -> Any:
        """Calls a resource or prompt function; its errors are protocol errors."""
        try:
            if reply.modern:
                Context(reply, self)._modern()  # verifies requestState first (-32602)
            value = call()
        except McpError:
            raise
        except InputRequired as need:
            return input_required(Context(reply, self), need.requests, None)
        except Exception as exc:
            raise _internal(exc, uri) from exc
        if isinstance(value, InputRequiredResult):
            return input_required(Context(reply, self), value.input_requests, value.request_state)
        if not inspect.isawaitable(value):
            return shape(value)
        return self._spawn(_finish_protocol(value, reply, shape, uri, self), reply)

    def _spawn(self, coro: Coroutine[Any, Any, None], reply: Any) -> Any:
        """Runs an async handler as a Task the client can cancel; returns PENDING."""
        task = asyncio.get_running_loop().create_task(coro)
        call_id = reply.call_id
        self._tasks[call_id] = task

        def done(t: asyncio.Task[Any]) -> None:
            # run_task's work is registered under the same call; only forget our own entry.
            if self._tasks.get(call_id) is t:
                del self._tasks[call_id]

        task.add_done_callback(done)
        return PENDING

    def _cancel(self, call_id: int) -> None:
        task = self._tasks.pop(call_id, None)
        if task is not None:
            task.cancel()

    async def _read_resource_value(self, uri: str) -> Any:
        res = self._resources.get(uri)
        params: dict[str, str] | None = {}
        if res is None:
            for candidate in self._templates:
                params = candidate.match(uri)
                if params is not None:
                    res = candidate
                    break
        if res is None or params is None:
            raise ResourceNotFound(uri)
        value = res.fn(**res.arguments.validate(params))
        return await value if inspect.isawaitable(value) else value

    # -- serving ------------------------------------------------------------------------
    def run(self, transport: Transport = "stdio", **options: Any) -> None:
        """Serves until the client goes away (stdio: EOF) or the process is interrupted.
        transport="http" (alias "streamable-http") takes host="127.0.0.1", port=8000,
        path="/mcp", allowed_origins=[...], allowed_hosts=[...], session_idle_timeout=1800.0
        (seconds; None: sessions live until DELETE) and max_sessions=10000 (None: no limit),
        as the official SDK's run() does. Runs on uvloop when it is installed, as App's
        serve() does (asyncio's own loop costs several µs of Python per message)."""
        from fasterapi.server import new_event_loop

        try:
            with asyncio.Runner(loop_factory=new_event_loop) as runner:
                runner.run(self.run_async(transport, **options))
        except KeyboardInterrupt:
            pass

    async def run_async(self, transport: Transport = "stdio", **options: Any) -> None:
        self._serving = True
        if transport == "stdio":
            if options:
                raise TypeError(f"run(transport='stdio') takes no options, got {sorted(options)}")
            await _serve.serve_stdio(self._native, self._cancel_all)
        elif transport in ("http", "streamable-http"):
            await self.serve_http(**options)
        else:
            raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")

    async def serve_http(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        path: str = "/mcp",
        allowed_origins: list[str] | None = None,
        allowed_hosts: list[str] | None = None,
        ready: Callable[[int], None] | None = None,
        session_idle_timeout: float | None = DEFAULT_SESSION_IDLE_TIMEOUT,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
        **_compat: Any,
    ) -> None:
        """Serves Streamable HTTP until cancelled; ready(port) is called once listening.
        A session with no request and no open stream for session_idle_timeout seconds is ended
        as DELETE ends it (its id then gets 404); at max_sessions live sessions, initialize gets
        503. None disables either."""
        self._serving = True
        await _serve.serve_http(
            self._native,
            host,
            port,
            path if path.startswith("/") else "/" + path,
            list(allowed_origins or ()),
            list(allowed_hosts or ()),
            ready,
            self._cancel_all,
            session_limits(session_idle_timeout, max_sessions),
        )

    def mount_into(
        self,
        app: Any,
        path: str = "/mcp",
        *,
        host: str = "127.0.0.1",
        allowed_origins: list[str] | None = None,
        allowed_hosts: list[str] | None = None,
        session_idle_timeout: float | None = DEFAULT_SESSION_IDLE_TIMEOUT,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
    ) -> None:
        """Serves this server's Streamable HTTP endpoint on `app` at `path` (what
        `app.mount(path, server)` calls). With host="127.0.0.1" only loopback Host headers are
        accepted (DNS-rebinding protection); list others in allowed_hosts. session_idle_timeout
        and max_sessions as for run(transport="http"); mounted, idle sessions are looked for
        when a request arrives (there is no timer of our own)."""
        from fasterapi.mcp._mount import make_endpoint

        path = "/" + path.strip("/")
        idle, limit = session_limits(session_idle_timeout, max_sessions)
        self._serving = True
        self._native.mount(
            host, path, list(allowed_origins or ()), list(allowed_hosts or ()), idle, limit
        )
        app.add_route(
            path,
            make_endpoint(self._native),
            methods=["POST", "GET", "DELETE"],
            include_in_schema=False,
        )
        if self._metadata is not None:
            from fasterapi.mcp._mount import make_metadata_endpoint

            meta_path, text = self._metadata
            metadata = make_metadata_endpoint(text)
            for route in sorted({meta_path, "/.well-known/oauth-protected-resource"}):
                app.add_route(route, metadata, methods=["GET"], include_in_schema=False)

    @property
    def session_count(self) -> int:
        """Live Streamable HTTP sessions (2025-11-25 era, Mcp-Session-Id)."""
        return int(self._native.sessions())

    def _cancel_all(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()


async def _finish_protocol(
    awaitable: Awaitable[Any],
    reply: Any,
    shape: Callable[[Any], Any],
    uri: str | None,
    server: MCPServer,
) -> None:
    try:
        value = await awaitable
        if isinstance(value, InputRequiredResult):
            ctx = Context(reply, server)
            result = input_required(ctx, value.input_requests, value.request_state)
        else:
            result = shape(value)
    except asyncio.CancelledError:
        raise
    except InputRequired as need:
        await asyncio.sleep(0)  # asks started together (asyncio.gather) all record theirs
        try:
            reply.result(input_required(Context(reply, server), need.requests, None))
        except McpError as exc:
            reply.error(exc.mcp_code, str(exc), getattr(exc, "mcp_data", None))
        return
    except McpError as exc:
        reply.error(exc.mcp_code, str(exc), getattr(exc, "mcp_data", None))
        return
    except Exception as exc:
        err = _internal(exc, uri)
        reply.error(err.mcp_code, str(err), None)
        return
    reply.result(result)


def _mirrored_params(schema: Any) -> list[tuple[str, str]]:
    """(header, property) for each property of an inputSchema annotated with x-mcp-header
    (2026-07-28 server/tools.mdx "x-mcp-header"): the client mirrors it into Mcp-Param-*."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return []
    return [
        (str(p["x-mcp-header"]), name)
        for name, p in props.items()
        if isinstance(p, dict) and isinstance(p.get("x-mcp-header"), str)
    ]


def _completion_result(value: Any) -> dict[str, Any]:
    if value is None:
        values: dict[str, Any] = {"values": []}
    elif isinstance(value, list | tuple):
        values = {"values": [str(v) for v in value]}
    elif isinstance(value, dict):
        values = dict(value)
    else:
        values = _dump(value)
    values["values"] = list(values.get("values", []))[:100]  # the spec's cap per response
    return {"completion": values}


def _internal(exc: Exception, uri: str | None) -> McpError:
    what = f"Error reading resource {uri}" if uri is not None else "Error"
    return McpError(f"{what}: {exc}", INTERNAL_ERROR)


def _dump(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True, by_alias=True, mode="json")
    return value
