"""The "Compression" section of docs/http-server.md: its Python examples run as written, and
its C++ line is hello_server's own code."""

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
TEXT = (ROOT / "docs" / "http-server.md").read_text()
SECTION = TEXT[TEXT.index("\n## Compression\n") :]
SECTION = SECTION[: SECTION.find("\n## ", 1) if "\n## " in SECTION[1:] else len(SECTION)]
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = BLOCK.findall(SECTION)
PYTHON = [body for kind, body in BLOCKS if kind == "python"]
CPP = [body for kind, body in BLOCKS if kind == "cpp"]


def test_the_section_has_examples() -> None:
    assert len(PYTHON) == 2 and len(CPP) == 1


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs(index: int) -> None:
    code = compile(PYTHON[index], f"http-server.md#compression[{index}]", "exec")
    exec(code, {"__name__": "__main__"})


def test_cpp_line_is_hello_server_code() -> None:
    assert CPP[0].strip() in (ROOT / "examples" / "cpp" / "hello_server.cpp").read_text()
