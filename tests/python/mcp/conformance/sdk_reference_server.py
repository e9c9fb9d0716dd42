"""The conformance fixtures served by the official `mcp` SDK (test-time reference only).

The tools, resources and prompts of examples/mcp/conformance_server.py, written against the
official SDK's MCPServer, plus the 2026-07-28 fixtures fasterapi.mcp has no API for yet
(InputRequiredResult tools, test_missing_capability, list-change triggers, a verbatim JSON Schema
2020-12 inputSchema). The harness (run_conformance.py, test_bad_input.py) is checked on it, and
our results always have the SDK's beside them.

    python3 sdk_reference_server.py --transport http --port 3001     # http://127.0.0.1:3001/mcp
    python3 sdk_reference_server.py --transport stdio
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from typing import Annotated, Any

import mcp.types as t
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.shared.exceptions import MCPError
from pydantic import Field

# A 1x1 PNG and a 1-sample WAV: the smallest valid media the scenarios accept.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV_TINY = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

server: MCPServer[Any] = MCPServer(name="fasterapi-conformance-sdk-reference", version="1.0.0")
subscriptions: set[str] = set()


class MemoryEventStore(EventStore):
    """Keeps every SSE event so a client that reconnects with Last-Event-ID gets the rest."""

    def __init__(self) -> None:
        self._events: list[tuple[str, str, t.JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: str, message: t.JSONRPCMessage | None) -> str:
        event_id = str(len(self._events) + 1)
        self._events.append((stream_id, event_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: str, send_callback: EventCallback
    ) -> str | None:
        stream = next((s for s, e, _ in self._events if e == last_event_id), None)
        if stream is None:
            return None
        for s, e, message in self._events:
            if s == stream and int(e) > int(last_event_id) and message is not None:
                await send_callback(EventMessage(message, e))
        return stream


# ---- tools ---------------------------------------------------------------------------------


@server.tool()
def test_simple_text() -> str:
    """Returns one text block."""
    return "This is a simple text response for testing."


@server.tool()
def test_image_content() -> list[t.ImageContent]:
    """Returns one PNG image block."""
    return [t.ImageContent(type="image", data=PNG_1X1, mime_type="image/png")]


@server.tool()
def test_audio_content() -> list[t.AudioContent]:
    """Returns one WAV audio block."""
    return [t.AudioContent(type="audio", data=WAV_TINY, mime_type="audio/wav")]


@server.tool()
def test_embedded_resource() -> list[t.EmbeddedResource]:
    """Returns an embedded text resource."""
    return [
        t.EmbeddedResource(
            type="resource",
            resource=t.TextResourceContents(
                uri="test://embedded-resource",
                mime_type="text/plain",
                text="This is an embedded resource content.",
            ),
        )
    ]


@server.tool()
def test_multiple_content_types() -> list[t.TextContent | t.ImageContent | t.EmbeddedResource]:
    """Returns text, image and an embedded resource."""
    return [
        t.TextContent(type="text", text="Multiple content types test:"),
        t.ImageContent(type="image", data=PNG_1X1, mime_type="image/png"),
        t.EmbeddedResource(
            type="resource",
            resource=t.TextResourceContents(
                uri="test://mixed-content-resource",
                mime_type="application/json",
                text=json.dumps({"test": "data", "value": 123}),
            ),
        ),
    ]


@server.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Sends three info log notifications, 50 ms apart."""
    await ctx.info("Tool execution started")
    await asyncio.sleep(0.05)
    await ctx.info("Tool processing data")
    await asyncio.sleep(0.05)
    await ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@server.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Reports progress 0, 50, 100 of 100, 50 ms apart."""
    for step in (0, 50, 100):
        await ctx.report_progress(progress=step, total=100, message=f"step {step} of 100")
        if step < 100:
            await asyncio.sleep(0.05)
    return "Tool with progress executed successfully"


@server.tool()
def test_error_handling() -> str:
    """Always raises: the server must answer with an isError result."""
    raise RuntimeError("This tool intentionally returns an error for testing")


@server.tool()
async def test_sampling(prompt: str, ctx: Context) -> str:
    """Asks the client's LLM (sampling/createMessage) and returns its answer."""
    result = await ctx.session.create_message(
        messages=[t.SamplingMessage(role="user", content=t.TextContent(type="text", text=prompt))],
        max_tokens=100,
        related_request_id=ctx.request_id,
    )
    text = result.content.text if isinstance(result.content, t.TextContent) else "No response"
    return f"LLM response: {text}"


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> t.ElicitResult:
    return await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)


