"""Context.elicit / sample / list_roots in both protocol eras, judged by the official SDK
client (mcp 2.x): on 2025-11-25 they are requests on the POST's SSE stream answered by the
client's callbacks; on 2026-07-28 the call ends with an InputRequiredResult and the SDK client's
retry (inputResponses + the sealed requestState) completes it. Plus list_changed, resource
updates and subscriptions/listen, and the 2026-07-28 rules checked with raw HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from conftest import require_module

mcp = require_module("mcp")

import mcp.types as t  # noqa: E402
from mcp_helpers import run, serving  # noqa: E402

from fasterapi.mcp import Context, MCPServer  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(60)

MODERN = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}},
}


def asking_server() -> MCPServer:
    server = MCPServer(name="asks")
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Asks the user's name, then the LLM for a greeting, then the roots."""
        who = await ctx.elicit("Your name?", schema)
        if who.action != "accept":
            return f"no name ({who.action})"
        said = await ctx.sample(f"Greet {who.content['name']}", max_tokens=20)
        roots = await ctx.list_roots()
        return f"{said.content.text} | roots={[r.uri for r in roots.roots]}"

    @server.tool()
    async def both_at_once(ctx: Context) -> str:
        """Two asks started together (one round on 2026-07-28)."""
        a, b = await asyncio.gather(
            ctx.elicit("Name?", schema, key="who"), ctx.sample("Hi", max_tokens=5, key="llm")
        )
        return f"{a.content['name']}/{b.content.text}"

    return server


async def on_elicit(context: Any, params: t.ElicitRequestParams) -> t.ElicitResult:
    return t.ElicitResult(action="accept", content={"name": "Ada"})


async def on_sample(context: Any, params: t.CreateMessageRequestParams) -> t.CreateMessageResult:
    prompt = params.messages[0].content.text  # type: ignore[union-attr]
    return t.CreateMessageResult(
        role="assistant", content=t.TextContent(type="text", text=f"Hello! ({prompt})"), model="m"
    )


async def on_roots(context: Any) -> t.ListRootsResult:
    return t.ListRootsResult(roots=[t.Root(uri="file:///work", name="work")])


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_the_same_tool_asks_the_client_in_both_eras(mode: str) -> None:
    async def main() -> None:
        async with serving(asking_server()) as url, Client(
            url,
            mode=mode,
            elicitation_callback=on_elicit,
            sampling_callback=on_sample,
            list_roots_callback=on_roots,
        ) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else MODERN)
            result = await client.call_tool("greet", {})
            assert result.is_error is False, result
            assert result.content[0].text == "Hello! (Greet Ada) | roots=['file:///work']"
            both = await client.call_tool("both_at_once", {})
            assert both.content[0].text == "Ada/Hello! (Hi)"

    run(main())


def test_a_client_without_the_capability_gets_an_error() -> None:
    async def main() -> None:
        async with serving(asking_server()) as url, Client(url, mode="legacy") as client:
            with pytest.raises(mcp.shared.exceptions.MCPError) as err:
                await client.call_tool("greet", {})
            assert err.value.error.code == -32021
            assert err.value.error.data == {"requiredCapabilities": {"elicitation": {}}}

    run(main())


async def post(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    params = body.get("params", {})
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": body["method"],
    }
    if "name" in params:
        headers["Mcp-Name"] = params["name"]
    return await http.post(url, json=body, headers=headers)


