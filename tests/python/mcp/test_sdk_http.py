"""The official MCP SDK client (mcp==2.3.0) against our Streamable HTTP transport, and the
transport's own rules (sessions, 202, Origin/Host, protocol version header) with httpx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

mcp = pytest.importorskip("mcp")

from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_helpers import HEADERS, INIT, META_2026, HttpServerProcess, run  # noqa: E402

from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def server() -> Iterator[HttpServerProcess]:
    proc = HttpServerProcess()
    yield proc
    proc.close()


@pytest.mark.parametrize("mode", ["legacy", "auto", "2026-07-28"])
def test_official_client_over_http(server: HttpServerProcess, mode: str) -> None:
    async def main() -> None:
        progress: list[float] = []
        logs: list[object] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append(p)

        async def on_log(params: object) -> None:
            logs.append(params)

        async with Client(
            server.url, mode=mode, logging_callback=on_log, log_level="debug"
        ) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            result = await client.call_tool("calculate", {"operation": "add", "a": 1, "b": 2})
            assert result.structured_content == {"result": 3.0}
            counted = await client.call_tool("slow_count", {"n": 3}, progress_callback=on_progress)
            assert counted.content[0].text == "counted to 3"
            assert progress == [1.0, 2.0, 3.0]
            assert len(logs) == 3
            read = await client.read_resource("config://settings")
            assert '"timeout": 30' in read.contents[0].text
            with pytest.raises(MCPError) as unknown:
                await client.call_tool("no_such_tool", {})
            assert unknown.value.error.code == -32602
            failed = await client.call_tool("fail", {"message": "bad"})
            assert failed.is_error

    run(main())


def test_sessions_notifications_and_delete(server: HttpServerProcess) -> None:
    with httpx.Client(timeout=10) as http:
        r = http.post(server.url, json=INIT, headers=HEADERS)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        sid = r.headers["mcp-session-id"]
        assert len(sid) == 32
        session = {**HEADERS, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert http.post(server.url, json=note, headers=session).status_code == 202
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        assert http.post(server.url, json=ping, headers=session).json()["result"] == {}
        # No session, unknown session, bad version, bad JSON.
        assert http.post(server.url, json=ping, headers=HEADERS).status_code == 400
        unknown = {**HEADERS, "Mcp-Session-Id": "0" * 32}
        assert http.post(server.url, json=ping, headers=unknown).status_code == 404
        old = {**session, "MCP-Protocol-Version": "1999-01-01"}
        assert http.post(server.url, json=ping, headers=old).status_code == 400
        bad = http.post(server.url, content=b"{nope", headers=session)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == -32700
        # DELETE ends the session.
        assert http.delete(server.url, headers=session).status_code == 200
        assert http.post(server.url, json=ping, headers=session).status_code == 404


def test_dns_rebinding_protection(server: HttpServerProcess) -> None:
    with httpx.Client(timeout=10) as http:
        evil_origin = {**HEADERS, "Origin": "http://evil.example"}
        assert http.post(server.url, json=INIT, headers=evil_origin).status_code == 403
        local_origin = {**HEADERS, "Origin": f"http://localhost:{server.port}"}
        assert http.post(server.url, json=INIT, headers=local_origin).status_code == 200
        evil_host = {**HEADERS, "Host": "evil.example"}
        assert http.post(server.url, json=INIT, headers=evil_host).status_code == 421


def test_get_opens_the_session_stream(server: HttpServerProcess) -> None:
    with httpx.Client(timeout=10) as http:
        sid = http.post(server.url, json=INIT, headers=HEADERS).headers["mcp-session-id"]
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": sid}
        with http.stream("GET", server.url, headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == "text/event-stream"
        assert http.get(server.url, headers={"Accept": "text/event-stream"}).status_code == 400


# 2026-07-28: _meta carries the version and the client's capabilities (META_2026); HTTP requests
# mirror the method (and the tool, prompt or resource) in headers (transports "Standard Request
# Headers").
def headers_2026(method: str, name: str | None = None) -> dict[str, str]:
    mirrored = {"Mcp-Method": method, **({"Mcp-Name": name} if name else {})}
    return {**HEADERS, "MCP-Protocol-Version": "2026-07-28", **mirrored}


def test_stateless_2026_requests_need_no_session(server: HttpServerProcess) -> None:
    meta = META_2026
    headers = headers_2026("server/discover")
    with httpx.Client(timeout=10) as http:
        discover = {"jsonrpc": "2.0", "id": 1, "method": "server/discover",
                    "params": {"_meta": meta}}
        r = http.post(server.url, json=discover, headers=headers)
        assert r.status_code == 200 and "mcp-session-id" not in r.headers
        result = r.json()["result"]
        assert result["supportedVersions"] == ["2026-07-28"]
        assert result["resultType"] == "complete"
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "Test Tools"
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "hi"}, "_meta": meta}}
        r = http.post(server.url, json=call, headers=headers_2026("tools/call", "echo"))
        assert r.json()["result"]["content"][0]["text"] == "hi"
        missing = {"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                   "params": {"uri": "nothing://here", "_meta": meta}}
        read_headers = headers_2026("resources/read", "nothing://here")
        assert http.post(server.url, json=missing, headers=read_headers).json()["error"][
            "code"
        ] == -32602
        # Without the mirrored headers, or without _meta's capabilities: refused with 400.
        r = http.post(server.url, json=call, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32020
        bare = {**call, "params": {**call["params"], "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}
        r = http.post(server.url, json=bare, headers=headers_2026("tools/call", "echo"))
        assert r.status_code == 400 and r.json()["error"]["code"] == -32602
        future_meta = {**META_2026, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
        future = {"jsonrpc": "2.0", "id": 4, "method": "tools/list",
                  "params": {"_meta": future_meta}}
        future_headers = {**headers_2026("tools/list"), "MCP-Protocol-Version": "2099-01-01"}
        r = http.post(server.url, json=future, headers=future_headers)
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == -32022 and "2026-07-28" in err["data"]["supported"]


def test_a_client_that_leaves_cancels_its_request(server: HttpServerProcess) -> None:
    import time

    def call(name: str, timeout: float) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": name, "arguments": {}, "_meta": META_2026}}
        with httpx.Client(timeout=timeout) as http:
            return http.post(server.url, json=body, headers=headers_2026("tools/call", name))

    def count() -> int:
        return int(call("cancelled_count", 10).json()["result"]["structuredContent"]["result"])

    before = count()
    with pytest.raises(httpx.ReadTimeout):
        call("hang", 0.3)  # the client gives up and closes the connection
    deadline = time.monotonic() + 5
    while count() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count() == before + 1
