"""MCPClient in the 2026-07-28 era, beyond the handshake: the Mcp-Param-* headers a tool's
`x-mcp-header` annotations ask for and the tools/list entries whose annotations are invalid
(SEP-2243, basic/transports/streamable-http.mdx "Custom Headers from Tool Parameters"), and the
InputRequiredResult rounds of a tools/call, prompts/get or resources/read answered through the
client's callbacks (SEP-2322, basic/patterns/mrtr.mdx).

Judged by our own MCPServer (examples/mcp/conformance_server.py, and servers defined here), the
official SDK's server (tests/python/mcp/conformance/sdk_reference_server.py) -- both refuse a
call whose Mcp-Param-* headers do not match its arguments -- and a recording HTTP server that
shows the exact headers sent."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import require_module
from mcp_helpers import ROOT, HttpServerProcess, run, serving

from fasterapi.mcp import Context, InputRequiredResult, MCPClient, MCPError, MCPServer
from fasterapi.mcp.client import InputRequiredRoundsExceededError
from fasterapi.mcp.client_headers import header_map, invalid_reason, param_headers

PY = sys.executable
SERVERS = {
    "fasterapi": ROOT / "examples" / "mcp" / "conformance_server.py",
    "sdk": ROOT / "tests" / "python" / "mcp" / "conformance" / "sdk_reference_server.py",
}

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", params=sorted(SERVERS))
def fixture_server(request: Any) -> Iterator[str]:
    """The conformance fixtures over Streamable HTTP: ours, then the official SDK's."""
    with HttpServerProcess(SERVERS[request.param], flag_args=True) as server:
        yield server.url


# ---- x-mcp-header rules (client_headers) ------------------------------------------------------


def _schema(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def _h(kind: str, name: Any) -> dict[str, Any]:
    return {"type": kind, "x-mcp-header": name}


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (_schema(v=_h("string", "")), "not an HTTP field-name token"),
        (_schema(v=_h("string", "My Region")), "not an HTTP field-name token"),
        (_schema(v=_h("string", "Region:Primary")), "not an HTTP field-name token"),
        (_schema(v=_h("string", "Région")), "not an HTTP field-name token"),
        (_schema(v=_h("string", "Region\t1")), "not an HTTP field-name token"),
        (_schema(v=_h("string", "A\r\nB")), "not an HTTP field-name token"),
        (_schema(v=_h("string", 7)), "not a string"),
        (_schema(v=_h("number", "Score")), "needs type string, integer or boolean"),
        (_schema(v=_h("object", "Data")), "needs type string, integer or boolean"),
        (_schema(v=_h("array", "Items")), "needs type string, integer or boolean"),
        (_schema(v=_h("null", "Nil")), "needs type string, integer or boolean"),
        (_schema(v={"x-mcp-header": "Untyped"}), "needs type string, integer or boolean"),
        (_schema(a=_h("string", "Region"), b=_h("string", "Region")), "repeats"),
        (_schema(a=_h("string", "MyField"), b=_h("string", "myfield")), "repeats"),
        # Off the pure `properties` chain: under items, composition, conditionals, $defs.
        ({"type": "array", "items": _schema(v=_h("string", "V"))}, "not reachable"),
        ({"allOf": [_schema(v=_h("string", "V"))]}, "not reachable"),
        ({"if": _schema(v=_h("string", "V")), "then": {}}, "not reachable"),
        ({"$defs": {"x": _h("string", "V")}, "properties": {"x": {"$ref": "#/$defs/x"}}}, "not"),
        ({"type": "object", "x-mcp-header": "Root"}, "not reachable"),
        (_schema(a={"type": "array", "items": _h("string", "V")}), "not reachable"),
    ],
)
def test_invalid_annotations_are_named(schema: dict[str, Any], why: str) -> None:
    reason = invalid_reason(schema)
    assert reason is not None and why in reason, reason


