"""What a server sends on its own, seen by MCPClient (its I/O on the C++ upstreams): sampling and
elicitation requests from the official SDK's server (tests/python/mcp/conformance/
sdk_reference_server.py) over stdio and Streamable HTTP, answered by the client's callbacks; the
same requests relayed by MCPProxy from a stdio and an HTTP upstream to the client that made the
call, and refused when that client declared no such capability."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from mcp_helpers import ROOT, HttpServerProcess, run

from fasterapi.mcp import MCPClient, MCPError, MCPProxy
from fasterapi.mcp.proxy import Upstream

SDK_SERVER = ROOT / "tests" / "python" / "mcp" / "conformance" / "sdk_reference_server.py"
PY = sys.executable

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sdk_http() -> Iterator[str]:
    with HttpServerProcess(SDK_SERVER, flag_args=True) as server:
        yield server.url


def _sampler(seen: list[dict[str, Any]]) -> Any:
    async def sample(params: dict[str, Any]) -> dict[str, Any]:
        seen.append(params)
        await asyncio.sleep(0)
        return {"role": "assistant", "content": {"type": "text", "text": "forty-two"}, "model": "m"}

    return sample


def _elicit(params: dict[str, Any]) -> dict[str, Any]:
    return {"action": "accept", "content": {"username": "ada", "email": "ada@example.org"}}


async def _ask(c: MCPClient, prefix: str = "") -> None:
    r = await c.call_tool(f"{prefix}test_sampling", {"prompt": "the answer?"})
    assert r["content"][0]["text"] == "LLM response: forty-two", r
    r = await c.call_tool(f"{prefix}test_elicitation", {"message": "who?"})
    text = r["content"][0]["text"]
    assert "action=accept" in text and "ada@example.org" in text, text


@pytest.mark.parametrize("kind", ["stdio", "http"])
def test_sdk_server_requests_answered_by_callbacks(kind: str, request: Any) -> None:
    seen: list[dict[str, Any]] = []
    opts: dict[str, Any] = {"sampling_callback": _sampler(seen), "elicitation_callback": _elicit}
    if kind == "stdio":
        client = MCPClient.stdio(
            [PY, str(SDK_SERVER), "--transport", "stdio"], stderr=subprocess.DEVNULL, **opts
        )
    else:
        client = MCPClient.http(request.getfixturevalue("sdk_http"), **opts)

    async def main() -> None:
        async with client as c:
            await _ask(c)
        assert seen and seen[0]["messages"][0]["content"]["text"] == "the answer?"

    run(main())


def test_proxy_relays_server_requests_to_the_caller(sdk_http: str) -> None:
    """sampling/createMessage and elicitation/create from a stdio upstream (routed to the one call
    in flight) and from an HTTP upstream (routed by the POST stream it came on) reach the client
    that made the call, and its answers go back."""
    proxy = MCPProxy(
        upstreams={
            "local": Upstream(
                command=[PY, str(SDK_SERVER), "--transport", "stdio"], era="2025-11-25"
            ),
            "web": Upstream(url=sdk_http, era="2025-11-25"),
        }
    )
    seen: list[dict[str, Any]] = []

    async def main() -> None:
        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(proxy.serve_http(port=0, ready=port.set_result))
        try:
            url = f"http://127.0.0.1:{await port}/mcp"
            async with MCPClient.http(
                url, sampling_callback=_sampler(seen), elicitation_callback=_elicit
            ) as c:
                for prefix in ("local__", "web__"):
                    await _ask(c, prefix)
            assert len(seen) == 2
            # A client without the capability: the proxy refuses the upstream's request (-32601)
            # at once, and the SDK's server fails the call with that error, rather than hanging.
            async with MCPClient.http(url) as c:
                with pytest.raises(MCPError) as e:
                    await c.call_tool("web__test_sampling", {"prompt": "x"}, timeout=20)
                assert "did not declare the sampling capability" in e.value.message
        finally:
            server.cancel()
            with pytest.raises(asyncio.CancelledError):
                await server

    run(main(), 90)


GROWING = """
import sys
from fasterapi.mcp import MCPServer

server = MCPServer(name="growing")


@server.tool()
def grow() -> str:
    server.tool(name="extra")(lambda: "x")  # after start: notifications/tools/list_changed
    return "grown"


if len(sys.argv) > 2 and sys.argv[1] == "http":
    server.run(transport="http", port=int(sys.argv[2]))
else:
    server.run(transport="stdio")
"""


@pytest.mark.parametrize("kind", ["stdio", "http"])
def test_list_changed_reaches_the_callback(kind: str, tmp_path: Any) -> None:
    """Over HTTP the notification is unsolicited: it comes on the standalone GET stream the
    client opened after initialize."""
    script = tmp_path / "growing.py"
    script.write_text(GROWING)
    changed: list[str] = []
    server = HttpServerProcess(script) if kind == "http" else None
    if server is not None:
        client = MCPClient.http(server.url, list_changed_callback=changed.append)
    else:
        client = MCPClient.stdio(
            [PY, str(script)], stderr=subprocess.DEVNULL, list_changed_callback=changed.append
        )

    async def main() -> None:
        async with client as c:
            assert (await c.call_tool("grow"))["content"][0]["text"] == "grown"
            for _ in range(200):
                if changed:
                    break
                await asyncio.sleep(0.01)
            assert changed == ["notifications/tools/list_changed"]
            assert "extra" in {t["name"] for t in (await c.list_tools())["tools"]}

    try:
        run(main())
    finally:
        if server is not None:
            server.close()


def test_stdio_stderr_pipe_is_refused_clearly() -> None:
    async def main() -> None:
        client = MCPClient.stdio([PY, "-c", "pass"], stderr=subprocess.PIPE)
        with pytest.raises(ValueError, match="PIPE and STDOUT are not supported"):
            async with client:
                pass

    run(main())
