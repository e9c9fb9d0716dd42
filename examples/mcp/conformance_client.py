"""The official MCP conformance suite's client scenarios, run with fasterapi.mcp.MCPClient.

The suite starts a mock server per scenario and runs `python3 conformance_client.py <url>` with
MCP_CONFORMANCE_SCENARIO set (and MCP_CONFORMANCE_CONTEXT: JSON credentials for the auth/*
scenarios that pre-register the client, the tool calls to make for http-custom-headers); see
tests/python/mcp/conformance/README.md. Exits 0 when the scenario's steps ran, 1 on an error
(the suite's checks judge the rest).

What the scenarios check is MCPClient's own behaviour; the steps here only drive it: the
Mcp-Param-* headers of http-custom-headers and the tools left out in http-invalid-tool-headers
(SEP-2243), the InputRequiredResult rounds of sep-2322-client-request-state (answered by
`accept` below, as the client's elicitation callback), the schema a tools/list returned, echoed
back unchanged, in json-schema-2020-12-preservation.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.parse
from typing import Any

import httpx

from fasterapi.mcp import MCPClient, MCPError
from fasterapi.mcp.client_auth import (
    ClientCredentialsProvider,
    EnterpriseAuthProvider,
    JwtBearerProvider,
    OAuthClientProvider,
    OAuthError,
)

REDIRECT_URI = "http://localhost:3000/callback"
CIMD_URL = "https://conformance-test.local/client-metadata.json"


async def accept(params: dict[str, Any]) -> dict[str, Any]:
    """Accepts every elicitation with no fields filled in: MCPClient adds the schema's defaults
    (SEP-1034)."""
    return {"action": "accept", "content": {}}


class AutoApprove:
    """The user of the fixture: opens the authorization URL (the mock authorization server
    approves at once and redirects to redirect_uri) and reads code and state off the redirect."""

    def __init__(self) -> None:
        self.location = ""

    async def redirect(self, url: str) -> None:
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
            r = await http.get(url)
        self.location = r.headers.get("location", "")

    async def callback(self) -> tuple[str, str | None, str | None]:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.location).query)
        if "code" not in q:
            raise OAuthError(f"no code in the authorization redirect {self.location!r}")
        return q["code"][0], q.get("state", [None])[0], q.get("iss", [None])[0]


def make_auth(url: str, scenario: str) -> OAuthClientProvider | None:
    if not scenario.startswith("auth/"):
        return None
    ctx: dict[str, Any] = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    if scenario.startswith("auth/client-credentials"):
        return ClientCredentialsProvider(
            url,
            ctx["client_id"],
            client_secret=ctx.get("client_secret"),
            private_key_pem=ctx.get("private_key_pem"),
            signing_algorithm=ctx.get("signing_algorithm", "ES256"),
        )
    if "idp_id_token" in ctx:  # SEP-990: the user's IdP session is the starting point
        return EnterpriseAuthProvider(
            url,
            ctx["client_id"],
            client_secret=ctx.get("client_secret"),
            idp_token_endpoint=ctx["idp_token_endpoint"],
            idp_client_id=ctx["idp_client_id"],
            id_token=ctx["idp_id_token"],
        )
    if scenario == "auth/wif-jwt-bearer":  # the workload's JWT comes from its platform
        return JwtBearerProvider(url, ctx["client_id"], ctx["valid_jwt"])
    fixture = AutoApprove()
    return OAuthClientProvider(
        url,
        {"client_name": "fasterapi-conformance-client", "redirect_uris": [REDIRECT_URI]},
        redirect_handler=fixture.redirect,
        callback_handler=fixture.callback,
        client_id=ctx.get("client_id"),
        client_secret=ctx.get("client_secret"),
        client_metadata_url=CIMD_URL,
    )


async def run(url: str, scenario: str) -> None:
    ctx: dict[str, Any] = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    client = MCPClient.http(
        url,
        client_info={"name": "fasterapi-conformance-client", "version": "1.0.0"},
        elicitation_callback=accept,
        read_timeout=20,
        protocol="auto",
        auth=make_auth(url, scenario),
    )
    async with client as c:
        tools = (await c.list_tools())["tools"]
        names = [t["name"] for t in tools]
        if scenario == "initialize":
            return
        if scenario == "tools_call" or "add_numbers" in names:
            result = await c.call_tool("add_numbers", {"a": 5, "b": 3})
            print(result["content"][0]["text"])
            return
        if ctx.get("toolCalls"):  # http-custom-headers: the calls and arguments it names
            for call in ctx["toolCalls"]:
                result = await c.call_tool(call["name"], call.get("arguments") or {})
                print(call["name"], "->", result.get("content"))
            return
        if scenario == "json-schema-2020-12-preservation":
            # The focal tool's inputSchema as listed, back through the echo tool.
            focal = next(t for t in tools if t["name"] == "json_schema_2020_12_tool")
            await c.call_tool("json_schema_echo", {"schema": focal["inputSchema"]})
            return
        if scenario == "sep-2322-client-request-state":
            # All at once: each call's InputRequiredResult rounds stay its own (an unrelated
            # call in flight meanwhile carries no inputResponses or requestState).
            results = await asyncio.gather(*(c.call_tool(n, {}) for n in names))
            for name, result in zip(names, results, strict=True):
                print(name, "->", result.get("content"))
            return
        # elicitation-sep1034-client-defaults, sse-retry, and any other: call what is offered.
        for name in names:
            result = await c.call_tool(name, {})
            print(name, "->", result.get("content"))


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: conformance_client.py <server-url>", file=sys.stderr)
        return 2
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    try:
        asyncio.run(run(sys.argv[1], scenario))
    except (MCPError, OAuthError) as e:
        cause = f" (after {e.__cause__!r})" if e.__cause__ is not None else ""
        print(f"{scenario}: {e!r}{cause}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