def test_valid_annotations_map_and_render() -> None:
    schema = _schema(
        region=_h("string", "Region"),
        priority=_h("integer", "Priority"),
        verbose=_h("boolean", "Verbose"),
        nested=_schema(zone=_h("string", "Zone")),  # a chain of `properties` is fine
        query={"type": "string"},
        ratio={"type": "number"},
    )
    assert invalid_reason(schema) is None
    assert invalid_reason({"type": "object"}) is None and invalid_reason(None) is None
    hmap = header_map(schema)
    assert sorted(hmap) == [
        (("nested", "zone"), "Zone"),
        (("priority",), "Priority"),
        (("region",), "Region"),
        (("verbose",), "Verbose"),
    ]
    args = {"region": "us", "priority": 42.0, "verbose": False, "query": "q", "ratio": 0.5}
    assert sorted(param_headers(hmap, args)) == [
        ("Priority", "42"),
        ("Region", "us"),
        ("Verbose", "false"),
    ]
    # Absent or null: no header. A nested value is read at its path.
    assert param_headers(hmap, {"region": None, "nested": {"zone": "z1"}}) == [("Zone", "z1")]
    with pytest.raises(ValueError, match="outside the integer range"):
        param_headers(hmap, {"priority": 2**53})


# ---- the headers on the wire: a recording server ------------------------------------------------

TOOLS = [
    {
        "name": "annotated",
        "inputSchema": _schema(
            region=_h("string", "Region"),
            priority=_h("integer", "Priority"),
            debug=_h("boolean", "Debug"),
            method=_h("string", "Method"),
            text=_h("string", "Text"),
            empty=_h("string", "Empty"),
            query={"type": "string"},
        ),
    },
    {"name": "bad_number", "inputSchema": _schema(score=_h("number", "Score"))},
    {"name": "bad_duplicate", "inputSchema": _schema(a=_h("string", "X"), b=_h("string", "x"))},
    {"name": "plain", "inputSchema": {"type": "object"}},
]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 request off the stream: its request line, lower-cased headers and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


