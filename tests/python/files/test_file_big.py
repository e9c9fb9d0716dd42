"""Large files through sendfile(2): a 1 GB sparse file streamed with flat memory, a client that
leaves mid-file (the engine closes the file, the server goes on), and curl as the judge of
ranges, conditional GETs and HEAD."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import transport_specific

from fasterapi import App
from fasterapi.staticfiles import StaticFiles
from fasterapi.testing import TestClient

pytestmark = transport_specific("curl and raw TCP sockets on http:// URLs", only=("tls",))

GB = 1 << 30


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    big = tmp_path / "sparse.bin"
    with open(big, "wb") as f:  # 1 GB of holes: no disk, but every byte is read and sent
        f.truncate(GB)
        f.seek(GB - 5)
        f.write(b"tail!")
    (tmp_path / "small.txt").write_text("0123456789")
    app = App()
    app.mount("/static", StaticFiles(directory=tmp_path))
    with TestClient(app) as c:
        yield c, tmp_path


def test_one_gigabyte_streams_without_memory_growth(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    before = _rss_kib()
    received = 0
    tail = b""
    with httpx.stream("GET", f"http://127.0.0.1:{client.port}/static/sparse.bin") as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(GB)
        for chunk in r.iter_raw(1 << 20):
            received += len(chunk)
            tail = (tail + chunk)[-5:]
    grown_mib = (_rss_kib() - before) / 1024
    assert received == GB
    assert tail == b"tail!"
    # The server (in this process) never holds the file in memory: sendfile moves pages from
    # the page cache to the socket. 64 MiB allows for the client's buffers and the allocator.
    assert grown_mib < 64, f"RSS grew by {grown_mib:.0f} MiB while serving 1 GB"


def test_client_leaving_mid_file_closes_the_file(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    assert client.get("/static/small.txt").text == "0123456789"  # warm: lazy fds opened
    baseline = _open_fds()
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", client.port))
        s.sendall(b"GET /static/sparse.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        s.close()  # gone with ~1 GB unsent
    deadline = time.monotonic() + 10
    while _open_fds() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_fds() <= baseline, "the file (or the socket) of a departed client stayed open"
    assert client.get("/static/small.txt").text == "0123456789"


def _curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert shutil.which("curl"), "curl is needed (scripts/install-deps.sh installs it)"
    return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=60, check=True)


def test_curl_ranges_conditional_and_head(served: tuple[TestClient, Path]) -> None:
    client, root = served
    url = f"http://127.0.0.1:{client.port}/static/small.txt"
    assert _curl("-r", "2-4", url).stdout == b"234"
    out = _curl("-r", "0-1,8-", "-D", "-", url).stdout
    assert out.startswith(b"HTTP/1.1 206") and b"multipart/byteranges" in out
    assert b"Content-Range: bytes 0-1/10" in out and b"Content-Range: bytes 8-9/10" in out
    # -z sends If-Modified-Since with the file's time: not modified.
    code = _curl("-z", str(root / "small.txt"), "-o", "/dev/null", "-w", "%{http_code}", url)
    assert code.stdout == b"304"
    etag = next(
        line.split(b": ", 1)[1].strip()
        for line in _curl("-I", url).stdout.split(b"\r\n")
        if line.lower().startswith(b"etag:")
    )
    code = _curl(
        "-H", f"If-None-Match: {etag.decode()}", "-o", "/dev/null", "-w", "%{http_code}", url
    )
    assert code.stdout == b"304"
    head = _curl("-I", url).stdout.lower()
    assert b"content-length: 10\r\n" in head and b"accept-ranges: bytes\r\n" in head
    assert _curl("-r", "20-", "-o", "/dev/null", "-w", "%{http_code}", url).stdout == b"416"
