"""Shared helpers for the Python tests: ports, raw sockets, server subprocesses."""

from __future__ import annotations

import importlib
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# In CI a missing test dependency or tool is a failure: a suite that skips there tests nothing
# while looking green. CI is recognised by CI being set (as CI services do) or by
# FASTERAPI_REQUIRE_PG=1, which scripts/test.sh (what .ci/run runs) exports.
IN_CI = bool(os.environ.get("CI")) or os.environ.get("FASTERAPI_REQUIRE_PG") == "1"


def require_module(name: str) -> Any:
    """Import `name`: skip the test locally when it is missing, fail in CI (IN_CI). Not for our own
    modules or the extension: those are always required (import them directly)."""
    if IN_CI:
        return importlib.import_module(name)
    return pytest.importorskip(name)


def missing(reason: str) -> None:
    """Something a test needs is absent: skip locally, fail in CI."""
    (pytest.fail if IN_CI else pytest.skip)(reason + (" (CI is set: required)" if IN_CI else ""))


# FASTERAPI_TEST_TRANSPORT=tls: every TestClient serves its app over TLS (a test CA made at
# session start) and httpx verifies against that CA; =h2c: every TestClient speaks HTTP/2 by
# prior knowledge. scripts/test.sh runs the whole suite a second and a third time that way.
TEST_TRANSPORT = os.environ.get("FASTERAPI_TEST_TRANSPORT", "tcp")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "transport_specific(reason): the test is about one transport (raw HTTP/1.1 bytes on TCP, "
        "a server it starts itself, a client that ignores TestClient's TLS/h2 settings); "
        "deselected when FASTERAPI_TEST_TRANSPORT is tls or h2c",
    )


# What the TLS/h2c runs left out, by reason (printed in the terminal summary).
_transport_deselected: dict[str, set[str]] = {}


# Modules that never serve through TestClient, so FASTERAPI_TEST_TRANSPORT cannot reach them:
# the TLS/h2c runs deselect them (running them again would test nothing new). In the plain run
# _never_through_testclient fails a listed module that starts a TestClient, so the list stays
# true.
_H2_OWN = "h2/h2c frames against servers the test starts itself"
_MCP_OWN = "MCP over stdio or servers the test starts itself"
_OWN = "servers the test starts itself (subprocesses, C++ servers)"
NOT_THROUGH_TESTCLIENT: dict[str, str] = {
    "asgi/test_asgi_run.py": _OWN,
    "files/test_range_parse.py": "the Range parser, no server",
    "h2/test_h2.py": _H2_OWN,
    "h2/test_h2_body_stream.py": _H2_OWN,
    "h2/test_h2_streams.py": _H2_OWN,
    "h2/test_h2_websocket.py": _H2_OWN,
    "h2/test_h2c_upgrade.py": _H2_OWN,
    "mcp/conformance/test_bad_input.py": _MCP_OWN,
    "mcp/conformance/test_client_conformance.py": _MCP_OWN,
    "mcp/conformance/test_conformance.py": _MCP_OWN,
    "mcp/test_client.py": _MCP_OWN,
    "mcp/test_client_auth.py": _MCP_OWN,
    "mcp/test_client_https.py": _MCP_OWN,
    "mcp/test_client_server_requests.py": _MCP_OWN,
    "mcp/test_docs.py": _MCP_OWN,
    "mcp/test_mount.py": _MCP_OWN,
    "mcp/test_sdk_http.py": _MCP_OWN,
    "mcp/test_sdk_stdio.py": _MCP_OWN,
    "mcp/test_server_auth.py": _MCP_OWN,
    "mcp/test_server_requests.py": _MCP_OWN,
    "mcp/test_server_resume.py": _MCP_OWN,
    "mcp/test_stdio_bad_input.py": _MCP_OWN,
    "mcp/test_tasks.py": _MCP_OWN,
    "pg/test_async_api.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_cancel.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_cluster_auth_failover.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_codecs.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_core_bytes.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_desync.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_fetchmany.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_fetchrow_each_batch.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_pool_fetchrow_each.py": "the PostgreSQL driver, no HTTP server",
    "pg/test_reliability.py": "the PostgreSQL driver, no HTTP server",
    "test_cli_workers.py": _OWN,
    "test_datastructures.py": "data structures, no server",
    "test_endpoint.py": "endpoint signatures, no server",
    "test_json.py": "the JSON encoder, no server",
    "test_native_server.py": _OWN,
    "test_no_silent_skips.py": "a check of the test sources",
    "test_request_stream.py": _OWN,
    "test_responses.py": "response objects, no server",
    "test_soak.py": _OWN,
    "test_supervisor.py": _OWN,
    "test_techempower_cpp.py": _OWN,
    "test_techempower_plot.py": "plots from results, no server",
    "ws/test_ws_autobahn.py": _OWN,
    "ws/test_ws_limits.py": _OWN,
}
_HERE = Path(__file__).resolve().parent


def _not_through_testclient(path: Path) -> str | None:
    return NOT_THROUGH_TESTCLIENT.get(path.resolve().relative_to(_HERE).as_posix())


