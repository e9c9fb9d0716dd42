"""TLS in the engine, judged by real clients: curl --cacert, openssl s_client (ALPN,
resumption, mTLS, renegotiation), httpx with the test CA; plain HTTP on the TLS port, handshake
timeout, SIGHUP certificate reload with a connection kept open, bad settings."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    ROOT,
    free_port,
    missing,
    python_env,
    require_module,
    start_server,
    wait_for_port,
)
from tls_certs import TestPki, make_pki
from ws.ws_helpers import request_before_reader

from fasterapi import App, WebSocket
from fasterapi.testing import TestClient

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


class TlsServer:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"https://localhost:{port}"


@pytest.fixture
def tls_server(pki: TestPki) -> Iterator[Any]:
    """tls_server(**app_run_settings) → a TlsServer running tls_app.py with them (the test
    PKI's localhost certificate unless ssl_certfile is given)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**settings: Any) -> TlsServer:
        settings.setdefault("ssl_certfile", str(pki.cert))
        settings.setdefault("ssl_keyfile", str(pki.key))
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "tls_app.py"), str(port), json.dumps(settings)],
            cwd=ROOT,
            env=python_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        wait_for_port(port, proc)
        return TlsServer(proc, port)

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed")
    assert path is not None
    return path


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    """curl speaking HTTP/1.1 over TLS (these tests judge HTTP/1.1 + TLS, whatever ALPN offers)."""
    return subprocess.run(
        [tool("curl"), "-sS", "--http1.1", "--max-time", "20", *args],
        capture_output=True,
        text=True,
    )


def s_client(port: int, *args: str, stdin: str = "") -> str:
    """openssl s_client's transcript (stdout + stderr) for a connection to the server."""
    p = subprocess.run(
        [tool("openssl"), "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
         *args],
        input=stdin, capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    return p.stdout + p.stderr


def ssl_context(pki: TestPki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca))


def test_curl_https_keep_alive(pki: TestPki, tls_server: Any) -> None:
    srv = tls_server()
    u = srv.url
    p = curl("--cacert", str(pki.ca), f"{u}/", f"{u}/", "-w", " %{http_code} %{num_connects}\n")
    assert p.returncode == 0, p.stderr
    # two requests, one connection (keep-alive over TLS); request.url.scheme is https
    assert p.stdout.count('{"scheme":"https","hello":"tls"} 200') == 2
    assert p.stdout.splitlines()[1].endswith("200 0")


def test_curl_rejects_an_unknown_ca(tls_server: Any) -> None:
    srv = tls_server()
    p = curl(f"{srv.url}/")
    assert p.returncode == 60, p.stderr  # CURLE_PEER_FAILED_VERIFICATION


def test_httpx_large_bodies_both_ways(pki: TestPki, tls_server: Any) -> None:
    srv = tls_server()
    body = bytes(range(251)) * 12000  # ~3 MB up, in many records
    with httpx.Client(verify=ssl_context(pki), timeout=30) as c:
        r = c.post(f"{srv.url}/echo", content=body)
        assert r.status_code == 200 and r.content == body
        r = c.get(f"{srv.url}/big")  # 2 MiB down: partial SSL writes, backpressure
        assert r.status_code == 200 and r.content == bytes(range(256)) * 8192
        assert c.get(f"{srv.url}/").json() == {"scheme": "https", "hello": "tls"}