def call(name: str, **extra: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": {}, "_meta": META, **extra}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}


def test_request_state_is_sealed_and_bound_to_its_tool() -> None:
    async def main() -> None:
        async with serving(asking_server()) as url, httpx.AsyncClient(timeout=10) as http:
            first = (await post(http, url, call("greet"))).json()["result"]
            assert first["resultType"] == "input_required"
            assert list(first["inputRequests"]) == ["elicitation-0"]
            assert first["inputRequests"]["elicitation-0"]["method"] == "elicitation/create"
            state = first["requestState"]
            answer = {"elicitation-0": {"action": "accept", "content": {"name": "Bo"}}}
            # Round 2 asks the next input; the first answer rides in the new state.
            second = await post(http, url, call("greet", inputResponses=answer, requestState=state))
            body = second.json()["result"]
            assert list(body["inputRequests"]) == ["sampling-1"]
            assert "Greet Bo" in json.dumps(body["inputRequests"])
            # A modified state, or one issued for another tool, is refused before the tool runs.
            for bad, tool in ((state[:-2] + "AA", "greet"), (state, "both_at_once")):
                refused = await post(http, url, call(tool, inputResponses=answer, requestState=bad))
                error = refused.json()["error"]
                assert error["code"] == -32602 and "requestState" in error["message"]
            # inputResponses must hold result objects.
            wrong = await post(http, url, call("greet", inputResponses={"elicitation-0": 3}))
            assert wrong.json()["error"]["code"] == -32602

    run(main())


def test_list_changed_and_resource_updates_reach_a_legacy_session() -> None:
    server = MCPServer(name="changes")

    @server.tool()
    def base() -> str:
        return "base"

    @server.resource("test://watched")
    def watched() -> str:
        return "v1"

    async def main() -> None:
        got: list[str] = []

        async def on_message(message: Any) -> None:
            root = getattr(message, "root", message)
            method = getattr(root, "method", None)
            if method:
                got.append(method)

        async with serving(server) as url, Client(
            url, mode="legacy", message_handler=on_message
        ) as client:
            await client.subscribe_resource("test://watched")
            await asyncio.sleep(0.3)  # the client's GET stream opens
            server.add_tool(lambda: "new", name="late")  # after start: announced
            server.notify_resource_updated("test://watched")
            server.notify_resource_updated("test://other")  # nobody subscribed
            for _ in range(50):
                if len(got) >= 2:
                    break
                await asyncio.sleep(0.05)
            assert "notifications/tools/list_changed" in got
            assert got.count("notifications/resources/updated") == 1
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert names == ["base", "late"]
            server.remove_tool("late")
            assert [tool.name for tool in (await client.list_tools()).tools] == ["base"]

    run(main())


def test_subscriptions_listen_stream() -> None:
    server = MCPServer(name="listen")

    @server.tool()
    def base() -> str:
        return "base"

    async def main() -> None:
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            body = {
                "jsonrpc": "2.0",
                "id": "s1",
                "method": "subscriptions/listen",
                "params": {"_meta": META, "notifications": {"toolsListChanged": True}},
            }
            headers = {
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "subscriptions/listen",
            }
            async with http.stream("POST", url, json=body, headers=headers) as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                lines = resp.aiter_lines()
                events: list[dict[str, Any]] = []

                async def next_event() -> dict[str, Any]:
                    async for line in lines:
                        if line.startswith("data: "):
                            return dict(json.loads(line[6:]))
                    raise AssertionError("stream ended")

                events.append(await next_event())
                assert events[0]["method"] == "notifications/subscriptions/acknowledged"
                assert events[0]["params"]["notifications"] == {"toolsListChanged": True}
                server.notify_prompts_changed()  # not asked for: not sent
                server.add_tool(lambda: "x", name="added")
                event = await asyncio.wait_for(next_event(), 5)
                assert event["method"] == "notifications/tools/list_changed"
                assert event["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "s1"

    run(main())


def test_mirrored_headers_are_checked() -> None:
    server = MCPServer(name="headers")

    @server.tool(input_schema={
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
    })
    def where(region: str) -> str:
        return region

    async def main() -> None:
        async with serving(server) as url, httpx.AsyncClient(timeout=10) as http:
            body = call("where")
            body["params"]["arguments"] = {"region": "eu"}
            base = {
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "tools/call",
                "Mcp-Name": "where",
            }
            ok = await http.post(url, json=body, headers={**base, "Mcp-Param-Region": "eu"})
            assert ok.status_code == 200 and ok.json()["result"]["content"][0]["text"] == "eu"
            listed = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": META}},
                headers={**base, "Mcp-Method": "tools/list"},
            )
            schema = listed.json()["result"]["tools"][0]["inputSchema"]
            assert schema["properties"]["region"]["x-mcp-header"] == "Region"  # verbatim
            for headers in (
                base,  # Mcp-Param-Region missing while the body has region
                {**base, "Mcp-Param-Region": "us"},
                {**base, "Mcp-Param-Region": "eu", "Mcp-Name": "other"},
                {**base, "Mcp-Param-Region": "eu", "Mcp-Method": "tools/list"},
                {k: v for k, v in base.items() if k != "Mcp-Method"},
            ):
                refused = await http.post(url, json=body, headers=headers)
                assert refused.status_code == 400, headers
                assert refused.json()["error"]["code"] == -32020

    run(main())


STDIO_SERVER = '''
from fasterapi.mcp import Context, MCPServer

server = MCPServer(name="stdio-asks")


@server.tool()
async def ask(ctx: Context) -> str:
    who = await ctx.elicit("Name?", {"type": "object", "properties": {"name": {"type": "string"}}})
    roots = await ctx.list_roots()
    return f"{who.content['name']} {roots.roots[0].uri}"


server.run(transport="stdio")
'''


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_asking_the_client_over_stdio(mode: str, tmp_path: Any) -> None:
    import sys

    from mcp import StdioServerParameters

    script = tmp_path / "server.py"
    script.write_text(STDIO_SERVER)

    async def main() -> None:
        params = StdioServerParameters(command=sys.executable, args=[str(script)])
        async with Client(
            params, mode=mode, elicitation_callback=on_elicit, list_roots_callback=on_roots
        ) as client:
            result = await client.call_tool("ask", {})
            assert result.content[0].text == "Ada file:///work", result

    run(main())