@pytest.fixture(autouse=True, scope="module")
def _never_through_testclient(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module in NOT_THROUGH_TESTCLIENT that starts a TestClient fails (plain run)."""
    if TEST_TRANSPORT != "tcp" or _not_through_testclient(request.path) is None:
        yield
        return
    from fasterapi.testing import TestClient

    def refuse(self: TestClient) -> None:
        raise AssertionError(
            f"{request.path.name} starts a TestClient: remove it from NOT_THROUGH_TESTCLIENT "
            "(tests/python/conftest.py) so the TLS/h2c runs include it"
        )

    mp = pytest.MonkeyPatch()
    mp.setattr(TestClient, "start", refuse)
    yield
    mp.undo()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under FASTERAPI_TEST_TRANSPORT=tls/h2c, deselect (pytest counts them in the summary,
    never a silent skip) the tests the switch cannot reach: modules that never serve through
    TestClient (the PG driver, MCP over stdio or its own servers, encoders, C++ servers run
    as subprocesses; running them again would test nothing new), and tests marked
    transport_specific, which are about one transport. The marker takes the transports it
    excludes (default: both), e.g. transport_specific("why", only=("tls",))."""
    missing_files = [m for m in NOT_THROUGH_TESTCLIENT if not (_HERE / m).exists()]
    if missing_files:
        raise pytest.UsageError(f"NOT_THROUGH_TESTCLIENT lists missing files: {missing_files}")
    if TEST_TRANSPORT == "tcp":
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marks = list(item.iter_markers("transport_specific"))
        for mark in marks:
            if not mark.args or not isinstance(mark.args[0], str) or not mark.args[0]:
                raise pytest.UsageError(f"{item.nodeid}: transport_specific needs a reason")
        module = item.nodeid.split("::")[0]
        if _not_through_testclient(item.path) is not None:
            reason = "never serves through TestClient"
        elif any(TEST_TRANSPORT in m.kwargs.get("only", ("tls", "h2c")) for m in marks):
            reason = "transport_specific"
        else:
            kept.append(item)
            continue
        dropped.append(item)
        _transport_deselected.setdefault(reason, set()).add(module)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason, modules in sorted(_transport_deselected.items()):
        terminalreporter.write_line(
            f"FASTERAPI_TEST_TRANSPORT={TEST_TRANSPORT}: deselected ({reason}) in "
            f"{len(modules)} modules: {' '.join(sorted(modules))}"
        )


def transport_specific(reason: str, *, only: tuple[str, ...] = ("tls", "h2c")) -> Any:
    """`pytestmark = transport_specific("why")`: see pytest_collection_modifyitems."""
    return pytest.mark.transport_specific(reason, only=only)


@pytest.fixture(autouse=True, scope="session")
def _test_transport(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if TEST_TRANSPORT == "h2c":  # every TestClient speaks HTTP/2 with prior knowledge
        from fasterapi.testing import TestClient as Client

        Client.suite_http2 = True
        yield
        Client.suite_http2 = False
        return
    if TEST_TRANSPORT != "tls":
        yield
        return
    from tls_certs import make_pki

    from fasterapi.testing import TestClient

    pki = make_pki(tmp_path_factory.mktemp("suite-pki"))
    TestClient.suite_tls = {
        "ssl_certfile": str(pki.cert),
        "ssl_keyfile": str(pki.key),
        "verify": ssl.create_default_context(cafile=str(pki.ca)),
    }
    yield
    TestClient.suite_tls = None


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot use port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raw_http(port: int, data: bytes, *, until_close: bool = True, expect: int = 0) -> bytes:
    """Send raw bytes; read until the server closes, or until `expect` responses arrived.
    To a TestClient serving over TLS (FASTERAPI_TEST_TRANSPORT=tls) the bytes go over TLS."""
    with raw_socket(port) as s:
        s.sendall(data)
        out = b""
        while True:
            if expect and out.count(b"HTTP/1.1 ") >= expect and _complete(out, expect):
                return out
            try:
                chunk = s.recv(65536)
            except ssl.SSLEOFError:  # closed without close_notify: an EOF, as over TCP
                chunk = b""
            if not chunk:
                return out
            out += chunk


def raw_socket(port: int, timeout: float = 30) -> socket.socket:
    """A socket to 127.0.0.1:port for raw HTTP/1.1 bytes: wrapped in TLS when `port` is a
    TestClient serving over TLS (FASTERAPI_TEST_TRANSPORT=tls), so such tests run there too."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    from fasterapi.testing import TestClient, _running

    tls = TestClient.suite_tls
    if tls is not None and any(c.port == port and c._scheme == "https" for c in _running):
        return tls["verify"].wrap_socket(s, server_hostname="127.0.0.1")  # type: ignore[no-any-return]
    return s


def _complete(out: bytes, expect: int) -> bool:
    # Every response in these tests carries content-length; check the last body is whole.
    last = out.rfind(b"HTTP/1.1 ")
    head_end = out.find(b"\r\n\r\n", last)
    if head_end < 0:
        return False
    for line in out[last:head_end].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(out) - head_end - 4 >= int(line.split(b":")[1])
    return True


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    """Block until something accepts on 127.0.0.1:port (fails if `proc` exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}:\n{out}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def serve_cmd() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Collects server subprocesses and kills any left running at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def start_server(
    args: list[str], procs: list[subprocess.Popen[bytes]], port: int, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """`python -m fasterapi <args>` (or a script when args[0] ends in .py), waited until up."""
    cmd = (
        [sys.executable, *args]
        if args[0].endswith(".py")
        else [sys.executable, "-m", "fasterapi", *args]
    )
    proc = subprocess.Popen(
        cmd, cwd=cwd or ROOT, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    procs.append(proc)
    wait_for_port(port, proc)
    return proc