class Recorder:
    """A 2026-07-28 server in a few lines: answers server/discover, tools/list (TOOLS) and
    tools/call, and keeps each request's headers and body."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, str], dict[str, Any]]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line, headers, body = await read_request(reader)
                if not request_line.startswith("POST"):
                    writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    continue
                msg = json.loads(body)
                self.seen.append((headers, msg))
                if "id" not in msg:
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                    continue
                result: dict[str, Any] = {"resultType": "complete"}
                if msg["method"] == "server/discover":
                    result |= {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}
                    result["serverInfo"] = {"name": "recorder", "version": "1"}
                elif msg["method"] == "tools/list":
                    result["tools"] = TOOLS
                elif msg["method"] == "tools/call":
                    result["content"] = [{"type": "text", "text": "ok"}]
                out = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(out), out)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_param_headers_on_the_wire_and_invalid_tools_left_out() -> None:
    rec = Recorder()

    async def main() -> None:
        srv = await asyncio.start_server(rec.handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/mcp"
        try:
            async with MCPClient.http(url, protocol="modern") as c:
                listed = [t["name"] for t in (await c.list_tools())["tools"]]
                assert listed == ["annotated", "plain"]
                assert set(c.rejected_tools) == {"bad_number", "bad_duplicate"}
                assert "number" in c.rejected_tools["bad_number"]
                with pytest.raises(MCPError, match="left out of tools/list"):
                    await c.call_tool("bad_number", {"score": 1})
                args = {
                    "region": "us-west1",
                    "priority": -7,
                    "debug": True,
                    "method": "m",
                    "text": " Hello, 世界\n",
                    "empty": "",
                    "query": "SELECT 1",
                }
                await c.call_tool("annotated", args)
                await c.call_tool("annotated", {"region": None, "query": "q"})
                await c.call_tool("plain", {"region": "x"})
        finally:
            srv.close()
            await srv.wait_closed()

    run(main())
    calls = [(h, m) for h, m in rec.seen if m.get("method") == "tools/call"]
    assert len(calls) == 3  # the rejected tool was never called
    (h1, _), (h2, _), (h3, _) = calls
    params = {k: v for k, v in h1.items() if k.startswith("mcp-param-")}
    text = base64.b64encode(" Hello, 世界\n".encode()).decode()
    assert params == {
        "mcp-param-region": "us-west1",
        "mcp-param-priority": "-7",
        "mcp-param-debug": "true",
        "mcp-param-method": "m",  # Mcp-Param-Method, not Mcp-Method
        "mcp-param-text": f"=?base64?{text}?=",
        "mcp-param-empty": "=?base64??=",
    }
    assert h1["mcp-method"] == "tools/call" and h1["mcp-name"] == "annotated"
    assert not any(k.startswith("mcp-param-") for k in h2)  # null and absent: omitted
    assert not any(k.startswith("mcp-param-") for k in h3)  # no annotations


def test_legacy_era_lists_every_tool_and_sends_no_param_headers() -> None:
    """x-mcp-header is a 2026-07-28 rule: a 2025-11-25 session keeps the listing as served."""
    server = MCPServer(name="legacy")

    @server.tool(input_schema=_schema(score=_h("number", "Score")))
    def scored(score: float = 0) -> str:
        return "scored"

    async def main() -> None:
        async with serving(server) as url, MCPClient.http(url) as c:
            assert c.protocol_version == "2025-11-25"
            assert [t["name"] for t in (await c.list_tools())["tools"]] == ["scored"]
            assert c.rejected_tools == {}

    run(main())


# ---- against our server and the SDK's -----------------------------------------------------------


def test_custom_headers_accepted_by_the_server(fixture_server: str) -> None:
    """Both servers answer a tools/call whose Mcp-Param-Region is missing or different with
    HeaderMismatch (-32020): these calls pass only with the header mirrored right. A call made
    before tools/list goes out without it, is refused, and is resent after re-listing."""

    async def main() -> None:
        async with MCPClient.http(fixture_server, protocol="modern") as c:
            r = await c.call_tool("test_custom_headers", {"region": "eu-1", "query": "q"})
            assert r["content"][0]["text"] == "region=eu-1 query=q", r
            assert "test_custom_headers" in c._header_maps  # learnt from the re-listing
            r = await c.call_tool("test_custom_headers", {"region": " ünï ", "query": "q"})
            assert r["content"][0]["text"] == "region= ünï  query=q", r

    run(main())


def test_input_required_rounds_through_the_callbacks(fixture_server: str) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(("elicit", params))
        field = next(iter(params["requestedSchema"]["properties"]))
        return {"action": "accept", "content": {field: "Ada", "ok": True}}

    async def sample(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(("sample", params))
        await asyncio.sleep(0.01)
        return {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"}

    client = MCPClient.http(
        fixture_server,
        protocol="modern",
        elicitation_callback=elicit,
        sampling_callback=sample,
        roots=[{"uri": "file:///work", "name": "work"}],
    )

    async def text(coro: Any) -> str:
        r = await coro
        return str(r["content"][0]["text"])

    async def main() -> None:
        async with client as c:
            assert await text(c.call_tool("test_input_required_result_elicitation")) == (
                "Hello, Ada!"
            )
            assert await text(c.call_tool("test_input_required_result_sampling")) == (
                "LLM said: Paris"
            )
            got = await text(c.call_tool("test_input_required_result_list_roots"))
            assert got == "Client roots: file:///work", got
            got = await text(c.call_tool("test_input_required_result_request_state"))
            assert got == "state-ok: confirmed=True", got
            got = await text(c.call_tool("test_input_required_result_multiple_inputs"))
            assert got == "All inputs received", got
            asked.clear()
            got = await text(c.call_tool("test_input_required_result_multi_round"))
            assert got == "Both steps completed", got
            assert [a[1]["message"] for a in asked] == [
                "Step 1: What is your name?",
                "Step 2: What is your favorite color?",
            ]
            prompt = await c.get_prompt("test_input_required_result_prompt")
            assert "Ada" in json.dumps(prompt["messages"]), prompt

    run(main())


def test_input_requests_without_a_callback_fail_the_call(fixture_server: str) -> None:
    async def main() -> None:
        async with MCPClient.http(fixture_server, protocol="modern") as c:
            with pytest.raises(MCPError):
                await c.call_tool("test_input_required_result_elicitation")

    run(main())


# ---- the client's side of the rounds, on a server of our own ------------------------------------


def _ask(message: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean", "default": True}}}
    return {
        "method": "elicitation/create",
        "params": {"message": message, "requestedSchema": schema},
    }


def test_request_state_echoed_only_to_its_own_retry() -> None:
    """The state comes back byte for byte on the retry and only there; a round without one
    sends none; an unrelated call in flight meanwhile carries neither answers nor state; the
    elicitation answer gets the schema's defaults (SEP-1034)."""
    server = MCPServer(name="rounds")
    seen: list[tuple[str, Any, Any]] = []
    gate = asyncio.Event()

    @server.tool()
    async def stateful(ctx: Context) -> Any:
        seen.append(("stateful", ctx.request_state, ctx.input_responses))
        if not ctx.input_responses:
            return InputRequiredResult({"go": _ask("stateful?")}, ' {"opaque": "ünï"} ')
        return "stateful done"

    @server.tool()
    async def stateless(ctx: Context) -> Any:
        seen.append(("stateless", ctx.request_state, ctx.input_responses))
        if not ctx.input_responses:
            return InputRequiredResult({"go": _ask("stateless?")})
        return "stateless done"

    @server.tool()
    async def unrelated(ctx: Context) -> str:
        seen.append(("unrelated", ctx.request_state, ctx.input_responses))
        gate.set()
        return "unrelated done"

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        await gate.wait()  # answer once the unrelated call has run
        return {"action": "accept", "content": {}}

    async def main() -> None:
        async with (
            serving(server) as url,
            MCPClient.http(url, protocol="modern", elicitation_callback=elicit) as c,
        ):
            got = await asyncio.gather(
                c.call_tool("stateful"), c.call_tool("stateless"), c.call_tool("unrelated")
            )
            assert [r["content"][0]["text"] for r in got] == [
                "stateful done",
                "stateless done",
                "unrelated done",
            ]

    run(main())
    by = {name: [(s, r) for n, s, r in seen if n == name] for name in ("stateful", "stateless")}
    assert by["stateful"] == [
        (None, None),
        (' {"opaque": "ünï"} ', {"go": {"action": "accept", "content": {"ok": True}}}),
    ]
    assert by["stateless"] == [
        (None, None),
        (None, {"go": {"action": "accept", "content": {"ok": True}}}),
    ]
    assert [(s, r) for n, s, r in seen if n == "unrelated"] == [(None, None)]


