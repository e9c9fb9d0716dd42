"""Tools (server/tools.mdx): the descriptor registered once with the C++ core, and the runner it
calls per tools/call — validate arguments, call the function, turn its value into a result."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import TypeAdapter, ValidationError

from fasterapi.mcp.content import error_result, to_blocks, to_jsonable
from fasterapi.mcp.context import Context
from fasterapi.mcp.errors import McpError, ToolError
from fasterapi.mcp.input_required import InputRequired, InputRequiredResult, request_dict
from fasterapi.mcp.signature import Arguments, describe_validation_error
from fasterapi.mcp.tasks import (
    TASK_FORBIDDEN,
    TASK_REQUIRED,
    CreateTaskResult,
    missing_extension,
    task_support_of,
)

if TYPE_CHECKING:
    from fasterapi.mcp.server import MCPServer

_NO_SCHEMA = object()


def output_schema(fn: Callable[..., Any]) -> tuple[dict[str, Any] | None, bool]:
    """outputSchema for the return annotation and whether values are wrapped as {"result": v}
    (a structuredContent must be an object; the official SDK wraps non-object types the same)."""
    try:
        hint = get_type_hints(fn).get("return", _NO_SCHEMA)
    except Exception:
        return None, False
    if hint is _NO_SCHEMA or hint is None or hint is type(None):
        return None, False
    try:
        schema = TypeAdapter(hint).json_schema(mode="serialization")
    except Exception:  # Image, Audio, arbitrary classes: unstructured only
        return None, False
    if schema.get("type") == "object":
        return schema, False
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": {k: v for k, v in schema.items() if k != "$defs"}},
        "required": ["result"],
    }
    if "$defs" in schema:
        wrapped["$defs"] = schema["$defs"]
    return wrapped, True


class Tool:
    def __init__(
        self,
        server: MCPServer,
        fn: Callable[..., Any],
        name: str,
        title: str | None,
        description: str | None,
        annotations: dict[str, Any] | None,
        meta: dict[str, Any] | None,
        structured_output: bool | None,
        execution: Any = None,
    ) -> None:
        self.server = server
        self.fn = fn
        self.name = name
        self.is_async = inspect.iscoroutinefunction(fn)
        self.arguments = Arguments(fn, f"{name}Arguments")
        # SEP-2663: whether calls may run as tasks. A function annotated to return
        # CreateTaskResult creates its task itself (ctx.experimental.run_task); any other
        # task-supporting function runs as a task whole when the client can take one.
        self.task_support = task_support_of(execution)
        self.manual_task = _returns_create_task_result(fn)
        if self.manual_task:
            structured_output = False
        schema, self.wrap = output_schema(fn) if structured_output is not False else (None, False)
        self.structured = schema is not None
        self.descriptor: dict[str, Any] = {"name": name}
        if title:
            self.descriptor["title"] = title
        doc = description if description is not None else inspect.getdoc(fn)
        if doc:
            self.descriptor["description"] = doc
        self.descriptor["inputSchema"] = self.arguments.json_schema()
        if schema is not None:
            self.descriptor["outputSchema"] = schema
        if annotations:
            self.descriptor["annotations"] = annotations
        if meta:
            self.descriptor["_meta"] = meta

    @property
    def wants_reply(self) -> bool:
        return (
            self.is_async
            or self.arguments.context_param is not None
            or self.task_support != TASK_FORBIDDEN
        )

    def result(self, value: Any) -> dict[str, Any]:
        """The CallToolResult for the function's return value."""
        if isinstance(value, dict) and "content" in value and "isError" in value:
            return value  # already a CallToolResult
        result: dict[str, Any] = {"content": to_blocks(value), "isError": False}
        if self.structured:
            data = to_jsonable(value)
            result["structuredContent"] = {"result": data} if self.wrap else data
        return result

    def failure(self, exc: BaseException) -> dict[str, Any]:
        if isinstance(exc, ValidationError):
            return error_result(describe_validation_error(exc))
        if isinstance(exc, ToolError):
            return error_result(str(exc))
        return error_result(f"Error executing tool {self.name}: {exc}")

    def runner(self) -> Callable[..., Any]:
        """runner(arguments[, reply]) for the C++ core (one Python call per tools/call)."""
        fn, validate, ctx_name = self.fn, self.arguments.validate, self.arguments.context_param
        result, failure, server = self.result, self.failure, self.server
        tool, is_async = self, self.is_async
        auto_task = self.task_support != TASK_FORBIDDEN and not self.manual_task
        required = self.task_support == TASK_REQUIRED

        if not self.wants_reply:

            def run_sync(arguments: dict[str, Any]) -> dict[str, Any]:
                try:
                    return result(fn(**validate(arguments)))
                except McpError:
                    raise  # a protocol error the tool chose
                except Exception as exc:
                    return failure(exc)

            return run_sync

        def run(arguments: dict[str, Any], reply: Any) -> Any:
            ctx = Context(reply, server)
            ctx._tool = tool
            try:
                if reply.modern:
                    ctx._modern()  # verifies requestState before the tool runs (-32602)
                if auto_task and not reply.tasks_allowed and required:
                    raise missing_extension()  # SEP-2663 "Capability Negotiation"
                kwargs = validate(arguments)
                if ctx_name is not None:
                    kwargs[ctx_name] = ctx
                if auto_task and reply.tasks_allowed:
                    # The whole call is the task: CreateTaskResult now, the value later.
                    if not reply.create_task(server._task_ttl_ms, server._task_poll_interval_ms):
                        raise McpError("the request was answered already or its client is gone")
                    work = fn(**kwargs) if is_async else asyncio.to_thread(fn, **kwargs)
                    return server._spawn(_finish(work, ctx, result, failure), reply)
                value = fn(**kwargs)
            except McpError:
                raise
            except InputRequired as need:
                return input_required(ctx, need.requests, None)
            except Exception as exc:
                return failure(exc)
            if isinstance(value, InputRequiredResult):
                return input_required(ctx, value.input_requests, value.request_state)
            if not inspect.isawaitable(value):
                return result(value)
            return server._spawn(_finish(value, ctx, result, failure), reply)

        return run