def test_alpn_prefers_h2_then_http11(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server()
    out = s_client(srv.port, "-alpn", "http/1.1,h2", "-CAfile", str(pki.ca))
    assert "ALPN protocol: h2" in out  # server preference (src/h2 serves it)
    assert "Verify return code: 0 (ok)" in out
    out = s_client(srv.port, "-alpn", "http/1.1")
    assert "ALPN protocol: http/1.1" in out
    out = s_client(srv.port, "-alpn", "spdy/3")  # no overlap: carry on without ALPN
    assert "No ALPN negotiated" in out


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_session_resumption(tls_server: Any, pki: TestPki, tmp_path: Path, version: str) -> None:
    srv = tls_server()
    sess = tmp_path / "session.pem"
    # A request, and -ign_eof to read until the server closes: TLS 1.3 tickets come after
    # the handshake (RFC 8446 §4.6.1), so s_client must stay for them.
    get = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    first = s_client(
        srv.port, version, "-CAfile", str(pki.ca), "-sess_out", str(sess), "-ign_eof", stdin=get
    )
    assert '"scheme":"https"' in first
    assert "New, TLSv1." in first
    again = s_client(srv.port, version, "-CAfile", str(pki.ca), "-sess_in", str(sess))
    assert "Reused, TLSv1." in again


def test_tls_1_1_refused(tls_server: Any) -> None:
    srv = tls_server()
    out = s_client(srv.port, "-tls1_1")
    assert "Cipher is (NONE)" in out or "no protocols available" in out or "alert" in out


def test_renegotiation_refused(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server()
    # "R" asks s_client to renegotiate (TLS 1.2); the server refuses with an alert.
    out = s_client(srv.port, "-tls1_2", "-CAfile", str(pki.ca), stdin="R\n")
    assert "RENEGOTIATING" in out
    assert "no renegotiation" in out


def test_mtls_required(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server(ssl_ca_certs=str(pki.ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    u = f"{srv.url}/"
    ok = curl(
        "--cacert", str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key), u
    )
    assert ok.returncode == 0 and '"https"' in ok.stdout, ok.stderr
    no_cert = curl("--cacert", str(pki.ca), u)
    assert no_cert.returncode != 0 and "200" not in no_cert.stdout
    get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    out = s_client(srv.port, "-CAfile", str(pki.ca), "-ign_eof", stdin=get)
    assert "certificate required" in out  # TLS 1.3 alert 116 (RFC 8446 §6.2)
    assert "HTTP/1.1" not in out
    # a certificate from another CA is refused too
    other = make_pki(pki.dir / "other-ca")
    bad = curl("--cacert", str(pki.ca), "--cert", str(other.client_cert), "--key",
               str(other.client_key), u)  # fmt: skip
    assert bad.returncode != 0


def test_mtls_optional(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server(ssl_ca_certs=str(pki.ca), ssl_cert_reqs=ssl.CERT_OPTIONAL)
    u = f"{srv.url}/"
    assert curl("--cacert", str(pki.ca), u).returncode == 0
    with_cert = curl("--cacert", str(pki.ca), "--cert", str(pki.client_cert), "--key",
                     str(pki.client_key), u)  # fmt: skip
    assert with_cert.returncode == 0, with_cert.stderr


def test_plain_http_on_the_tls_port_gets_400_with_a_hint(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server()
    p = curl("-i", f"http://127.0.0.1:{srv.port}/")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("HTTP/1.1 400 Bad Request")
    assert "This port speaks HTTPS" in p.stdout
    # and the server keeps serving TLS
    assert curl("--cacert", str(pki.ca), f"{srv.url}/").returncode == 0


def test_handshake_timeout_closes_a_silent_connection(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server(timeout_ssl_handshake=1.0)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        t0 = time.monotonic()
        assert s.recv(1) == b""  # closed by the server, nothing sent
        assert time.monotonic() - t0 < 4  # 1 s timeout + the 1 s sweep
    # a half-sent ClientHello is cut off the same way
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01")
        t0 = time.monotonic()
        assert s.recv(1) == b""
        assert time.monotonic() - t0 < 4
    assert curl("--cacert", str(pki.ca), f"{srv.url}/").returncode == 0


def test_garbage_handshake_does_not_hurt_the_server(tls_server: Any, pki: TestPki) -> None:
    srv = tls_server()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x00\x05hello" + b"\x00" * 100)
        data = s.recv(100)  # an alert or a close, never a crash
        assert data == b"" or data[0] == 0x15
    assert curl("--cacert", str(pki.ca), f"{srv.url}/").returncode == 0


def peer_cert(port: int, pki: TestPki) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ssl_context(pki).wrap_socket(raw, server_hostname="localhost") as s:
            der = s.getpeercert(binary_form=True)
            assert der is not None
            return der


def test_sighup_reloads_certificates_keeping_open_connections(
    tls_server: Any, pki: TestPki, tmp_path: Path
) -> None:
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki.cert, live_cert)
    shutil.copy(pki.key, live_key)
    srv = tls_server(ssl_certfile=str(live_cert), ssl_keyfile=str(live_key), timeout_keep_alive=60)
    first = peer_cert(srv.port, pki)
    with httpx.Client(verify=ssl_context(pki), timeout=10) as kept:
        assert kept.get(f"{srv.url}/").status_code == 200  # a connection opened before reload
        new_cert, new_key = pki.issue("localhost-2", "DNS:localhost,IP:127.0.0.1")
        shutil.copy(new_cert, live_cert)
        shutil.copy(new_key, live_key)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while peer_cert(srv.port, pki) == first:
            assert time.monotonic() < deadline, "new connections still get the old certificate"
            time.sleep(0.1)
        # the connection from before the reload still serves (same TLS session, not dropped)
        r = kept.get(f"{srv.url}/")
        assert r.status_code == 200
        ssl_object = r.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object.getpeercert(True) == first  # the old connection itself
        # a bad reload keeps the last good certificate
        live_key.write_text("not a key")
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert kept.get(f"{srv.url}/").status_code == 200
        assert peer_cert(srv.port, pki) != first
    assert srv.proc.poll() is None


def test_encrypted_key_with_password(tls_server: Any, pki: TestPki) -> None:
    cert, key = pki.issue("enc", "DNS:localhost,IP:127.0.0.1", password="s3cret")
    srv = tls_server(ssl_certfile=str(cert), ssl_keyfile=str(key), ssl_keyfile_password="s3cret")
    assert curl("--cacert", str(pki.ca), f"{srv.url}/").returncode == 0


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"ssl_keyfile_password": "wrong"}, "wrong password"),
        ({"ssl_certfile": "/nonexistent.pem"}, "cannot load certificate chain"),
        ({"ssl_cert_reqs": 2}, "ssl_cert_reqs needs ssl_ca_certs"),
    ],
)
def test_bad_settings_fail_at_startup_with_the_reason(
    pki: TestPki, settings: dict[str, Any], reason: str
) -> None:
    cert, key = pki.issue("enc2", "DNS:localhost", password="right")
    base: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key),
                            "ssl_keyfile_password": "right"}  # fmt: skip
    base.update(settings)
    p = subprocess.run(
        [sys.executable, str(HERE / "tls_app.py"), str(free_port()), json.dumps(base)],
        cwd=ROOT, env=python_env(), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert p.returncode != 0
    assert reason in p.stdout + p.stderr


def test_cli_ssl_flags(pki: TestPki, serve_cmd: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    start_server(
        ["run", "tls_app:app", "--app-dir", str(HERE), "--port", str(port),
         "--ssl-certfile", str(pki.cert), "--ssl-keyfile", str(pki.key),
         "--ssl-ca-certs", str(pki.ca), "--ssl-cert-reqs", "2"],
        serve_cmd, port,
    )  # fmt: skip
    u = f"https://localhost:{port}/"
    assert curl("--cacert", str(pki.ca), u).returncode != 0  # client cert required
    ok = curl(
        "--cacert", str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key), u
    )
    assert ok.returncode == 0 and '"https"' in ok.stdout, ok.stderr


def test_ws_over_tls(pki: TestPki) -> None:
    """The App's WebSocket route over wss:// (the upgrade runs on the TLS transport)."""
    websockets_client = require_module("websockets.sync.client")
    app = App(ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.key))

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text() + "!")

    with TestClient(app, verify=ssl_context(pki)) as client:
        assert client.get("/docs").status_code == 200
        assert str(client.base_url).startswith("https://")
        with websockets_client.connect(
            f"wss://localhost:{client.port}/ws",
            ssl=ssl_context(pki),
            create_connection=request_before_reader(),  # the client's TLS 1.3 thread race
        ) as conn:
            conn.send("hi")
            assert conn.recv(timeout=10) == "hi!"
