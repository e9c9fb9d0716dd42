"""The official MCP SDK client (mcp==2.3.0) against our servers over stdio."""

from __future__ import annotations

import sys

import pytest

mcp = pytest.importorskip("mcp")

from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_helpers import SEED_SERVER, TOOLS_SERVER, run  # noqa: E402

from mcp import Client, StdioServerParameters  # noqa: E402

pytestmark = pytest.mark.timeout(60)


def params(script: object) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(script)])


@pytest.mark.parametrize("mode", ["legacy", "auto", "2026-07-28"])
def test_seed_example_with_the_official_client(mode: str) -> None:
    async def main() -> None:
        async with Client(params(SEED_SERVER), mode=mode) as client:
            if mode != "2026-07-28":  # a pinned version skips discovery: no serverInfo
                assert client.server_info is not None
                assert client.server_info.name == "My Tools"
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            tools = await client.list_tools()
            assert [t.name for t in tools.tools] == ["calculate"]
            assert tools.tools[0].description == "Perform basic calculations"
            assert tools.tools[0].input_schema["required"] == ["operation", "a", "b"]
            result = await client.call_tool("calculate", {"operation": "multiply", "a": 6, "b": 7})
            assert not result.is_error
            assert result.structured_content == {"result": 42.0}
            assert result.content[0].text == "42.0"
            resources = await client.list_resources()
            assert [str(r.uri) for r in resources.resources] == ["config://settings"]
            read = await client.read_resource("config://settings")
            assert '"max_retries": 3' in read.contents[0].text

    run(main())


def test_tools_errors_progress_logging_and_cancellation() -> None:
    async def main() -> None:
        logs: list[object] = []
        progress: list[float] = []

        async def on_log(params: object) -> None:
            logs.append(params)

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append(p)

        async with Client(params(TOOLS_SERVER), mode="legacy", logging_callback=on_log) as client:
            assert client.instructions == "Tools for tests"
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"calculate", "echo", "midpoint", "fail", "slow_count", "hang"} <= names

            mid = await client.call_tool(
                "midpoint", {"p": {"x": 0, "y": 0}, "q": {"x": 2, "y": 4}}
            )
            assert mid.structured_content == {"x": 1.0, "y": 2.0}

            failed = await client.call_tool("fail", {"message": "nope"})
            assert failed.is_error and failed.content[0].text == "nope"
            crashed = await client.call_tool("crash", {})
            assert crashed.is_error and "boom" in crashed.content[0].text
            invalid = await client.call_tool("calculate", {"operation": "add", "a": "x", "b": 1})
            assert invalid.is_error and "Invalid arguments" in invalid.content[0].text

            with pytest.raises(MCPError) as unknown:
                await client.call_tool("no_such_tool", {})
            assert unknown.value.error.code == -32602

            counted = await client.call_tool(
                "slow_count", {"n": 3}, progress_callback=on_progress
            )
            assert counted.content[0].text == "counted to 3"
            assert progress == [1.0, 2.0, 3.0]
            assert len(logs) == 3

            profile = await client.read_resource("users://7/profile")
            assert '"id": 7' in profile.contents[0].text
            templates = await client.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "users://{user_id}/profile"
            with pytest.raises(MCPError) as missing:
                await client.read_resource("nothing://here")
            assert missing.value.error.code == -32002

            from mcp.types import PromptReference

            done = await client.complete(
                PromptReference(type="ref/prompt", name="review"),
                {"name": "language", "value": "py"},
            )
            assert done.completion.values == ["python"]
            await client.subscribe_resource("config://settings")
            await client.unsubscribe_resource("config://settings")

            prompts = await client.list_prompts()
            assert prompts.prompts[0].name == "review"
            got = await client.get_prompt("review", {"code": "x = 1"})
            assert "x = 1" in got.messages[0].content.text

            with pytest.raises(MCPError):  # the client times out and sends notifications/cancelled
                await client.session.call_tool("hang", {}, read_timeout_seconds=0.3)
            assert (await client.call_tool("echo", {"text": "still alive"})).content[0].text == (
                "still alive"
            )
            await client.send_ping()

    run(main())
