"""MCPClient over https:// (the engine's TLS client, src/tls/tls_client.h) to our own MCP server
mounted on an App served over TLS with a throwaway CA (tests/python/tls_certs.py): success with
the CA, clear errors when verification fails (unknown CA, wrong host name), success with
verify=False, and bad `verify` values refused; the same through an MCPProxy's https upstream."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import ROOT, free_port, run
from tls_certs import TestPki, make_pki

from fasterapi.mcp import MCPClient, MCPError
from fasterapi.mcp.proxy import MCPProxy, Upstream

pytestmark = pytest.mark.timeout(120)

# examples/mcp/mounted_app.py's App, served by app.run() with the TLS settings given.
_SERVER = """
import sys
sys.path.insert(0, sys.argv[1])
from mounted_app import app
app.run(host="127.0.0.1", port=int(sys.argv[2]), ssl_certfile=sys.argv[3], ssl_keyfile=sys.argv[4])
"""


class TlsMcpServer:
    def __init__(self, cert: Path, key: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(ROOT / "examples" / "mcp"), str(self.port),
             str(cert), str(key)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        import socket
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.close()
        raise RuntimeError("the MCP TLS server did not start")

    def url(self, host: str = "localhost", scheme: str = "https") -> str:
        return f"{scheme}://{host}:{self.port}/mcp"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(pki: TestPki) -> Iterator[TlsMcpServer]:
    """Certificate for DNS:localhost and IP:127.0.0.1."""
    s = TlsMcpServer(pki.cert, pki.key)
    yield s
    s.close()


@pytest.fixture(scope="module")
def other_server(pki: TestPki) -> Iterator[TlsMcpServer]:
    """Certificate for DNS:other.test only: reached as localhost, the name does not match."""
    s = TlsMcpServer(pki.other_cert, pki.other_key)
    yield s
    s.close()


async def _add(client: MCPClient) -> dict[str, Any]:
    async with client:
        return await client.call_tool("add", {"a": 2, "b": 3})


def _text(result: dict[str, Any]) -> str:
    return str(result["content"][0]["text"])


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_https_with_the_test_ca(pki: TestPki, server: TlsMcpServer, host: str) -> None:
    result = run(_add(MCPClient.http(server.url(host), verify=str(pki.ca))))
    assert _text(result) == "5"


def test_https_ca_as_path_object(pki: TestPki, server: TlsMcpServer) -> None:
    result = run(_add(MCPClient.http(server.url(), verify=pki.ca)))
    assert _text(result) == "5"


def test_unknown_ca_is_a_clear_error(server: TlsMcpServer) -> None:
    # verify=True: the system trust store, which does not know the test CA.
    with pytest.raises(MCPError) as e:
        run(_add(MCPClient.http(server.url())))
    assert "TLS handshake with localhost:" in str(e.value)
    assert "certificate verify failed" in str(e.value)


def test_wrong_host_name_is_a_clear_error(pki: TestPki, other_server: TlsMcpServer) -> None:
    with pytest.raises(MCPError) as e:
        run(_add(MCPClient.http(other_server.url(), verify=str(pki.ca))))
    assert "hostname mismatch" in str(e.value)


def test_wrong_ip_address_is_a_clear_error(pki: TestPki, other_server: TlsMcpServer) -> None:
    with pytest.raises(MCPError) as e:
        run(_add(MCPClient.http(other_server.url("127.0.0.1"), verify=str(pki.ca))))
    assert "IP address mismatch" in str(e.value)


def test_verify_false_skips_the_checks(other_server: TlsMcpServer) -> None:
    result = run(_add(MCPClient.http(other_server.url(), verify=False)))
    assert _text(result) == "5"


def test_plain_http_to_the_tls_port_fails_cleanly(server: TlsMcpServer) -> None:
    with pytest.raises(MCPError):
        run(_add(MCPClient.http(server.url(scheme="http"))))


def test_bad_verify_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such CA file"):
        MCPClient.http("https://localhost/mcp", verify=str(tmp_path / "missing.pem"))
    with pytest.raises(TypeError):
        MCPClient.http("https://localhost/mcp", verify=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not an http"):
        MCPClient.http("ftp://localhost/mcp")


def test_a_ca_file_that_is_not_pem_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(MCPError) as e:
        run(_add(MCPClient.http(f"https://127.0.0.1:{free_port()}/mcp", verify=str(bad))))
    assert "cannot load CA certificates" in str(e.value)


async def _through_proxy(upstream: Upstream) -> dict[str, Any]:
    proxy = MCPProxy(upstreams={"secure": upstream})
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(proxy.serve_http(port=0, ready=port.set_result))
    try:
        async with MCPClient.http(f"http://127.0.0.1:{await port}/mcp") as client:
            return await client.call_tool("secure__add", {"a": 2, "b": 3})
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


def test_proxy_https_upstream(pki: TestPki, server: TlsMcpServer) -> None:
    result = run(_through_proxy(Upstream(url=server.url(), verify=str(pki.ca))))
    assert _text(result) == "5"


def test_proxy_https_upstream_unknown_ca(server: TlsMcpServer) -> None:
    # The upstream cannot be reached: the call fails with the handshake's reason, not a hang.
    with pytest.raises(MCPError) as e:
        run(_through_proxy(Upstream(url=server.url())))
    assert "Upstream 'secure' is unavailable" in str(e.value)
    assert "certificate verify failed" in str(e.value)
