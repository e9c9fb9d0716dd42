"""Tasks (the io.modelcontextprotocol/tasks extension, SEP-2663, protocol 2026-07-28): a
tool call the server runs asynchronously. The client gets a CreateTaskResult at once, polls
`tasks/get`, answers the task's input requests with `tasks/update` and may `tasks/cancel` it;
the C++ core keeps the tasks and serves those methods (src/mcp/tasks.h).

Declare a tool's task support as the official SDK does, with `execution=ToolExecution(...)`:

```python
@server.tool(execution=ToolExecution(taskSupport=TASK_OPTIONAL))
async def build(ctx: Context) -> str:
    ok = await ctx.elicit("Deploy?", {...})   # the task is input_required until answered
    ...
```

A task-supporting tool called by a client that declared the extension runs as a task; one
that did not gets the ordinary result (`optional`) or error -32021 (`required`). A tool whose
return annotation is `CreateTaskResult` decides for itself, with the SDK's
`ctx.experimental.run_task(work)` (e.g. after asking for input with an InputRequiredResult round).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from fasterapi.mcp.errors import McpError

if TYPE_CHECKING:
    from fasterapi.mcp.context import Context
    from fasterapi.mcp.results import ClientResult

TaskSupport = Literal["forbidden", "optional", "required"]
#: The official SDK's constants for ToolExecution.taskSupport.
TASK_FORBIDDEN: TaskSupport = "forbidden"
TASK_OPTIONAL: TaskSupport = "optional"
TASK_REQUIRED: TaskSupport = "required"

#: The extension's identifier (SEP-2663 "Extension Identifier").
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
#: SEP-2575 "Missing Required Capabilities".
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021


@dataclass(frozen=True)
class ToolExecution:
    """How a tool may be executed (the SDK's `ToolExecution`): `taskSupport` is "forbidden"
    (never a task, the default), "optional" (a task when the client can take one) or
    "required" (clients without the extension get -32021)."""

    taskSupport: TaskSupport = TASK_FORBIDDEN


class CreateTaskResult(dict[str, Any]):
    """What `ctx.experimental.run_task` returns (and a manual task tool returns): the task was
    created and its CreateTaskResult already sent; `.task_id` names it."""

    @property
    def task_id(self) -> str:
        return str(self["taskId"])


def task_support_of(execution: Any) -> TaskSupport:
    """The taskSupport of `execution`: a ToolExecution, the SDK's pydantic one, a dict, a
    plain string or None (forbidden)."""
    if execution is None:
        return TASK_FORBIDDEN
    value = execution if isinstance(execution, str) else (
        execution.get("taskSupport") if isinstance(execution, dict)
        else getattr(execution, "taskSupport", getattr(execution, "task_support", None))
    )
    if value is None:
        return TASK_FORBIDDEN
    if value not in ("forbidden", "optional", "required"):
        raise ValueError(f"taskSupport must be forbidden, optional or required, not {value!r}")
    return cast(TaskSupport, value)


def missing_extension() -> McpError:
    """The -32021 error for a call that needs the tasks extension the client did not declare."""
    return McpError(
        "Missing required client capability: this tool runs only as a task "
        f"(declare the {TASKS_EXTENSION} extension)",
        MISSING_REQUIRED_CLIENT_CAPABILITY,
        {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}},
    )


class ServerTaskContext:
    """The running task (the SDK's ServerTaskContext): its id, its status message, and the
    asks that put it in input_required until the client answers them with tasks/update."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @property
    def task_id(self) -> str:
        return str(self._ctx._reply.task_id)

    @property
    def is_cancelled(self) -> bool:
        return not self._ctx._reply.active

    async def update_status(self, message: str) -> None:
        """Sets the task's statusMessage (shown by tasks/get and status notifications)."""
        self._ctx._reply.task_status(str(message))

    async def elicit(self, message: str, requestedSchema: Any, **kw: Any) -> ClientResult:
        return await self._ctx.elicit(message, requestedSchema, **kw)

    async def create_message(self, messages: Any, *, max_tokens: int, **kw: Any) -> ClientResult:
        return await self._ctx.sample(messages, max_tokens=max_tokens, **kw)

    async def list_roots(self, **kw: Any) -> ClientResult:
        return await self._ctx.list_roots(**kw)


class Experimental:
    """`ctx.experimental`: the SDK's experimental task calls on this request."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @property
    def is_task(self) -> bool:
        """True while this call runs as a task."""
        return bool(self._ctx._reply.in_task)

    @property
    def tasks_allowed(self) -> bool:
        """True when this call may become a task (the client declared the extension)."""
        return bool(self._ctx._reply.tasks_allowed)

    async def run_task(
        self, work: Callable[[ServerTaskContext], Awaitable[Any]]
    ) -> CreateTaskResult:
        """Creates the task, answers the request with its CreateTaskResult and runs
        `await work(task)` as the task: its return value is the task's result, an McpError
        fails it, another exception completes it with isError. Raises -32021 when the client
        did not declare the extension."""
        ctx = self._ctx
        server = ctx._server
        reply = ctx._reply
        if server is None or ctx._tool is None:
            raise RuntimeError("run_task: only inside a tool call")
        if not reply.tasks_allowed:
            raise missing_extension()
        task_id = reply.create_task(server._task_ttl_ms, server._task_poll_interval_ms)
        if not task_id:
            raise McpError("the request was answered already or its client is gone")
        from fasterapi.mcp.tools import _finish

        tool = ctx._tool
        server._spawn(_finish(work(ServerTaskContext(ctx)), ctx, tool.result, tool.failure), reply)
        return CreateTaskResult(taskId=task_id)
