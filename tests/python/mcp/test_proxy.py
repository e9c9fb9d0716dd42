"""MCPProxy end to end: the official SDK client (mcp==2.3.0) and httpx talking to our proxy, in
front of our MCPServer and of a server written with the SDK's MCPServer, over stdio and HTTP,
both protocol eras; dead and hanging upstreams, the circuit breaker, the rate limit, and the
client's Authorization header never reaching an upstream."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from conftest import require_module

mcp = require_module("mcp")

from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from mcp_helpers import (  # noqa: E402
    HEADERS,
    INIT,
    META_2026,
    ROOT,
    TOOLS_SERVER,
    HttpServerProcess,
    free_port,
    run,
    serving,
)

from fasterapi.mcp import MCPProxy  # noqa: E402
from fasterapi.mcp.proxy import Breaker, RateLimit, Upstream  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(120)

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "proxy_upstream.py"
SDK_SERVER = ROOT / "examples" / "mcp" / "bench_sdk.py"
PROXY_EXAMPLE = ROOT / "examples" / "mcp" / "proxy_server.py"


class SdkHttpServer:
    """The official SDK's MCPServer (examples/mcp/bench_sdk.py: add) over Streamable HTTP."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc = subprocess.Popen(
            [sys.executable, str(SDK_SERVER), "--transport", "http", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the SDK's HTTP server did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def ours_http() -> Iterator[HttpServerProcess]:
    proc = HttpServerProcess()
    yield proc
    proc.close()


@pytest.fixture(scope="module")
def sdk_http() -> Iterator[SdkHttpServer]:
    proc = SdkHttpServer()
    yield proc
    proc.close()


def text_of(block: Any) -> str:
    """The text of a content block or resource contents (the SDK's unions have no .text)."""
    return str(block.text)


def zombies() -> list[int]:
    """Children of this process that exited and were not reaped."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def four_upstreams(ours_http: HttpServerProcess, sdk_http: SdkHttpServer) -> MCPProxy:
    return MCPProxy(
        upstreams={
            "ours-stdio": [sys.executable, str(TOOLS_SERVER)],
            "ours-http": ours_http.url,
            "sdk-stdio": [sys.executable, str(SDK_SERVER)],
            "sdk-http": sdk_http.url,
        }
    )


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_sdk_client_through_proxy_to_four_upstreams(
    ours_http: HttpServerProcess, sdk_http: SdkHttpServer, mode: str
) -> None:
    async def main() -> None:
        proxy = four_upstreams(ours_http, sdk_http)
        async with serving(proxy) as url, Client(url, mode=mode) as client:
            eras = {name: s["era"] for name, s in proxy.status().items()}
            # Our servers speak 2026-07-28 (probed with server/discover); so does the SDK's.
            assert set(eras.values()) <= {"2026-07-28", "2025-11-25"}, eras
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"ours-stdio__calculate", "ours-http__calculate"} <= names
            assert {"sdk-stdio__add", "sdk-http__add"} <= names
            cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
                ("ours-stdio__calculate", {"operation": "add", "a": 1, "b": 2}, {"result": 3.0}),
                ("ours-http__calculate", {"operation": "add", "a": 2, "b": 2}, {"result": 4.0}),
                ("sdk-stdio__add", {"a": 3, "b": 4}, {"result": 7}),
                ("sdk-http__add", {"a": 5, "b": 6}, {"result": 11}),
            ]
            for name, args, want in cases:
                result = await client.call_tool(name, args)
                assert result.structured_content == want, name
            progress: list[float] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                progress.append(p)

            for name in ["ours-stdio__slow_count", "ours-http__slow_count"]:
                progress.clear()
                counted = await client.call_tool(name, {"n": 3}, progress_callback=on_progress)
                assert text_of(counted.content[0]) == "counted to 3"
                assert progress == [1.0, 2.0, 3.0], name
            uris = {str(r.uri) for r in (await client.list_resources()).resources}
            assert "ours-http+config://settings" in uris
            read = await client.read_resource("ours-http+config://settings")
            assert '"timeout": 30' in text_of(read.contents[0])
            failed = await client.call_tool("ours-http__fail", {"message": "bad"})
            assert failed.is_error
            with pytest.raises(MCPError) as unknown:
                await client.call_tool("nobody__add", {})
            assert unknown.value.error.code == -32602

    run(main(), 90)


def test_sdk_client_over_stdio_to_the_proxy_example() -> None:
    """The proxy itself as a stdio server (examples/mcp/proxy_server.py), spawned by the SDK."""

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=[
                str(PROXY_EXAMPLE),
                f"ours={sys.executable} {UPSTREAM}",
                f"sdk={sys.executable} {SDK_SERVER}",
            ],
        )
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"ours__add", "ours__slow_count", "sdk__add"} <= names
            assert (await client.call_tool("ours__add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }
            assert (await client.call_tool("sdk__add", {"a": 4, "b": 2})).structured_content == {
                "result": 6
            }
            read = await client.read_resource("ours+mem://greeting")
            assert text_of(read.contents[0]) == "hello"

    run(main(), 60)


def test_upstream_dying_mid_call_and_breaker_transitions() -> None:
    async def main() -> None:
        proxy = MCPProxy(
            upstreams={"up": [sys.executable, str(UPSTREAM)]},
            breaker=Breaker(failure_threshold=2, cooldown=1.0),
        )
        async with serving(proxy) as url, Client(url) as client:
            started = time.monotonic()
            with pytest.raises(MCPError) as died:
                await client.call_tool("up__die", {})
            assert time.monotonic() - started < 5
            assert died.value.error.code == -32000
            assert "Upstream 'up'" in died.value.error.message
            assert proxy._native.in_flight() == 0  # nothing left waiting for the dead child
            for _ in range(30):  # reaped from the loop's timers (polled every 20 ms)
                if not zombies():
                    break
                await asyncio.sleep(0.1)
            assert zombies() == []  # the dead child was reaped
            # The child was respawned on the next call, which then works.
            assert (await client.call_tool("up__add", {"a": 1, "b": 1})).structured_content == {
                "result": 2
            }
            assert proxy.status()["up"]["state"] == "closed"
            # Two failures in a row open the breaker; then calls are refused at once.
            for _ in range(2):
                with pytest.raises(MCPError):
                    await client.call_tool("up__die", {})
            assert proxy.status()["up"]["state"] == "open"
            with pytest.raises(MCPError) as refused:
                await client.call_tool("up__add", {"a": 1, "b": 1})
            assert refused.value.error.code == -32010
            assert "circuit open" in refused.value.error.message
            await asyncio.sleep(1.1)
            assert proxy.status()["up"]["state"] == "half-open"
            # The probe goes through (a fresh child) and closes the breaker.
            assert (await client.call_tool("up__add", {"a": 2, "b": 2})).structured_content == {
                "result": 4
            }
            assert proxy.status()["up"]["state"] == "closed"

    run(main(), 60)


def on_ring(proxy: MCPProxy) -> bool:
    """Whether the proxy's own native loop is an io_uring ring (its fd, not a count of the
    process's rings: another test's objects may still hold one until the collector runs)."""
    return os.readlink(f"/proc/self/fd/{proxy._native.fileno()}") == "anon_inode:[io_uring]"


@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_upstreams_that_fail_to_start(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection refused, a command that does not exist, one that exits at once: the proxy
    still becomes ready, serves the good upstream, and answers the others with -32010, on both
    loop backends (on io_uring the refused HTTP upstream used to hang the proxy for good)."""
    import socket

    monkeypatch.setenv("FASTERAPI_LOOP", backend)
    refusing = socket.socket()  # bound, not listening: connections to it are refused
    refusing.bind(("127.0.0.1", 0))

    async def main() -> None:
        proxy = MCPProxy(
            upstreams={
                "refused": f"http://127.0.0.1:{refusing.getsockname()[1]}/mcp",
                "missing": ["/nonexistent/fasterapi-no-such-server"],
                "exits": ["/bin/sh", "-c", "exit 3"],
                "up": [sys.executable, str(UPSTREAM)],
            }
        )
        started = time.monotonic()
        async with serving(proxy) as url, Client(url) as client:
            # The ring is in use exactly when asked for (FASTERAPI_LOOP is read per loop).
            assert on_ring(proxy) == (backend == "uring")
            names = {t.name for t in (await client.list_tools()).tools}
            assert "up__add" in names
            assert not any(n.split("__")[0] in ("refused", "missing", "exits") for n in names)
            for name, cause in [
                ("refused", "Connection refused"),
                ("missing", "No such file"),
                ("exits", "unavailable"),
            ]:
                with pytest.raises(MCPError) as refused:
                    await client.call_tool(f"{name}__x", {})
                assert refused.value.error.code == -32010, name
                assert cause in refused.value.error.message, refused.value.error.message
            assert (await client.call_tool("up__add", {"a": 2, "b": 5})).structured_content == {
                "result": 7
            }
        assert time.monotonic() - started < 20

    try:
        run(main(), 30)
    finally:
        refusing.close()


MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
}


@pytest.mark.parametrize("era", ["2025-11-25", "auto"])
def test_elicitation_reaches_a_2026_client_as_input_rounds(
    era: Literal["auto", "2025-11-25"],
) -> None:
    """A 2026-07-28 client (raw JSON over httpx: neither the SDK's client nor ours drives input
    rounds) calls a tool that elicits. A 2025-11-25 upstream sends elicitation/create mid-call,
    which the proxy turns into an InputRequiredResult; a 2026-07-28 upstream answers with its
    own, which passes through. Either way the retry with inputResponses and the requestState
    gets the tool's result (basic/patterns/mrtr.mdx)."""

    async def main() -> None:
        proxy = MCPProxy(
            upstreams={"up": Upstream(command=[sys.executable, str(UPSTREAM)], era=era)}
        )
        async with serving(proxy) as url, httpx.AsyncClient(timeout=20) as http:

            async def call(rid: int, extra: dict[str, Any]) -> dict[str, Any]:
                params = {
                    "name": "up__confirm",
                    "arguments": {"item": "x.txt"},
                    "_meta": MODERN_META,
                }
                body = {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "method": "tools/call",
                    "params": params | extra,
                }
                r = await http.post(
                    url,
                    json=body,
                    headers=HEADERS
                    | {
                        "Mcp-Method": "tools/call",
                        "Mcp-Name": "up__confirm",
                        "MCP-Protocol-Version": "2026-07-28",
                    },
                )
                assert r.status_code == 200, r.text
                text = r.text
                if r.headers["content-type"].startswith("text/event-stream"):
                    text = [ln[5:] for ln in text.splitlines() if ln.startswith("data:")][-1]
                answer: dict[str, Any] = json.loads(text)
                assert answer["id"] == rid, answer
                return answer

            first = (await call(1, {}))["result"]
            assert first["resultType"] == "input_required", first
            assert proxy.status()["up"]["era"] == ("2025-11-25" if era != "auto" else "2026-07-28")
            [(key, asked)] = first["inputRequests"].items()
            assert asked["method"] == "elicitation/create"
            assert asked["params"]["message"] == "Delete x.txt?"
            state = first["requestState"]
            done = await call(
                2,
                {
                    "inputResponses": {key: {"action": "accept", "content": {"sure": True}}},
                    "requestState": state,
                },
            )
            result = done["result"]
            assert result["resultType"] == "complete", result
            assert result["content"][0]["text"] == "accept: {'sure': True}", result

    run(main(), 60)


