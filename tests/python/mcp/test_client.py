"""fasterapi.mcp.MCPClient against our server (examples/mcp/tools_server.py) and the official
SDK's (tests/python/mcp/conformance/sdk_reference_server.py), over stdio and Streamable HTTP;
plus scripted stdio peers for what a real server will not do on demand (die mid-call, ignore
SIGTERM, refuse server/discover). Loopback only; every test is bounded in time."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import ROOT, TOOLS_SERVER, HttpServerProcess, free_port, run

from fasterapi import _native
from fasterapi.mcp import MCPClient, MCPError

SDK_SERVER = ROOT / "tests" / "python" / "mcp" / "conformance" / "sdk_reference_server.py"
PY = sys.executable

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ours_http() -> Iterator[str]:
    server = HttpServerProcess(TOOLS_SERVER)
    yield server.url
    server.close()


@pytest.fixture(scope="module")
def sdk_http() -> Iterator[str]:
    with HttpServerProcess(SDK_SERVER, flag_args=True) as server:
        yield server.url


def _client(kind: str, url: str | None = None, **kw: Any) -> MCPClient:
    if kind == "stdio":
        return MCPClient.stdio([PY, str(TOOLS_SERVER)], stderr=subprocess.DEVNULL, **kw)
    if kind == "sdk-stdio":
        return MCPClient.stdio(
            [PY, str(SDK_SERVER), "--transport", "stdio"], stderr=subprocess.DEVNULL, **kw
        )
    assert url is not None
    return MCPClient.http(url, **kw)


# ---- our server ------------------------------------------------------------------------------


@pytest.fixture(params=["stdio", "http"])
def ours(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    if request.param == "stdio":
        yield "stdio", None
    else:
        yield "http", request.getfixturevalue("ours_http")


def test_ours_tools_resources_prompts(ours: tuple[str, str | None]) -> None:
    async def main() -> None:
        logs: list[dict[str, Any]] = []
        async with _client(*ours, logging_callback=logs.append) as c:
            assert c.server_info == {"name": "Test Tools", "version": "0.1.0"}
            assert c.protocol_version == "2025-11-25"
            assert c.instructions == "Tools for tests"
            if ours[0] == "http":
                assert c.session_id
            tools = await c.list_tools()
            assert {t["name"] for t in tools["tools"]} >= {"calculate", "echo", "hang"}
            r = await c.call_tool("calculate", {"operation": "add", "a": 1, "b": 2})
            assert r["structuredContent"] == {"result": 3.0} and r["isError"] is False
            r = await c.call_tool("fail", {"message": "nope"})
            assert r["isError"] is True and r["content"][0]["text"] == "nope"
            progress: list[tuple[Any, ...]] = []
            r = await c.call_tool(
                "slow_count", {"n": 3}, progress_callback=lambda *a: progress.append(a)
            )
            assert r["content"][0]["text"] == "counted to 3"
            assert progress == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
            for _ in range(50):
                if len(logs) >= 3:
                    break
                await asyncio.sleep(0.01)
            assert [m["data"] for m in logs] == ["counted 1", "counted 2", "counted 3"]
            res = await c.list_resources()
            assert [r["uri"] for r in res["resources"]] == ["config://settings"]
            templates = await c.list_resource_templates()
            assert templates["resourceTemplates"][0]["uriTemplate"] == "users://{user_id}/profile"
            body = await c.read_resource("users://7/profile")
            assert json.loads(body["contents"][0]["text"]) == {"id": 7, "name": "user 7"}
            prompts = await c.list_prompts()
            assert [p["name"] for p in prompts["prompts"]] == ["review"]
            p = await c.get_prompt("review", {"code": "x = 1"})
            assert "x = 1" in p["messages"][0]["content"]["text"]
            assert await c.ping() == {}
            # Concurrent calls are correlated by id.
            texts = [f"t{i}" for i in range(20)]
            results = await asyncio.gather(*(c.call_tool("echo", {"text": t}) for t in texts))
            assert [r["content"][0]["text"] for r in results] == texts

    run(main())


def test_ours_protocol_errors(ours: tuple[str, str | None]) -> None:
    async def main() -> None:
        async with _client(*ours) as c:
            with pytest.raises(MCPError) as e:
                await c.request("no/such/method")
            assert e.value.code == -32601
            with pytest.raises(MCPError) as e:
                await c.read_resource("nothing://here")
            assert e.value.code in (-32002, -32602)
            with pytest.raises(MCPError) as e:
                await c.get_prompt("no-such-prompt")
            assert e.value.code == -32602
            # the session still works
            assert (await c.call_tool("echo", {"text": "ok"}))["content"][0]["text"] == "ok"

    run(main())


def test_ours_timeout_then_more_calls(ours: tuple[str, str | None]) -> None:
    async def main() -> None:
        async with _client(*ours) as c:
            t0 = time.monotonic()
            with pytest.raises(MCPError) as e:
                await c.call_tool("hang", {}, timeout=0.3)
            assert e.value.code == -32001 and time.monotonic() - t0 < 5
            task = asyncio.ensure_future(c.call_tool("hang", {}))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await c.call_tool("echo", {"text": "after"}))["content"][0]["text"] == "after"

    run(main())


def test_ours_auto_discover(ours: tuple[str, str | None]) -> None:
    """protocol='auto' probes server/discover; our server answers it, so the session is
    2026-07-28 and every request carries the _meta stamp."""

    async def main() -> None:
        async with _client(*ours, protocol="auto") as c:
            assert c.protocol_version == "2026-07-28"
            assert c.discover_result is not None and c.initialize_result is None
            assert c.server_info == {"name": "Test Tools", "version": "0.1.0"}
            r = await c.call_tool("echo", {"text": "modern"})
            assert r["content"][0]["text"] == "modern"

    run(main())


def test_pagination(tmp_path: Path) -> None:
    script = tmp_path / "paged.py"
    script.write_text(
        textwrap.dedent(
            """
            from fasterapi.mcp import MCPServer
            server = MCPServer(name="paged", page_size=2)
            for i in range(5):
                server.tool(name=f"t{i}")(lambda: "x")
            server.run(transport="stdio")
            """
        )
    )

    async def main() -> None:
        async with MCPClient.stdio([PY, str(script)], stderr=subprocess.DEVNULL) as c:
            tools = await c.list_tools()
            assert [t["name"] for t in tools["tools"]] == ["t0", "t1", "t2", "t3", "t4"]
            assert "nextCursor" not in tools
            page = await c.list_tools(cursor=tools.get("nextCursor") or "2")
            assert [t["name"] for t in page["tools"]] == ["t2", "t3"]
            assert page["nextCursor"]

    run(main())


def test_http_session_deleted_on_close(ours_http: str) -> None:
    async def main() -> str:
        async with MCPClient.http(ours_http) as c:
            await c.ping()
            sid = c.session_id
            assert sid
            return sid

    sid = run(main())
    req = urllib.request.Request(
        ours_http,
        data=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Mcp-Session-Id": sid,
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 404


def test_http_custom_headers_and_unreachable() -> None:
    async def main() -> None:
        c = MCPClient.http(f"http://127.0.0.1:{free_port()}/mcp", headers={"X-Test": "1"})
        with pytest.raises(MCPError) as e:
            async with c:
                pass
        assert e.value.code == -32000

    run(main())


def test_http_keep_alive_reuses_connections(ours_http: str) -> None:
    async def main() -> None:
        async with MCPClient.http(ours_http) as c:
            for _ in range(5):
                await c.ping()
            # initialize, notifications/initialized (not awaited: a second connection may
            # carry the first ping) and 5 pings share at most two pooled connections; the GET
            # stream has its own
            assert c._native.connects <= 3
            assert c._native.listening

    run(main())


def test_http_server_dies_mid_call() -> None:
    server = HttpServerProcess(TOOLS_SERVER)

    async def main() -> None:
        async with MCPClient.http(server.url) as c:
            call = asyncio.ensure_future(c.call_tool("hang", {}))
            await asyncio.sleep(0.3)
            server.proc.kill()
            t0 = time.monotonic()
            with pytest.raises(MCPError) as e:
                await asyncio.wait_for(call, 10)
            assert e.value.code == -32000 and time.monotonic() - t0 < 5

    try:
        run(main())
    finally:
        server.close()


# ---- the official SDK's server ---------------------------------------------------------------


@pytest.fixture(params=["sdk-stdio", "sdk-http"])
def sdk(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    if request.param == "sdk-stdio":
        yield "sdk-stdio", None
    else:
        yield "http", request.getfixturevalue("sdk_http")


def test_sdk_server(sdk: tuple[str, str | None]) -> None:
    async def main() -> None:
        logs: list[dict[str, Any]] = []
        async with _client(*sdk, logging_callback=logs.append) as c:
            assert c.server_info is not None
            assert c.server_info["name"] == "fasterapi-conformance-sdk-reference"
            tools = await c.list_tools()
            names = {t["name"] for t in tools["tools"]}
            assert {"test_simple_text", "test_error_handling"} <= names
            r = await c.call_tool("test_simple_text")
            assert r["content"][0]["text"] == "This is a simple text response for testing."
            r = await c.call_tool("test_error_handling")
            assert r["isError"] is True
            progress: list[tuple[Any, ...]] = []
            await c.call_tool(
                "test_tool_with_progress", progress_callback=lambda *a: progress.append(a)
            )
            assert [p[0] for p in progress] == [0, 50, 100]
            await c.call_tool("test_tool_with_logging")
            for _ in range(50):
                if len(logs) >= 3:
                    break
                await asyncio.sleep(0.01)
            assert len(logs) == 3
            res = await c.list_resources()
            assert "test://static-text" in {r["uri"] for r in res["resources"]}
            body = await c.read_resource("test://static-text")
            assert body["contents"][0]["uri"] == "test://static-text"
            prompts = await c.list_prompts()
            assert "test_prompt_with_arguments" in {p["name"] for p in prompts["prompts"]}
            p = await c.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
            assert p["messages"]
            with pytest.raises(MCPError) as e:
                await c.request("no/such/method")
            assert e.value.code == -32601
            assert await c.ping() == {}

    run(main())


# ---- scripted stdio peers --------------------------------------------------------------------

PEER = """
import json, os, signal, sys, time
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
log = open(os.environ["PEER_LOG"], "a")
for line in sys.stdin:
    m = json.loads(line)
    log.write(line); log.flush()
    if "id" not in m:
        continue
    if m["method"] == "server/discover" and os.environ.get("NO_DISCOVER"):
        out = {"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "nope"}}
    elif m["method"] == "initialize":
        out = {"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": "2025-11-25",
               "capabilities": {"tools": {}}, "serverInfo": {"name": "peer", "version": "1"}}}
    elif m["method"] == "tools/call" and m["params"]["name"] == "die":
        os._exit(3)
    elif m["method"] == "tools/call" and m["params"]["name"] == "hang":
        continue
    else:
        out = {"jsonrpc": "2.0", "id": m["id"], "result": {}}
    sys.stdout.write(json.dumps(out) + "\\n"); sys.stdout.flush()