def test_rounds_are_bounded() -> None:
    server = MCPServer(name="insistent")
    calls: list[int] = []

    @server.tool()
    async def insist(ctx: Context) -> Any:
        calls.append(1)
        return InputRequiredResult({"again": _ask("again?")}, f"round-{len(calls)}")

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {}}

    async def main() -> None:
        async with serving(server) as url:
            client = MCPClient.http(
                url, protocol="modern", elicitation_callback=elicit, max_input_rounds=3
            )
            async with client as c:
                with pytest.raises(InputRequiredRoundsExceededError, match="more than 3 times"):
                    await c.call_tool("insist")
                assert len(calls) == 4  # the call and three retries
                # max_input_rounds=0: the InputRequiredResult is the caller's to answer.
                c.max_input_rounds = 0
                r = await c.call_tool("insist")
                assert r["resultType"] == "input_required" and "again" in r["inputRequests"]
                assert len(calls) == 5 and r["requestState"]  # sealed by our server

    run(main())


def test_a_failing_callback_fails_the_call() -> None:
    server = MCPServer(name="asking")

    @server.tool()
    async def ask(ctx: Context) -> Any:
        if ctx.input_responses:
            return "answered"
        return InputRequiredResult({"a": _ask("a?"), "b": _ask("b?")}, "s")

    async def refuse(params: dict[str, Any]) -> dict[str, Any]:
        if params["message"] == "b?":
            raise MCPError(-1, "the user closed the dialog")
        await asyncio.sleep(10)  # cancelled when its sibling fails
        return {"action": "accept"}

    async def main() -> None:
        async with (
            serving(server) as url,
            MCPClient.http(url, protocol="modern", elicitation_callback=refuse) as c,
        ):
            with pytest.raises(MCPError, match="the user closed the dialog"):
                await asyncio.wait_for(c.call_tool("ask"), 5)

    run(main())


