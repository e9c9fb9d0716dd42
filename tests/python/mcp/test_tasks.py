"""The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) served by MCPServer over
Streamable HTTP, checked with raw 2026-07-28 requests: a task-supporting tool becomes a task for
a client that declared the extension (CreateTaskResult, tasks/get until terminal, the result or
error inlined), asks during a task are answered with tasks/update, tasks/cancel cancels the work,
a required-task tool refuses other clients (-32021), and a tool can gather input synchronously
before creating its task (ctx.experimental.run_task). The conformance suite's tasks-* scenarios
judge the same server (tests/python/mcp/conformance)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from mcp_helpers import run, serving

from fasterapi.mcp import (
    TASK_OPTIONAL,
    TASK_REQUIRED,
    Context,
    CreateTaskResult,
    McpError,
    MCPServer,
    ServerTaskContext,
    ToolError,
    ToolExecution,
)

pytestmark = pytest.mark.timeout(60)

MODERN = "2026-07-28"
EXT = "io.modelcontextprotocol/tasks"
WITH_TASKS = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {EXT: {}}},
}
WITHOUT = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
}
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}}


def tasks_server() -> tuple[MCPServer, dict[str, Any]]:
    server = MCPServer(name="tasks", task_ttl_ms=60_000, task_poll_interval_ms=250)
    seen: dict[str, Any] = {"cancelled": False}

    @server.tool()
    def plain(x: int) -> int:
        return x + 1

    @server.tool(execution=ToolExecution(taskSupport=TASK_OPTIONAL))
    async def slow(seconds: float) -> str:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise
        return f"slept {seconds:g}"

    @server.tool(execution={"taskSupport": "optional"})
    def blocking(n: int) -> int:
        """A sync function runs in a thread while it is a task."""
        return n * 2

    @server.tool(execution=ToolExecution(taskSupport=TASK_REQUIRED))
    async def only_task() -> str:
        raise ToolError("tool-level failure")

    @server.tool(execution=ToolExecution(taskSupport=TASK_OPTIONAL))
    async def broken() -> str:
        raise McpError("protocol-level failure", -32603)

    @server.tool(execution=ToolExecution(taskSupport=TASK_OPTIONAL))
    async def confirm(ctx: Context) -> str:
        first, second = await asyncio.gather(
            ctx.elicit("One?", SCHEMA), ctx.elicit("Two?", SCHEMA)
        )
        return f"{first.action}/{second.action}"

    @server.tool(execution=ToolExecution(taskSupport=TASK_REQUIRED))
    async def ask_then_task(ctx: Context) -> CreateTaskResult:
        who = await ctx.elicit("Name?", {"type": "object"}, key="who")

        async def work(task: ServerTaskContext) -> str:
            await task.update_status("working on it")
            await asyncio.sleep(0.05)
            return f"hello {who.content['name']} from {task.task_id}"

        return await ctx.experimental.run_task(work)

    return server, seen


class Client:
    """Raw 2026-07-28 requests with the headers the transport spec asks for."""

    def __init__(self, http: httpx.AsyncClient, url: str, meta: dict[str, Any]) -> None:
        self.http, self.url, self.meta, self.next_id = http, url, meta, 1

    async def send(self, method: str, **params: Any) -> httpx.Response:
        self.next_id += 1
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method,
                "params": {**params, "_meta": self.meta}}
        headers = {"Accept": "application/json, text/event-stream",
                   "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
        name = params.get("name", params.get("taskId"))
        if name is not None:
            headers["Mcp-Name"] = str(name)
        return await self.http.post(self.url, json=body, headers=headers)

    async def result(self, method: str, **params: Any) -> dict[str, Any]:
        reply = (await self.send(method, **params)).json()
        assert "result" in reply, reply
        return dict(reply["result"])

    async def call(self, name: str, **arguments: Any) -> dict[str, Any]:
        return await self.result("tools/call", name=name, arguments=arguments)

    async def wait(self, task_id: str, status: str | None = None) -> dict[str, Any]:
        for _ in range(200):
            got = await self.result("tasks/get", taskId=task_id)
            if got["status"] in ("completed", "failed", "cancelled") or got["status"] == status:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"task {task_id} stayed {got['status']}")


def test_discover_advertises_the_extension() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            got = await Client(http, url, WITH_TASKS).result("server/discover")
            assert got["capabilities"]["extensions"] == {EXT: {}}
            assert "tasks" not in got["capabilities"]

    run(main())


def test_a_task_supporting_tool_becomes_a_task_and_completes() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            c = Client(http, url, WITH_TASKS)
            created = await c.call("slow", seconds=0.2)
            assert created["resultType"] == "task" and created["status"] == "working", created
            assert created["ttlMs"] == 60_000 and created["pollIntervalMs"] == 250
            assert not {"result", "error", "inputRequests", "requestState", "task"} & set(created)
            now = await c.result("tasks/get", taskId=created["taskId"])  # durable at once
            assert now["resultType"] == "complete" and now["status"] == "working"
            done = await c.wait(created["taskId"])
            assert done["status"] == "completed", done
            assert done["result"]["content"][0]["text"] == "slept 0.2"
            # A sync function runs in a thread; a tool that is not task-supporting never is one.
            threaded = await c.wait((await c.call("blocking", n=21))["taskId"])
            assert threaded["result"]["structuredContent"] == {"result": 42}
            plain = await c.call("plain", x=1)
            assert plain["resultType"] == "complete" and "taskId" not in plain
            # Without the extension the optional tool answers synchronously.
            sync = await Client(http, url, WITHOUT).call("slow", seconds=0)
            assert sync["resultType"] == "complete" and sync["content"][0]["text"] == "slept 0"

    run(main())


def test_tool_errors_complete_and_protocol_errors_fail() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            c = Client(http, url, WITH_TASKS)
            tool_error = await c.wait((await c.call("only_task"))["taskId"])
            assert tool_error["status"] == "completed" and tool_error["result"]["isError"] is True
            failed = await c.wait((await c.call("broken"))["taskId"])
            assert failed["status"] == "failed" and "result" not in failed, failed
            assert failed["error"] == {"code": -32603, "message": "protocol-level failure"}

    run(main())


def test_required_tasks_and_task_methods_need_the_extension() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            plain = Client(http, url, WITHOUT)
            refused = (await plain.send("tools/call", name="only_task", arguments={})).json()
            assert refused["error"]["code"] == -32021, refused
            assert refused["error"]["data"] == {"requiredCapabilities": {"extensions": {EXT: {}}}}
            for method in ("tasks/get", "tasks/update", "tasks/cancel"):
                got = (await plain.send(method, taskId="x", inputResponses={})).json()
                assert got["error"]["code"] == -32021, (method, got)
            c = Client(http, url, WITH_TASKS)
            unknown = (await c.send("tasks/get", taskId="nope")).json()
            assert unknown["error"]["code"] == -32602
            for removed in ("tasks/result", "tasks/list"):
                assert (await c.send(removed, taskId="x")).json()["error"]["code"] == -32601

    run(main())


def test_asks_wait_in_input_requests_until_tasks_update() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            c = Client(http, url, WITH_TASKS)
            task_id = (await c.call("confirm"))["taskId"]
            for _ in range(100):
                waiting = await c.wait(task_id, "input_required")
                if len(waiting.get("inputRequests", {})) == 2:
                    break
            keys = list(waiting["inputRequests"])
            assert len(keys) == 2, waiting
            assert waiting["inputRequests"][keys[0]]["method"] == "elicitation/create"
            ack = await c.result("tasks/update", taskId=task_id,
                                 inputResponses={keys[0]: {"action": "accept", "content": {}}})
            assert ack == {"resultType": "complete"}
            partial = await c.result("tasks/get", taskId=task_id)
            assert partial["status"] == "input_required" and list(partial["inputRequests"]) == [
                keys[1]
            ]
            await c.result("tasks/update", taskId=task_id,
                           inputResponses={keys[1]: {"action": "decline"}})
            done = await c.wait(task_id)
            assert done["result"]["content"][0]["text"] == "accept/decline", done

    run(main())


def test_cancel_stops_the_work() -> None:
    async def main() -> None:
        server, seen = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            c = Client(http, url, WITH_TASKS)
            task_id = (await c.call("slow", seconds=30))["taskId"]
            await asyncio.sleep(0.05)
            assert await c.result("tasks/cancel", taskId=task_id) == {"resultType": "complete"}
            assert (await c.result("tasks/get", taskId=task_id))["status"] == "cancelled"
            for _ in range(50):
                if seen["cancelled"]:
                    break
                await asyncio.sleep(0.02)
            assert seen["cancelled"], "the tool's coroutine was cancelled"
            again = await c.result("tasks/cancel", taskId=task_id)  # idempotent ack
            assert again == {"resultType": "complete"}

    run(main())


def test_input_first_then_a_task_with_run_task() -> None:
    async def main() -> None:
        server, _ = tasks_server()
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            c = Client(http, url, WITH_TASKS)
            first = await c.call("ask_then_task")
            assert first["resultType"] == "input_required" and "taskId" not in first, first
            second = await c.result(
                "tools/call", name="ask_then_task", arguments={},
                inputResponses={"who": {"action": "accept", "content": {"name": "Ada"}}},
                requestState=first["requestState"],
            )
            assert second["resultType"] == "task" and "requestState" not in second, second
            done = await c.wait(second["taskId"])
            assert done["result"]["content"][0]["text"] == f"hello Ada from {second['taskId']}"
            assert done["statusMessage"] == "working on it"

    run(main())
