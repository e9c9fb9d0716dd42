"""The MCP conformance suite's server fixtures, served by fasterapi.mcp.

Every tool, resource and prompt that `npx @modelcontextprotocol/conformance server --url ...`
calls (test_simple_text, test://static-text, test_simple_prompt, ...), written with the
SDK-style decorators. tests/python/mcp/conformance/run_conformance.py starts it:

    python3 examples/mcp/conformance_server.py --transport http --port 3001   # /mcp
    python3 examples/mcp/conformance_server.py --transport stdio
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from typing import Annotated, Any

from pydantic import Field

from fasterapi.mcp import (
    TASK_OPTIONAL,
    TASK_REQUIRED,
    Context,
    CreateTaskResult,
    InputRequiredResult,
    McpError,
    MCPServer,
    ServerTaskContext,
    ToolError,
    ToolExecution,
)

Block = dict[str, Any]  # a content block exactly as the spec's schema spells it

# A 1x1 PNG and a 1-sample WAV: the smallest valid media the scenarios accept.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV_TINY = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

# The server itself must answer resources/subscribe, resources/unsubscribe and logging/setLevel:
# the SDK-style API has no decorator for them. completion/complete is registered at the bottom.
server = MCPServer(name="fasterapi-conformance", version="1.0.0")


# ---- tools ---------------------------------------------------------------------------------


@server.tool()
def test_simple_text() -> str:
    """Returns one text block."""
    return "This is a simple text response for testing."


IMAGE: Block = {"type": "image", "data": PNG_1X1, "mimeType": "image/png"}


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def embedded(uri: str, mime_type: str, value: str) -> Block:
    return {"type": "resource", "resource": {"uri": uri, "mimeType": mime_type, "text": value}}


@server.tool()
def test_image_content() -> list[Block]:
    """Returns one PNG image block."""
    return [IMAGE]


@server.tool()
def test_audio_content() -> list[Block]:
    """Returns one WAV audio block."""
    return [{"type": "audio", "data": WAV_TINY, "mimeType": "audio/wav"}]


@server.tool()
def test_embedded_resource() -> list[Block]:
    """Returns an embedded text resource."""
    return [
        embedded("test://embedded-resource", "text/plain", "This is an embedded resource content.")
    ]


@server.tool()
def test_multiple_content_types() -> list[Block]:
    """Returns text, image and an embedded resource."""
    payload = json.dumps({"test": "data", "value": 123})
    return [
        text("Multiple content types test:"),
        IMAGE,
        embedded("test://mixed-content-resource", "application/json", payload),
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
    # A server-to-client request on the request's own stream (2025-11-25 client/sampling.mdx).
    result = await ctx.sample(prompt, max_tokens=100)
    return f"LLM response: {result.content.text if result.content else 'No response'}"


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> Any:
    return await ctx.elicit(message, schema)


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
    await ctx.close_sse_stream()  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)
    await ctx.info("After reconnect")
    return "Reconnection test completed"


@server.tool()
def test_custom_headers(
    region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})],
    query: str,
) -> str:
    """A parameter the client mirrors into an Mcp-Param-Region header (SEP-2243)."""
    return f"region={region} query={query}"


# The decorator derives inputSchema from the signature; this fixture advertises one verbatim.
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


@server.tool(input_schema=JSON_SCHEMA_2020_12)
def json_schema_2020_12_tool() -> str:
    """Tool with JSON Schema 2020-12 features"""
    return "ok"


# ---- 2026-07-28: multi-round requests (SEP-2322 InputRequiredResult) ------------------------
# ctx.elicit / ctx.sample / ctx.list_roots answer from the client's inputResponses; one not
# answered yet ends the call with an InputRequiredResult (its key names it), and the client's
# retry replays the tool with the answers so far, sealed in requestState.

NAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}


@server.tool()
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """Asks the user's name, then greets."""
    got = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return f"Hello, {(got.content or {}).get('name', 'unknown')}!"