# ---- DPoP (RFC 9449, SEP-1932) ----------------------------------------------------------------


def _b64json(part: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def _check_proof(proof: str, jwk: dict[str, Any], htm: str, htu: str) -> dict[str, Any]:
    """Verifies a DPoP proof with PyJWT (an independent verifier) and returns its claims."""
    jwt = require_module("jwt")
    header = _b64json(proof.split(".")[0])
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert header["jwk"] == jwk and "d" not in header["jwk"]  # the public key only
    key = jwt.PyJWK(header["jwk"]).key
    claims: dict[str, Any] = jwt.decode(proof, key, algorithms=["ES256"])
    assert claims["htm"] == htm and claims["htu"] == htu, claims
    assert abs(claims["iat"] - time.time()) < 60 and len(claims["jti"]) >= 22
    return claims


def test_dpop_proofs_verify_and_bind_the_token() -> None:
    from fasterapi import _native

    key = _native.McpDpopKey()
    jwk = json.loads(key.jwk)
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256"
    # RFC 7638 §3.1: SHA-256 over the required members, sorted, no whitespace.
    canon = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canon.encode()).digest()
    assert key.thumbprint == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    first = _check_proof(key.proof("POST", "https://as.example/token?x=1#f"), jwk, "POST",
                         "https://as.example/token")  # fmt: skip
    assert "ath" not in first and "nonce" not in first
    bound = _check_proof(
        key.proof("GET", "http://h/mcp", "tok-1", 'n"1'), jwk, "GET", "http://h/mcp"
    )
    ath = base64.urlsafe_b64encode(hashlib.sha256(b"tok-1").digest()).rstrip(b"=").decode()
    assert bound["ath"] == ath and bound["nonce"] == 'n"1'
    assert first["jti"] != bound["jti"]
    # A proof from another key does not verify under this one's jwk.
    other = _native.McpDpopKey().proof("POST", "http://h/mcp")
    jwt = require_module("jwt")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other, jwt.PyJWK(jwk).key, algorithms=["ES256"])


DISCOVERED = {
    "resultType": "complete",
    "supportedVersions": ["2026-07-28"],
    "capabilities": {"tools": {}},
}


async def write_result(writer: asyncio.StreamWriter, msg: dict[str, Any], result: Any) -> None:
    """Answers the request `msg` with `result`: 200, a JSON-RPC response with msg's id."""
    out = json.dumps({"jsonrpc": "2.0", "id": msg.get("id"), "result": result})
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(out), out.encode())
    )
    await writer.drain()


