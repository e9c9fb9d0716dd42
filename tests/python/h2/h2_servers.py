"""The servers the HTTP/2 tests talk to, as fixtures: the C++ hello_server and h2_app.py (the
Python App) as subprocesses, and the test PKI. Test modules take them with
`pytest_plugins = ["h2_servers"]` (imported by pytest, not by the test module, so that pytest
rewrites its asserts)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from h2_tools import hello_server_binary, start
from tls_certs import TestPki, make_pki

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    running: list[subprocess.Popen[bytes]] = []
    yield running
    for p in running:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.fixture
def cpp_server(procs: list[subprocess.Popen[bytes]]) -> int:
    port = free_port()
    start([str(hello_server_binary()), "--port", str(port)], procs, port)
    return port


@pytest.fixture
def py_server(procs: list[subprocess.Popen[bytes]]) -> Iterator[Any]:
    def run(**settings: Any) -> tuple[int, subprocess.Popen[bytes]]:
        port = free_port()
        proc = start(
            [sys.executable, str(HERE / "h2_app.py"), str(port), json.dumps(settings)], procs, port
        )
        return port, proc

    yield run