@server.tool()
async def test_input_required_result_sampling(ctx: Context) -> str:
    """Asks the client's LLM."""
    got = await ctx.sample("What is the capital of France?", max_tokens=100, key="capital_question")
    return f"LLM said: {got.content.text if got.content else ''}"


@server.tool()
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """Asks for the client's roots."""
    got = await ctx.list_roots(key="client_roots")
    return f"Client roots: {', '.join(r.uri for r in got.roots or []) or '(none)'}"


@server.tool()
async def test_input_required_result_request_state(ctx: Context) -> Any:
    """Round-trips its own requestState; says state-ok when it came back verified."""
    got = (ctx.input_responses or {}).get("confirm")
    if got is None or ctx.request_state != "confirm-round-1":
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
        ask = {"method": "elicitation/create",
               "params": {"message": "Please confirm", "requestedSchema": schema}}
        return InputRequiredResult({"confirm": ask}, "confirm-round-1")
    return f"state-ok: confirmed={(got.content or {}).get('ok')}"


@server.tool()
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Asks for an elicitation, a sampling and the roots at once."""
    await asyncio.gather(
        ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name"),
        ctx.sample("Generate a greeting", max_tokens=50, key="greeting"),
        ctx.list_roots(key="client_roots"),
    )
    return "All inputs received"


@server.tool()
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """Two rounds of elicitation: the second is asked once the first is answered."""
    await ctx.elicit("Step 1: What is your name?", NAME_SCHEMA, key="step1")
    color = {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}
    await ctx.elicit("Step 2: What is your favorite color?", color, key="step2")
    return "Both steps completed"


@server.tool()
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Issues a requestState; a modified one is refused (-32602) before this runs again."""
    await ctx.elicit("Confirm?", NAME_SCHEMA, key="confirm")
    return "state verified"


@server.tool()
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """Asks only for what the client declared it can answer (sampling and/or elicitation)."""
    caps = ctx.client_capabilities
    if caps is not None and caps.sampling is not None:
        await ctx.sample("Say hello", max_tokens=20, key="question")
    if caps is not None and caps.elicitation is not None:
        await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return "done"


@server.tool()
async def test_missing_capability(ctx: Context) -> str:
    """Needs the client's sampling capability: without it, -32021 naming what is missing."""
    got = await ctx.sample("Say hello", max_tokens=20, key="sample")
    return f"LLM said: {got.content.text if got.content else ''}"


@server.tool()
async def test_logging_tool(ctx: Context) -> str:
    """Logs at info: a 2026-07-28 request that set no logLevel must see no notifications/message."""
    await ctx.info("test_logging_tool ran")
    return "logged"


@server.tool()
async def test_streaming_elicitation(ctx: Context) -> str:
    """Asks the user for input: 2026-07-28 answers with an InputRequiredResult, never a request."""
    got = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return f"Hello, {(got.content or {}).get('name', 'unknown')}!"


def _changed() -> str:
    """Added and removed by test_trigger_tool_change / test_trigger_prompt_change."""
    return "changed"


@server.tool()
async def test_trigger_tool_change() -> str:
    """Adds or removes a tool; listening clients get notifications/tools/list_changed."""
    try:
        server.remove_tool("test_changed_tool")
    except KeyError:
        server.add_tool(_changed, name="test_changed_tool")
    return "tool list changed"


@server.tool()
async def test_trigger_prompt_change() -> str:
    """Adds or removes a prompt; listening clients get notifications/prompts/list_changed."""
    try:
        server.remove_prompt("test_changed_prompt")
    except KeyError:
        server.prompt(name="test_changed_prompt")(_changed)
    return "prompt list changed"


@server.prompt()
async def test_input_required_result_prompt(ctx: Context) -> list[Block]:
    """A prompt that first asks the user for its context (InputRequiredResult on prompts/get)."""
    schema = {"type": "object", "properties": {"context": {"type": "string"}}}
    got = await ctx.elicit("What context should the prompt use?", schema, key="user_context")
    return [user(text(f"Context: {(got.content or {}).get('context')}"))]