if os.environ.get("IGNORE_EOF"):
    time.sleep(60)
"""


def _peer(tmp_path: Path, **env: str) -> tuple[MCPClient, Path]:
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    log = tmp_path / "peer.log"
    client = MCPClient.stdio([PY, str(script)], env={"PEER_LOG": str(log), **env}, grace=0.5)
    return client, log


def _received(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_timeout_sends_cancelled(tmp_path: Path) -> None:
    client, log = _peer(tmp_path)

    async def main() -> None:
        async with client as c:
            with pytest.raises(MCPError) as e:
                await c.call_tool("hang", timeout=0.2)
            assert e.value.code == -32001
            await c.ping()  # the cancellation was written before this

    run(main())
    got = _received(log)
    call = next(m for m in got if m.get("method") == "tools/call")
    cancelled = [m for m in got if m.get("method") == "notifications/cancelled"]
    assert cancelled and cancelled[0]["params"]["requestId"] == call["id"]
    assert [m["method"] for m in got[:2]] == ["initialize", "notifications/initialized"]


def test_server_dies_mid_call(tmp_path: Path) -> None:
    client, _ = _peer(tmp_path)

    async def main() -> None:
        async with client as c:
            t0 = time.monotonic()
            with pytest.raises(MCPError) as e:
                await c.call_tool("die")
            assert time.monotonic() - t0 < 5
            assert e.value.code == -32000 and "exited with code 3" in e.value.message
            with pytest.raises(MCPError):
                await c.ping()  # later calls fail at once too
            assert c.process is not None and c.process.returncode == 3

    run(main())


def test_reaping_stubborn_server(tmp_path: Path) -> None:
    """A server that ignores stdin EOF and SIGTERM is killed after the grace periods; no
    zombie is left."""
    client, _ = _peer(tmp_path, IGNORE_EOF="1", IGNORE_TERM="1")

    async def main() -> int:
        async with client as c:
            await c.ping()
            proc = c.process
            assert proc is not None
        t0 = time.monotonic()
        assert proc.returncode == -9
        assert time.monotonic() - t0 < 5
        return proc.pid

    pid = run(main())
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


def test_reaping_polite_server() -> None:
    async def main() -> Any:
        async with _client("stdio") as c:
            await c.ping()
            return c.process

    proc = run(main())
    assert proc.returncode == 0


def test_auto_falls_back_to_initialize(tmp_path: Path) -> None:
    client, log = _peer(tmp_path, NO_DISCOVER="1")
    client.protocol = "auto"

    async def main() -> None:
        async with client as c:
            assert c.protocol_version == "2025-11-25"
            assert c.initialize_result is not None

    run(main())
    assert [m.get("method") for m in _received(log)][:3] == [
        "server/discover",
        "initialize",
        "notifications/initialized",
    ]


def test_native_sse_parser() -> None:
    """The C++ SSE parser as the client uses it (more in tests/cpp/mcp/client_*_test.cpp)."""
    p = _native.McpSseParser()
    stream = (
        b': comment\r\nid: 1\r\nretry: 50\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: x\ndata:2\n\n'
    )
    events = []
    for i in range(len(stream)):  # one byte at a time
        events += p.feed(stream[i : i + 1])
    assert events == [("message", '{"a":\n1}', "1"), ("x", "2", "1")]
    assert p.last_event_id == "1" and p.retry_ms == 50


def test_native_http_response_parser() -> None:
    p = _native.McpHttpResponseParser()
    wire = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\nNEXT"
    )
    assert p.feed(wire) == len(wire) - 4
    assert p.head == (200, "OK", [("transfer-encoding", "chunked"), ("x-a", "1")])
    assert p.take_body() == b"hello" and p.done and p.keep_alive
    bad = _native.McpHttpResponseParser()
    bad.feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    assert bad.failed and "Content-Length" in bad.error


# ---- docs/mcp/client.md ----------------------------------------------------------------------

DOC = ROOT / "docs" / "mcp" / "client.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_examples(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"client_example_{index}.py"
    script.write_text(DOC_BLOCKS[index])
    done = subprocess.run([PY, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