class DpopServer(Recorder):
    """A resource server that wants DPoP with its nonce (RFC 9449 §9): a request whose proof
    lacks `n-1` is answered 401 use_dpop_nonce with `DPoP-Nonce: n-1`."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                _, headers, body = await read_request(reader)
                msg = json.loads(body) if body else {}
                self.seen.append((headers, msg))
                proof = headers.get("dpop", "")
                nonce = _b64json(proof.split(".")[1]).get("nonce") if proof else None
                if nonce != "n-1":
                    writer.write(
                        b"HTTP/1.1 401 Unauthorized\r\nDPoP-Nonce: n-1\r\nContent-Length: 0\r\n"
                        b'WWW-Authenticate: DPoP error="use_dpop_nonce"\r\n\r\n'
                    )
                    await writer.drain()
                    continue
                result: dict[str, Any] = {"resultType": "complete", "tools": TOOLS[-1:]}
                if msg.get("method") == "server/discover":
                    result = DISCOVERED
                await write_result(writer, msg, result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def with_dpop_client(
    rec: Recorder, key: Any, use: Callable[[MCPClient], Awaitable[None]]
) -> str:
    """Serves rec.handle on a free port and runs use(client) there with a modern client holding
    the DPoP-bound token tok-1 (proofs signed with `key`); returns the server's URL."""
    from fasterapi.mcp.client_auth import InMemoryTokenStorage, OAuthClientProvider, OAuthToken

    srv = await asyncio.start_server(rec.handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/mcp"
    storage = InMemoryTokenStorage()
    await storage.set_tokens(OAuthToken("tok-1", token_type="DPoP"))
    auth = OAuthClientProvider(url, storage=storage)
    auth.dpop_key = key  # as a DPoP token request made it
    try:
        async with MCPClient.http(url, protocol="modern", auth=auth) as c:
            await use(c)
    finally:
        srv.close()
        await srv.wait_closed()
    return url


def test_dpop_bound_token_gets_a_fresh_proof_per_request_with_the_servers_nonce() -> None:
    from fasterapi import _native

    rec = DpopServer()
    key = _native.McpDpopKey()

    async def use(c: MCPClient) -> None:
        assert [t["name"] for t in (await c.list_tools())["tools"]] == ["plain"]

    url = run(with_dpop_client(rec, key, use))
    jwk = json.loads(key.jwk)
    ath = base64.urlsafe_b64encode(hashlib.sha256(b"tok-1").digest()).rstrip(b"=").decode()
    jtis = []
    for headers, _ in rec.seen:
        assert headers["authorization"] == "DPoP tok-1"
        claims = _check_proof(headers["dpop"], jwk, "POST", url)
        assert claims["ath"] == ath
        jtis.append(claims["jti"])
    assert len(set(jtis)) == len(jtis)  # a fresh proof every time, retries included
    nonces = [_b64json(h["dpop"].split(".")[1]).get("nonce") for h, _ in rec.seen]
    # The preflight probe (httpx) and the first upstream request were challenged; from then on
    # every proof carries the server's nonce.
    assert nonces[0] is None and nonces[-2:] == ["n-1", "n-1"], nonces
    assert "tools/list" in [m.get("method") for _, m in rec.seen]


class StaleConnectionServer(Recorder):
    """Closes a keep-alive connection under a tools/call that is not the connection's first
    request, without answering it: the race of a server's idle timeout with the client's next
    request (RFC 9112 §9.3.1), after which the client sends the request again elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                _, headers, body = await read_request(reader)
                msg = json.loads(body) if body else {}
                self.seen.append((headers, msg))
                served += 1
                if served > 1 and msg.get("method") == "tools/call":
                    self.dropped += 1
                    return  # closed with no byte of an answer
                result: dict[str, Any] = {"resultType": "complete", "tools": TOOLS[-1:]}
                if msg.get("method") == "server/discover":
                    result = DISCOVERED
                elif msg.get("method") == "tools/call":
                    result = {"resultType": "complete", "content": [{"type": "text", "text": "ok"}]}
                await write_result(writer, msg, result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_dpop_request_resent_after_a_stale_connection_gets_a_fresh_proof() -> None:
    """RFC 9449 §11.1: every proof has its own jti (a server may refuse one it saw), so a
    request sent again because its pooled connection was closed under it is sent with a new
    proof, not the bytes of the first attempt."""
    from fasterapi import _native

    rec = StaleConnectionServer()
    key = _native.McpDpopKey()

    async def use(c: MCPClient) -> None:
        for _ in range(3):
            got = await c.call_tool("plain", {})
            assert got["content"] == [{"type": "text", "text": "ok"}]

    url = run(with_dpop_client(rec, key, use))
    assert rec.dropped >= 3, rec.dropped  # every call met a stale connection once
    jwk = json.loads(key.jwk)
    calls = [h for h, m in rec.seen if m.get("method") == "tools/call"]
    assert len(calls) == 2 * rec.dropped
    jtis = [_check_proof(h["dpop"], jwk, "POST", url)["jti"] for h, _ in rec.seen if "dpop" in h]
    assert len(jtis) == len(rec.seen)
    assert len(set(jtis)) == len(jtis), jtis  # the resends included