# ---- tasks extension (SEP-2663; the 0.2.0 suite's tasks-* scenarios) -----------------------

OPTIONAL_TASK = ToolExecution(taskSupport=TASK_OPTIONAL)
CONFIRM_SCHEMA = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean"}, "name": {"type": "string"}},
}


@server.tool()
def greet(name: str) -> str:
    """Sync-only: never a task."""
    return f"Hello, {name}!"


@server.tool(execution=OPTIONAL_TASK)
async def slow_compute(seconds: float, label: str = "") -> str:
    """Sleeps `seconds`, then answers; a task for clients that declared the extension."""
    await asyncio.sleep(seconds)
    return f"computed {label} in {seconds:g} s"


@server.tool(execution=ToolExecution(taskSupport=TASK_REQUIRED))
async def failing_job() -> str:
    """Only ever a task; fails as a tool (isError) after a moment."""
    await asyncio.sleep(0.5)
    raise ToolError("the job failed")


@server.tool(execution=OPTIONAL_TASK)
async def protocol_error_job() -> str:
    """Fails with a JSON-RPC error: the task ends failed."""
    await asyncio.sleep(0.1)
    raise McpError("internal failure in protocol_error_job", -32603)


@server.tool(execution=OPTIONAL_TASK)
async def confirm_delete(filename: str, ctx: Context) -> str:
    """Asks for confirmation (the task is input_required until tasks/update answers)."""
    got = await ctx.elicit(f"Delete {filename}?", CONFIRM_SCHEMA)
    confirmed = got.action == "accept" and (got.content or {}).get("confirm")
    return f"Deleted {filename}" if confirmed else f"Kept {filename}"


@server.tool(execution=OPTIONAL_TASK)
async def multi_input(ctx: Context) -> str:
    """Two asks at once: two inputRequests pending together."""
    first, second = await asyncio.gather(
        ctx.elicit("First input?", CONFIRM_SCHEMA), ctx.elicit("Second input?", CONFIRM_SCHEMA)
    )
    names = [(r.content or {}).get("name", "?") for r in (first, second)]
    return "Got " + " and ".join(names)


@server.tool(execution=ToolExecution(taskSupport=TASK_REQUIRED))
async def test_tool_with_task(ctx: Context) -> CreateTaskResult:
    """Asks the user's name synchronously (InputRequiredResult), then runs as a task."""
    got = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    name = (got.content or {}).get("name", "unknown")

    async def work(task: ServerTaskContext) -> str:
        await task.update_status(f"greeting {name}")
        return f"Hello, {name}! (from task {task.task_id})"

    return await ctx.experimental.run_task(work)


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


# ---- prompts (messages as the spec's PromptMessage dicts) ---------------------------------


def user(content: Block) -> Block:
    return {"role": "user", "content": content}


@server.prompt()
def test_simple_prompt() -> list[Block]:
    """A prompt without arguments."""
    return [user(text("This is a simple prompt for testing."))]


@server.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> list[Block]:
    """A prompt with two required arguments."""
    return [user(text(f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))]


@server.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> list[Block]:
    """A prompt embedding a resource."""
    return [
        user(embedded(resourceUri, "text/plain", "Embedded resource content for testing.")),
        user(text("Please process the embedded resource above.")),
    ]


@server.prompt()
def test_prompt_with_image() -> list[Block]:
    """A prompt with an image."""
    return [user(IMAGE), user(text("Please analyze the image above."))]


async def complete(ref: Any, argument: Any, context: Any) -> dict[str, Any]:
    """completion/complete: the scenario needs the capability and a well-formed empty answer."""
    return {"values": [], "total": 0, "hasMore": False}


if hasattr(server, "completion"):  # the SDK's @server.completion(); without it the server answers
    server.completion()(complete)


def main() -> None:
    parser = argparse.ArgumentParser(description="MCP conformance fixtures (fasterapi.mcp)")
    parser.add_argument("--transport", choices=["stdio", "http"], default="http")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run(transport="stdio")
    else:
        server.run(transport="http", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