def test_hanging_upstream_times_out() -> None:
    async def main() -> None:
        proxy = MCPProxy(
            upstreams={"up": Upstream(command=[sys.executable, str(UPSTREAM)], timeout=0.5)}
        )
        async with serving(proxy) as url, Client(url) as client:
            # The upstream's start (a Python process, then its handshake, itself bounded by the
            # 0.5 s timeout) can take longer than that on a loaded machine, and the proxy
            # restarts a failed upstream on the next call: wait until a call gets through, so
            # what times out below is the hanging tool and nothing else.
            deadline = time.monotonic() + 45
            while True:
                try:
                    added = await client.call_tool("up__add", {"a": 2, "b": 2})
                    break
                except MCPError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
            assert added.structured_content == {"result": 4}
            started = time.monotonic()
            with pytest.raises(MCPError) as timed_out:
                await client.call_tool("up__hang", {})
            assert timed_out.value.error.code == -32001
            assert time.monotonic() - started < 5
            # The proxy keeps serving.
            assert (await client.call_tool("up__add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }

    run(main(), 60)


def test_rate_limit_answers_429_with_retry_after() -> None:
    async def main() -> None:
        proxy = MCPProxy(
            upstreams={"up": [sys.executable, str(UPSTREAM)]}, rate_limit=RateLimit(0.5, burst=3)
        )
        async with serving(proxy) as url, httpx.AsyncClient(timeout=10) as http:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/list",
                "params": {"_meta": META_2026},
            }
            statuses = []
            for _ in range(4):
                r = await http.post(
                    url, json=body, headers={**HEADERS, "MCP-Protocol-Version": "2026-07-28"}
                )
                statuses.append(r.status_code)
            assert statuses == [200, 200, 200, 429]
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == -32029

    run(main(), 60)


class RecordingUpstream:
    """A minimal Streamable HTTP MCP server (2025-11-25, JSON answers) that records the
    Authorization header of every request it gets."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/mcp"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                self.seen.append(headers.get("authorization"))
                msg = json.loads(await reader.readexactly(int(headers["content-length"])))
                answer = self.answer(msg)
                if answer is None:
                    writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                else:
                    data = json.dumps(answer).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Mcp-Session-Id: s1\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data)
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def answer(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        if "id" not in msg:
            return None
        method = msg["method"]
        if method == "initialize":
            result: dict[str, Any] = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "recorder", "version": "1"},
            }
        elif method == "tools/list":
            result = {"tools": [{"name": "whoami", "inputSchema": {"type": "object"}}]}
        elif method == "tools/call":
            text = repr(self.seen[-1])
            result = {"content": [{"type": "text", "text": text}]}
        else:
            return {"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "no"}}
        return {"jsonrpc": "2.0", "id": msg["id"], "result": result}


def test_client_authorization_never_reaches_the_upstream() -> None:
    async def main() -> None:
        upstream = RecordingUpstream()
        await upstream.start()
        proxy = MCPProxy(
            upstreams={
                "rec": Upstream(url=upstream.url, headers={"Authorization": "Bearer upstream-own"})
            }
        )
        async with serving(proxy) as url, httpx.AsyncClient(timeout=10) as http:
            auth = {**HEADERS, "Authorization": "Bearer client-secret"}
            r = await http.post(url, json=INIT, headers=auth)
            sid = r.headers["mcp-session-id"]
            session = {**auth, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
            call = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "rec__whoami", "arguments": {}},
            }
            r = await http.post(url, json=call, headers=session)
            assert r.json()["result"]["content"][0]["text"] == "'Bearer upstream-own'"
        assert upstream.seen, "the upstream got no request"
        assert all(a == "Bearer upstream-own" for a in upstream.seen), upstream.seen
        assert upstream.server is not None
        upstream.server.close()

    run(main(), 60)


def test_mounted_in_an_app(ours_http: HttpServerProcess) -> None:
    from fasterapi import App
    from fasterapi.testing import TestClient

    app = App()
    proxy = MCPProxy(upstreams={"ours": ours_http.url})
    app.mount("/mcp", proxy)
    with TestClient(app) as http:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": "ours__echo",
                "arguments": {"text": "hi"},
                "_meta": META_2026,
            },
        }
        r = http.post("/mcp", json=init, headers={**HEADERS, "MCP-Protocol-Version": "2026-07-28"})
        assert r.status_code == 200, r.text
        assert "hi" in r.json()["result"]["content"][0]["text"]


DOC = ROOT / "docs" / "mcp" / "proxy.md"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_examples(index: int, tmp_path: Path) -> None:
    """Every ```python block of docs/mcp/proxy.md runs as a script from the repository root."""
    script = tmp_path / f"proxy_doc_{index}.py"
    script.write_text(DOC_BLOCKS[index])
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr


def test_the_docs_have_examples() -> None:
    assert len(DOC_BLOCKS) >= 1
