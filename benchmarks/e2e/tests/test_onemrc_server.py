"""The C++ 1MRC entry (examples/cpp/onemrc_server) on both loop backends: a small exact run of
the 1MRC client against it, and a body that is not an event is refused and not counted."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import onemrc, procs

REPO = Path(__file__).resolve().parents[3]
# As tests/python/conftest.py: in CI (scripts/test.sh exports FASTERAPI_REQUIRE_PG=1) a missing
# binary or tool fails, locally it skips.
ALL_CORES = f"0-{(os.cpu_count() or 1) - 1}"
IN_CI = bool(os.environ.get("CI")) or os.environ.get("FASTERAPI_REQUIRE_PG") == "1"


def _missing(reason: str) -> None:
    (pytest.fail if IN_CI else pytest.skip)(reason)


def _server_binary() -> Path:
    found = [
        p
        for d in ("build/release", "build/dev", "build-bench")
        if (p := REPO / d / "examples/cpp/onemrc_server").exists()
    ]
    if not found:
        _missing("onemrc_server is not built (cmake --build build/release --target onemrc_server)")
    return max(found, key=lambda p: p.stat().st_mtime)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("g++") is None:
        _missing("needs g++ (the 1MRC client is compiled by the harness)")
    return onemrc.build_client(tmp_path_factory.mktemp("build"))


@pytest.fixture(params=["epoll", "uring"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[procs.Server]:
    port = procs.free_port()
    srv = procs.Server(
        "onemrc_server",
        [
            str(_server_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            request.param,
        ],
        port,
        core=ALL_CORES,
        log_path=tmp_path / "server.log",
    )
    srv.start()
    try:
        srv.wait_ready("/stats")
        yield srv
    finally:
        srv.stop()


def _request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, object]]:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1])


def test_small_run_is_exact(client: Path, server: procs.Server) -> None:
    res = onemrc.run_client(client, server.port, requests=5000, connections=50, core=ALL_CORES)
    assert (res.responses, res.errors, res.exact) == (5000, 0, True), res.output
    _, stats = _request(server.port, "GET", "/stats")
    # 5000 events, users user-0..user-4999, values (i*7) % 1000 + 1.
    assert stats["totalRequests"] == 5000
    assert stats["uniqueUsers"] == 5000
    assert stats["sum"] == sum((i * 7) % 1000 + 1 for i in range(5000))


def test_bad_events_are_refused_and_not_counted(server: procs.Server) -> None:
    for body in [
        b"{",
        b"[]",
        b'{"userId": 1, "value": 2}',
        b'{"userId": "u"}',
        b'{"value": 2}',
        b'{"userId": "u", "value": "2"}',
    ]:
        status, _ = _request(server.port, "POST", "/event", body)
        assert status == 400, body
    assert _request(server.port, "POST", "/event", b'{"userId": "u\\u00e9", "value": 2.5}') == (
        200,
        {"status": "ok"},
    )
    assert _request(server.port, "POST", "/event", b'{"value": 3, "userId": "u\\u00e9"}')[0] == 200
    _, stats = _request(server.port, "GET", "/stats")
    assert stats == {"totalRequests": 2, "uniqueUsers": 1, "sum": 5.5, "avg": 2.75}


def test_unique_users_short_long_and_empty_ids(server: procs.Server) -> None:
    # The server keeps ids of up to 22 bytes in its table's slots and longer ones beside it:
    # ids on both sides of that bound, ids that differ only past it, and the empty id are each
    # one user however often they come.
    long_a, long_b = "x" * 22 + "a", "x" * 22 + "b"
    ids = ["", "u", "x" * 22, long_a, long_b, "y" * 300]
    for _ in range(3):
        for uid in ids:
            body = json.dumps({"userId": uid, "value": 1}).encode()
            assert _request(server.port, "POST", "/event", body)[0] == 200, uid
    _, stats = _request(server.port, "GET", "/stats")
    assert stats["totalRequests"] == 3 * len(ids)
    assert stats["uniqueUsers"] == len(ids)
    assert stats["sum"] == 3 * len(ids)
