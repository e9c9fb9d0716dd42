"""h2c by `Upgrade: h2c` from HTTP/1.1 (RFC 7540 §3.2; deprecated by RFC 9113 §3.1 but what
`curl --http2` sends to an http:// URL): 101 Switching Protocols, then the request is answered
as stream 1 over HTTP/2 and the connection stays HTTP/2. Judged by curl and nghttp -u against
the C++ hello_server and the Python App; requests that may not switch answer over HTTP/1.1."""

from __future__ import annotations

import subprocess
from typing import Any

from conftest import raw_http, require_module
from h2_tools import curl, hello_server_binary, start, tool
from tls_certs import TestPki

pytest_plugins = ["h2_servers"]
require_module("h2")

SETTINGS = "AAMAAABkAAQAoAAAAAIAAAAA"  # curl's HTTP2-Settings


def curl_verbose(*args: str) -> tuple[str, str]:
    r = subprocess.run(
        [tool("curl"), "-sS", "-v", "--max-time", "10", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout, r.stderr


def test_curl_http2_upgrades_cpp_handlers(cpp_server: int) -> None:
    base = f"http://127.0.0.1:{cpp_server}"
    out, err = curl_verbose("--http2", "-w", "\n%{http_version}", base + "/users/3")
    assert out == '{"id":3,"name":"John Doe"}\n2'
    assert "> Upgrade: h2c" in err and "< HTTP/1.1 101 Switching Protocols" in err
    assert "< HTTP/2 200" in err
    # Two URLs: the second goes on the upgraded connection, as HTTP/2 from the start.
    out, err = curl_verbose(
        "--http2", "-w", " %{http_version}\n", base + "/users/1", base + "/users/2"
    )
    assert out.splitlines() == ['{"id":1,"name":"John Doe"} 2', '{"id":2,"name":"John Doe"} 2']
    assert err.count("101 Switching Protocols") == 1 and "Re-using existing connection" in err


def test_curl_http2_upgrades_python_app(py_server: Any) -> None:
    port, _ = py_server()
    base = f"http://127.0.0.1:{port}"
    out, err = curl_verbose("--http2", "-w", " %{http_version}", base + "/items/5?q=x")
    assert out == '{"item_id":5,"q":"x"} 2' and "< HTTP/2 200" in err
    out, _ = curl_verbose("--http2", base + "/stream?n=300&size=1000")  # streamed, 2.5 windows
    assert out.encode() == b"".join(str(i).encode() * 1000 for i in range(300))
    out, err = curl_verbose("--http2", "-I", base + "/stream")  # HEAD as stream 1
    assert "HTTP/2 200" in out and "101 Switching Protocols" in err
    out, _ = curl_verbose("--http2", "-H", "x-test: yes", base + "/headers")
    assert out == f'{{"host":"127.0.0.1:{port}","x-test":"yes"}}'


def test_nghttp_upgrade(cpp_server: int) -> None:
    out = subprocess.run(
        [tool("nghttp"), "-v", "-u", f"http://127.0.0.1:{cpp_server}/users/5"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    assert "HTTP Upgrade response" in out and "HTTP Upgrade success" in out
    assert ":status: 200" in out and '{"id":5,"name":"John Doe"}' in out


def test_requests_that_may_not_switch_answer_over_http1(cpp_server: int) -> None:
    base = f"http://127.0.0.1:{cpp_server}"
    # A body: the upgrade is ignored (§3.2 lets a server do so) and HTTP/1.1 answers.
    out = curl("--http2", "-d", "a body", "-w", " %{http_version}", base + "/echo").stdout
    assert out == "a body 1.1"
    head = (
        "GET /users/4 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\n"
        "Upgrade: h2c\r\n"
    )
    for bad in ("HTTP2-Settings: AAMA+ABk\r\n", "", f"HTTP2-Settings: {SETTINGS}\r\n" * 2):
        reply = raw_http(cpp_server, (head + bad + "\r\n").encode())
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply
        assert reply.endswith(b'{"id":4,"name":"John Doe"}')


def test_no_h2c_over_tls(pki: TestPki, procs: list[subprocess.Popen[bytes]]) -> None:
    from conftest import free_port

    port = free_port()
    cmd = [str(hello_server_binary()), "--port", str(port)]
    start([*cmd, "--ssl-certfile", str(pki.cert), "--ssl-keyfile", str(pki.key)], procs, port)
    out = curl(
        "--http1.1",
        "--cacert",
        str(pki.ca),
        "-H",
        "Connection: Upgrade, HTTP2-Settings",
        "-H",
        "Upgrade: h2c",
        "-H",
        f"HTTP2-Settings: {SETTINGS}",
        "-w",
        " %{http_version} %{http_code}",
        f"https://localhost:{port}/users/6",
    ).stdout
    assert out == '{"id":6,"name":"John Doe"} 1.1 200'