def _returns_create_task_result(fn: Callable[..., Any]) -> bool:
    """True when fn's return annotation names CreateTaskResult (alone or in a union)."""
    annotation = inspect.signature(fn).return_annotation
    if isinstance(annotation, str):
        return "CreateTaskResult" in annotation
    return annotation is CreateTaskResult or CreateTaskResult in getattr(annotation, "__args__", ())


def input_required(ctx: Context, requests: dict[str, Any], state: str | None) -> dict[str, Any]:
    """The InputRequiredResult (2026-07-28 only: earlier revisions have no such result)."""
    if not ctx._reply.modern:
        raise McpError("InputRequiredResult needs protocol revision 2026-07-28; use ctx.elicit, "
                       "ctx.sample or ctx.list_roots, which work in every revision")
    return ctx._modern().result({k: request_dict(v) for k, v in requests.items()}, state)


async def _finish(
    awaitable: Any, ctx: Context, result: Callable[[Any], Any], failure: Callable[[Any], Any]
) -> None:
    reply = ctx._reply
    try:
        value = await awaitable
        if isinstance(value, CreateTaskResult):
            return  # ctx.experimental.run_task answered the request; the task runs on its own
        if isinstance(value, InputRequiredResult):
            value = input_required(ctx, value.input_requests, value.request_state)
            reply.result(value)
            return
    except asyncio.CancelledError:
        raise
    except InputRequired as need:
        await asyncio.sleep(0)  # asks started together (asyncio.gather) all record theirs
        try:
            reply.result(input_required(ctx, need.requests, None))
        except McpError as exc:
            reply.error(exc.mcp_code, str(exc), getattr(exc, "mcp_data", None))
        return
    except McpError as exc:
        reply.error(exc.mcp_code, str(exc), getattr(exc, "mcp_data", None))
        return
    except Exception as exc:
        reply.result(failure(exc))
        return
    reply.result(result(value))
