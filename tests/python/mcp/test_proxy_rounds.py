"""MCPProxy between a 2025-11-25 client and a 2026-07-28 upstream that asks for input with
InputRequiredResult rounds (SEP-2322, 2026-07-28 basic/patterns/mrtr.mdx). The legacy client is
served as its revision says (2026-07-28 basic/versioning.mdx, dual-era servers): each input
request reaches it as the server-to-client request it names (elicitation/create,
sampling/createMessage, roots/list) on its call's stream, and the proxy retries upstream with
inputResponses and the requestState until the upstream answers.

Judged by the official SDK's client (mcp 2.x) in its 2025-11-25 mode, over Streamable HTTP and
over stdio (examples/mcp/proxy_server.py spawned by it), in front of the conformance fixtures'
input-round tools served by our MCPServer and by the official SDK's reference server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import require_module

mcp = require_module("mcp")

import mcp.types as t  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_helpers import ROOT, HttpServerProcess, run, serving  # noqa: E402

from fasterapi.mcp import MCPProxy  # noqa: E402
from fasterapi.mcp.proxy import Upstream  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SERVERS = {
    "ours": ROOT / "examples" / "mcp" / "conformance_server.py",
    "sdk": ROOT / "tests" / "python" / "mcp" / "conformance" / "sdk_reference_server.py",
}
PROXY_EXAMPLE = ROOT / "examples" / "mcp" / "proxy_server.py"


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, str]]:
    """The conformance fixtures over Streamable HTTP: ours and the official SDK's."""
    with (
        HttpServerProcess(SERVERS["ours"], flag_args=True) as ours,
        HttpServerProcess(SERVERS["sdk"], flag_args=True) as sdk,
    ):
        yield {"ours": ours.url, "sdk": sdk.url}


class Answers:
    """The legacy client's callbacks, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def elicit(self, context: Any, params: t.ElicitRequestParams) -> t.ElicitResult:
        assert isinstance(params, t.ElicitRequestFormParams), params
        self.asked.append(("elicitation/create", params.message))
        schema = params.requested_schema
        props = schema["properties"] if isinstance(schema, dict) else schema.properties
        field = next(iter(props))
        return t.ElicitResult(action="accept", content={field: "Ada", "ok": True})

    async def sample(
        self, context: Any, params: t.CreateMessageRequestParams
    ) -> t.CreateMessageResult:
        self.asked.append(("sampling/createMessage", ""))
        return t.CreateMessageResult(
            role="assistant", content=t.TextContent(type="text", text="Paris"), model="m"
        )

    async def roots(self, context: Any) -> t.ListRootsResult:
        self.asked.append(("roots/list", ""))
        return t.ListRootsResult(roots=[t.Root(uri="file:///work", name="work")])

    def client(self, server: Any) -> Client:
        return Client(
            server,
            mode="legacy",
            elicitation_callback=self.elicit,
            sampling_callback=self.sample,
            list_roots_callback=self.roots,
        )


async def check_rounds(client: Client, answers: Answers, prefix: str) -> None:
    assert client.protocol_version == "2025-11-25"

    async def text(name: str) -> str:
        result = await client.call_tool(prefix + name, {})
        assert not result.is_error, result
        return str(result.content[0].text)  # type: ignore[union-attr]

    assert await text("test_input_required_result_elicitation") == "Hello, Ada!"
    assert answers.asked == [("elicitation/create", "What is your name?")]
    assert await text("test_input_required_result_sampling") == "LLM said: Paris"
    assert await text("test_input_required_result_list_roots") == "Client roots: file:///work"
    # The upstream's own requestState comes back to it byte for byte.
    assert await text("test_input_required_result_request_state") == "state-ok: confirmed=True"
    answers.asked.clear()
    # Three requests in one round: all asked before the one retry.
    assert await text("test_input_required_result_multiple_inputs") == "All inputs received"
    assert sorted(m for m, _ in answers.asked) == [
        "elicitation/create",
        "roots/list",
        "sampling/createMessage",
    ]
    answers.asked.clear()
    # Two rounds, the second asked once the first was answered.
    assert await text("test_input_required_result_multi_round") == "Both steps completed"
    assert [m for _, m in answers.asked] == [
        "Step 1: What is your name?",
        "Step 2: What is your favorite color?",
    ]
    prompt = await client.get_prompt(prefix + "test_input_required_result_prompt")
    assert "Ada" in prompt.model_dump_json()


@pytest.mark.parametrize("upstream", ["ours", "sdk"])
def test_legacy_client_over_http_answers_a_2026_upstreams_rounds(
    upstreams: dict[str, str], upstream: str
) -> None:
    answers = Answers()

    async def main() -> None:
        proxy = MCPProxy(upstreams={"up": Upstream(url=upstreams[upstream], era="auto")})
        async with serving(proxy) as url, answers.client(url) as client:
            assert proxy.status()["up"]["era"] == "2026-07-28"
            await check_rounds(client, answers, "up__")

    run(main(), 90)


def test_legacy_client_over_stdio_answers_a_2026_upstreams_rounds() -> None:
    """The proxy as a stdio server (one channel for every request to the client)."""
    answers = Answers()

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=[str(PROXY_EXAMPLE), f"up={sys.executable} {SERVERS['ours']} --transport stdio"],
        )
        async with answers.client(params) as client:
            await check_rounds(client, answers, "up__")

    run(main(), 90)


def test_a_legacy_client_without_the_capability_is_not_asked(upstreams: dict[str, str]) -> None:
    """The proxy passes the client's initialize capabilities upstream as its _meta
    clientCapabilities: the upstream then asks only for what the client declared, and a client
    that declared nothing is never sent a request."""

    async def main() -> None:
        proxy = MCPProxy(upstreams={"up": Upstream(url=upstreams["ours"], era="auto")})
        async with serving(proxy) as url, Client(url, mode="legacy") as client:
            result = await client.call_tool("up__test_input_required_result_capabilities", {})
            assert result.content[0].text == "done"  # type: ignore[union-attr]
            # A tool that asks anyway: the call fails with the reason, the client is not asked.
            with pytest.raises(MCPError) as err:
                await client.call_tool("up__test_input_required_result_elicitation", {})
            assert err.value.error.code in (-32603, -32021), err.value.error
            assert "elicitation" in err.value.error.message + str(err.value.error.data)

    run(main(), 60)
