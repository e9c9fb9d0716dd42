"""`fasterapi run module:app` with an unchanged FastAPI app, a Starlette app and the official
MCP SDK's Streamable HTTP app: served by the engine through the ASGI adapter, httpx and the
SDK's own client as clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_cli import CliServer

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def fastapi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    marker = tmp_path_factory.mktemp("asgi") / "shutdown"
    server = CliServer("asgi_fastapi_app:app", env={"FA_ASGI_SHUTDOWN_FILE": str(marker)})
    server.marker = marker  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_routes_params_and_body(fastapi_server: CliServer) -> None:
    with httpx.Client(base_url=fastapi_server.url, timeout=10) as c:
        r = c.get("/items/7", params={"q": "x y"})
        assert (r.status_code, r.json()) == (200, {"item_id": 7, "q": "x y"})
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-length"] == str(len(r.content))
        r = c.post("/items", json={"name": "pen", "price": 1.5})
        assert (r.status_code, r.json()) == (201, {"name": "pen", "price": 1.5, "tags": []})
        r = c.post("/items", json={"name": "pen"})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "price"]
        r = c.get("/items/notanint")
        assert r.status_code == 422
        assert c.get("/sync").json() == {"sync": True}
        assert c.get("/nowhere").status_code == 404
        assert c.get("/openapi.json").json()["paths"]["/items/{item_id}"]["get"]


def test_scope_and_lifespan_state(fastapi_server: CliServer) -> None:
    with httpx.Client(base_url=fastapi_server.url, timeout=10) as c:
        got = c.get("/scope?a=1", headers={"X-Echo": "hi"}).json()
    assert got == {
        "greeting": "hello from lifespan",
        "root_path": "",
        "path": "/scope",
        "http_version": "1.1",
        "headers_are_bytes": True,
        "url": f"{fastapi_server.url}/scope?a=1",
        "echo": "hi",
    }


def test_exceptions(fastapi_server: CliServer) -> None:
    with httpx.Client(base_url=fastapi_server.url, timeout=10) as c:
        r = c.get("/boom")
        assert (r.status_code, r.text) == (500, "Internal Server Error")
        assert r.headers["content-type"].startswith("text/plain")
        r = c.get("/missing")
        assert (r.status_code, r.json()) == (404, {"detail": "no such thing"})
        assert r.headers["x-why"] == "test"
        assert c.get("/items/1").status_code == 200  # still serving
        r = c.get("/cookie")
        assert r.headers.get_list("set-cookie") == [
            "a=1; Path=/; SameSite=lax",
            "b=2; Path=/; SameSite=lax",
        ]


def test_streaming(fastapi_server: CliServer) -> None:
    with httpx.Client(base_url=fastapi_server.url, timeout=10) as c:
        with c.stream("GET", "/stream", params={"n": 50}) as r:
            assert r.headers["transfer-encoding"] == "chunked"
            assert r.headers["content-type"] == "text/plain; charset=utf-8"
            text = "".join(r.iter_text())
    assert text == "".join(f"line {i}\n" for i in range(50))


def test_lifespan_shutdown_runs_on_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "down"
    server = CliServer("asgi_fastapi_app:app", env={"FA_ASGI_SHUTDOWN_FILE": str(marker)})
    assert httpx.get(server.url + "/items/1", timeout=10).status_code == 200
    assert not marker.exists()
    server.stop()
    assert server.proc.returncode == 0
    assert marker.read_text() == "shutdown"


def test_starlette_app() -> None:
    server = CliServer("asgi_starlette_app:app")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            r = c.get("/hello/ada")
            assert (r.status_code, r.text) == (200, "hello ada")
            r = c.put("/echo", content=b"x" * 100_000)
            assert r.json() == {"len": 100_000, "root_path": "", "method": "PUT"}
            assert c.get("/echo").status_code == 405
    finally:
        server.stop()


def test_official_mcp_sdk_streamable_http_app() -> None:
    from mcp import Client

    server = CliServer("asgi_mcp_app:app")

    async def main() -> None:
        async with Client(server.url + "/mcp") as client:
            tools = await client.list_tools()
            assert [t.name for t in tools.tools] == ["add"]
            result = await client.call_tool("add", {"a": 2, "b": 40})
            assert result.structured_content == {"result": 42}

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        server.stop()


def test_not_an_app_is_refused() -> None:
    from fasterapi.cli import load_app

    with pytest.raises(SystemExit, match=r"not a fasterapi\.App nor an ASGI app"):
        load_app("serve_cli:free_port", str(Path(__file__).parent))


def test_lifespan_startup_failed_stops_the_server() -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fasterapi",
            "run",
            "asgi_lifespan_apps:startup_fails",
            "--app-dir",
            str(Path(__file__).parent),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode != 0
    assert "ASGI lifespan startup failed: no database" in run.stderr


def test_app_without_lifespan_is_served() -> None:
    server = CliServer("asgi_lifespan_apps:no_lifespan")
    try:
        assert httpx.get(server.url + "/", timeout=10).text == "up"
    finally:
        server.stop()