@server.tool()
async def test_elicitation(message: str, ctx: Context) -> str:
    """Asks the user (elicitation/create) for a username and an email."""
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }
    result = await _elicit(ctx, message, schema)
    return f"User response: action={result.action}, content={json.dumps(result.content or {})}"


@server.tool()
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Elicitation whose schema has a default for every primitive type (SEP-1034)."""
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": {"type": "boolean", "description": "Verified", "default": True},
        },
    }
    result = await _elicit(ctx, "Please provide user information", schema)
    return f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}"


@server.tool()
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Elicitation with the five enum shapes of SEP-1330."""
    schema = {
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {
                "type": "string",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"},
                ],
            },
            "legacyEnum": {
                "type": "string",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
            },
            "titledMulti": {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"},
                    ]
                },
            },
        },
    }
    result = await _elicit(ctx, "Please select options", schema)
    return f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}"


@server.tool()
async def test_reconnection(ctx: Context) -> str:
    """Closes the SSE stream mid-call; the client resumes with Last-Event-ID (SEP-1699)."""
    await ctx.info("Before disconnect")
    await ctx.close_sse_stream()
    await asyncio.sleep(0.2)
    await ctx.info("After reconnect")
    return "Reconnection test completed"


# The schema the json-schema-2020-12 scenario looks for in tools/list, keyword for keyword
# (0.2.0-alpha.12's, a superset of 0.1.16's: $anchor, allOf/anyOf, if/then/else).
JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def json_schema_2020_12_tool() -> str:
    """Tool with JSON Schema 2020-12 features"""
    return "ok"


# The decorator derives inputSchema from the signature; this fixture needs it verbatim.
server.add_tool(json_schema_2020_12_tool, name="json_schema_2020_12_tool")
server._tool_manager.get_tool("json_schema_2020_12_tool").parameters = JSON_SCHEMA_2020_12  # type: ignore[union-attr]


@server.tool()
def test_custom_headers(
    region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})],
    query: str,
) -> str:
    """A parameter the client mirrors into an Mcp-Param-Region header (SEP-2243)."""
    return f"region={region} query={query}"


# ---- resources -----------------------------------------------------------------------------


@server.resource("test://static-text", mime_type="text/plain", description="A static text")
def static_text() -> str:
    return "This is the content of the static text resource."


@server.resource("test://static-binary", mime_type="image/png", description="A 1x1 PNG")
def static_binary() -> bytes:
    return base64.b64decode(PNG_1X1)


@server.resource(
    "test://template/{id}/data", mime_type="application/json", description="Data for an id"
)
def template_data(id: str) -> str:
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})


@server.resource("test://watched-resource", mime_type="text/plain", description="Subscribable")
def watched() -> str:
    return "Watched resource content"


async def _subscribe(ctx: Any, params: t.SubscribeRequestParams) -> t.EmptyResult:
    subscriptions.add(str(params.uri))
    return t.EmptyResult()


async def _unsubscribe(ctx: Any, params: t.UnsubscribeRequestParams) -> t.EmptyResult:
    subscriptions.discard(str(params.uri))
    return t.EmptyResult()


async def _set_level(ctx: Any, params: t.SetLevelRequestParams) -> t.EmptyResult:
    return t.EmptyResult()


_lowlevel = server._lowlevel_server
_lowlevel.add_request_handler("resources/subscribe", t.SubscribeRequestParams, _subscribe)
_lowlevel.add_request_handler("resources/unsubscribe", t.UnsubscribeRequestParams, _unsubscribe)
_lowlevel.add_request_handler("logging/setLevel", t.SetLevelRequestParams, _set_level)


# ---- prompts -------------------------------------------------------------------------------


@server.prompt()
def test_simple_prompt() -> list[UserMessage]:
    """A prompt without arguments."""
    return [UserMessage(content="This is a simple prompt for testing.")]


