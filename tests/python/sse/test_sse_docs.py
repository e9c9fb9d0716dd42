"""Every Python block in docs/sse.md runs as written; the C++ block is the code of
examples/cpp/hello_server.cpp (built and run by the C++ suite), not a copy that can drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import transport_specific

pytestmark = transport_specific(
    "the docs' examples, run as written, use http:// URLs and raw sockets",
    only=("tls",),
)

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "sse.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = BLOCK.findall(DOC.read_text())
PYTHON = [body for kind, body in BLOCKS if kind == "python"]
CPP = [body for kind, body in BLOCKS if kind == "cpp"]


def test_the_page_has_examples() -> None:
    assert len(PYTHON) >= 5
    assert len(CPP) == 1


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs(index: int) -> None:
    exec(compile(PYTHON[index], f"sse.md[python block {index}]", "exec"), {"__name__": "__main__"})


def test_cpp_block_is_hello_server_code() -> None:
    source = (ROOT / "examples" / "cpp" / "hello_server.cpp").read_text()
    assert CPP[0] in source
