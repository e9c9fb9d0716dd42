"""app.mount("/mcp", server): the official SDK client talks to an MCP server mounted on an App,
whose other routes keep working."""

from __future__ import annotations

import httpx
import pytest

pytest.importorskip("mcp")

from mcp_helpers import ROOT, HttpServerProcess, run

from mcp import Client

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_mounted_server(mode: str) -> None:
    proc = HttpServerProcess(ROOT / "examples" / "mcp" / "mounted_app.py")
    try:
        assert httpx.get(f"http://127.0.0.1:{proc.port}/").json() == {"message": "Hello, World!"}

        async def main() -> None:
            progress: list[float] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                progress.append(p)

            async with Client(proc.url, mode=mode) as client:
                assert [t.name for t in (await client.list_tools()).tools] == ["add", "count"]
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.structured_content == {"result": 5}
                counted = await client.call_tool("count", {"n": 2}, progress_callback=on_progress)
                assert counted.content[0].text == "counted to 2"
                assert progress == [1.0, 2.0]

        run(main())
        evil = {"Origin": "http://evil.example", "Content-Type": "application/json"}
        assert httpx.post(proc.url, content=b"{}", headers=evil).status_code == 403
    finally:
        proc.close()