@server.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
    """A prompt with two required arguments."""
    return [UserMessage(content=f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")]


@server.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
    """A prompt embedding a resource."""
    resource = t.TextResourceContents(
        uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
    )
    return [
        UserMessage(content=t.EmbeddedResource(type="resource", resource=resource)),
        UserMessage(content="Please process the embedded resource above."),
    ]


@server.prompt()
def test_prompt_with_image() -> list[UserMessage]:
    """A prompt with an image."""
    return [
        UserMessage(content=t.ImageContent(type="image", data=PNG_1X1, mime_type="image/png")),
        UserMessage(content="Please analyze the image above."),
    ]


# ---- 2026-07-28: multi-round requests (SEP-2322 InputRequiredResult) ------------------------
# A tool asks for client input by returning InputRequiredResult; the client retries the call
# with inputResponses (and the requestState echoed). The SDK seals requestState, so a tampered
# state is refused before the tool runs.


def _ask_name(message: str = "What is your name?", field: str = "name") -> t.ElicitRequest:
    schema = {"type": "object", "properties": {field: {"type": "string"}}, "required": [field]}
    params = t.ElicitRequestFormParams(message=message, requested_schema=schema)
    return t.ElicitRequest(params=params)


def _ask_llm(text: str, max_tokens: int) -> t.CreateMessageRequest:
    msg = t.SamplingMessage(role="user", content=t.TextContent(type="text", text=text))
    return t.CreateMessageRequest(
        params=t.CreateMessageRequestParams(messages=[msg], max_tokens=max_tokens)
    )


def _need(requests: dict[str, Any], state: str | None = None) -> t.InputRequiredResult:
    return t.InputRequiredResult(input_requests=requests, request_state=state)


def _answers(ctx: Context, *keys: str) -> dict[str, Any] | None:
    """The client's responses when every key is answered, else None (ask again)."""
    got = ctx.input_responses or {}
    return dict(got) if all(k in got for k in keys) else None


def _content(resp: Any) -> dict[str, Any]:
    return dict(getattr(resp, "content", None) or {})


def _sampled(resp: Any) -> str:
    return str(getattr(getattr(resp, "content", None), "text", "") or "")


@server.tool()
async def test_input_required_result_elicitation(ctx: Context) -> Any:
    """Asks the user's name through an InputRequiredResult, then greets."""
    if (got := _answers(ctx, "user_name")) is None:
        return _need({"user_name": _ask_name()})
    return f"Hello, {_content(got['user_name']).get('name', 'unknown')}!"


@server.tool()
async def test_input_required_result_sampling(ctx: Context) -> Any:
    """Asks the client's LLM through an InputRequiredResult."""
    if (got := _answers(ctx, "capital_question")) is None:
        return _need({"capital_question": _ask_llm("What is the capital of France?", 100)})
    return f"LLM said: {_sampled(got['capital_question'])}"


@server.tool()
async def test_input_required_result_list_roots(ctx: Context) -> Any:
    """Asks for the client's roots through an InputRequiredResult."""
    if (got := _answers(ctx, "client_roots")) is None:
        return _need({"client_roots": t.ListRootsRequest()})
    roots = [str(r.uri) for r in getattr(got["client_roots"], "roots", [])]
    return f"Client roots: {', '.join(roots) or '(none)'}"


@server.tool()
async def test_input_required_result_request_state(ctx: Context) -> Any:
    """Round-trips requestState; the final text says state-ok when it came back intact."""
    if (got := _answers(ctx, "confirm")) is None or ctx.request_state != "confirm-round-1":
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
        ask = t.ElicitRequest(
            params=t.ElicitRequestFormParams(message="Please confirm", requested_schema=schema)
        )
        return _need({"confirm": ask}, "confirm-round-1")
    return f"state-ok: confirmed={_content(got['confirm']).get('ok')}"


@server.tool()
async def test_input_required_result_multiple_inputs(ctx: Context) -> Any:
    """Asks for an elicitation, a sampling and the roots at once."""
    keys = ("user_name", "greeting", "client_roots")
    if _answers(ctx, *keys) is None or ctx.request_state != "multi-1":
        requests = {
            "user_name": _ask_name(),
            "greeting": _ask_llm("Generate a greeting", 50),
            "client_roots": t.ListRootsRequest(),
        }
        return _need(requests, "multi-1")
    return "All inputs received"


@server.tool()
async def test_input_required_result_multi_round(ctx: Context) -> Any:
    """Two rounds of elicitation, the requestState naming the round."""
    if ctx.request_state == "round-2" and _answers(ctx, "step2"):
        return "Both steps completed"
    if ctx.request_state == "round-1" and _answers(ctx, "step1"):
        color = _ask_name("Step 2: What is your favorite color?", "color")
        return _need({"step2": color}, "round-2")
    return _need({"step1": _ask_name("Step 1: What is your name?")}, "round-1")


@server.tool()
async def test_input_required_result_tampered_state(ctx: Context) -> Any:
    """Issues a requestState; the SDK's sealing rejects a modified one before this runs."""
    if ctx.request_state == "untampered" and _answers(ctx, "confirm"):
        return "state verified"
    return _need({"confirm": _ask_name("Confirm?", "ok")}, "untampered")


@server.tool()
async def test_input_required_result_capabilities(ctx: Context) -> Any:
    """Asks only for what the client declared it can answer (sampling and/or elicitation)."""
    caps = ctx.client_capabilities
    requests: dict[str, Any] = {}
    if caps is not None and caps.sampling is not None:
        requests["question"] = _ask_llm("Say hello", 20)
    if caps is not None and caps.elicitation is not None:
        requests["user_name"] = _ask_name()
    if not requests or _answers(ctx, *requests):
        return "done"
    return _need(requests)


@server.tool()
async def test_missing_capability(ctx: Context) -> Any:
    """Needs the client's sampling capability: without it, -32021 naming what is missing."""
    caps = ctx.client_capabilities
    if caps is None or caps.sampling is None:
        raise MCPError(
            code=t.MISSING_REQUIRED_CLIENT_CAPABILITY,
            message="this tool needs the client's sampling capability",
            data={"requiredCapabilities": {"sampling": {}}},
        )
    if (got := _answers(ctx, "sample")) is None:
        return _need({"sample": _ask_llm("Say hello", 20)})
    return f"LLM said: {_sampled(got['sample'])}"


def _changed_tool() -> str:
    """Added and removed by test_trigger_tool_change."""
    return "changed"


def _changed_prompt() -> str:
    """Added and removed by test_trigger_prompt_change."""
    return "changed"


@server.tool()
async def test_trigger_tool_change(ctx: Context) -> str:
    """Adds or removes a tool, then notifies subscribers (notifications/tools/list_changed)."""
    if "test_changed_tool" in {tool.name for tool in await server.list_tools()}:
        server.remove_tool("test_changed_tool")
    else:
        server.add_tool(_changed_tool, name="test_changed_tool")
    await ctx.notify_tools_changed()
    return "tool list changed"


@server.tool()
async def test_trigger_prompt_change(ctx: Context) -> str:
    """Adds or removes a prompt, then notifies subscribers (notifications/prompts/list_changed)."""
    if "test_changed_prompt" in {p.name for p in await server.list_prompts()}:
        server.remove_prompt("test_changed_prompt")
    else:
        server.prompt(name="test_changed_prompt")(_changed_prompt)
    await ctx.notify_prompts_changed()
    return "prompt list changed"


@server.prompt()
async def test_input_required_result_prompt(ctx: Context) -> Any:
    """A prompt that first asks the user for its context (InputRequiredResult on prompts/get)."""
    if (got := _answers(ctx, "user_context")) is None:
        ask = _ask_name("What context should the prompt use?", "context")
        return _need({"user_context": ask})
    return [UserMessage(content=f"Context: {_content(got['user_context']).get('context')}")]


@server.completion()
async def complete(ref: Any, argument: Any, context: Any) -> t.Completion:
    return t.Completion(values=[], total=0, has_more=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], default="http")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run(transport="stdio")
    else:
        server.run(
            transport="streamable-http",
            host=args.host,
            port=args.port,
            event_store=MemoryEventStore(),
            retry_interval=100,  # ms: how soon a client reconnects after test_reconnection
        )


if __name__ == "__main__":
    main()
