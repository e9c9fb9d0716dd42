"""Every code block in docs/async-await.md runs: Python blocks in-process, C++ blocks compiled
against src/core and executed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import missing

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "async-await.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(DOC.read_text()) if kind == lang]


PYTHON_BLOCKS = _blocks("python")
CPP_BLOCKS = _blocks("cpp")


def test_the_page_has_examples() -> None:
    assert len(PYTHON_BLOCKS) >= 8
    assert len(CPP_BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_block_runs(index: int) -> None:
    code = compile(PYTHON_BLOCKS[index], f"{DOC.name}[python block {index}]", "exec")
    exec(code, {"__name__": "__main__"})


@pytest.mark.parametrize("index", range(len(CPP_BLOCKS)))
def test_cpp_block_compiles_and_runs(index: int, tmp_path: Path) -> None:
    cxx = shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        missing("no C++ compiler (g++ or clang++)")
    src = tmp_path / f"block{index}.cpp"
    src.write_text(CPP_BLOCKS[index])
    exe = tmp_path / f"block{index}"
    core = ROOT / "src" / "core"
    cmd = [cxx, "-std=c++20", "-O0", f"-I{ROOT / 'src'}", str(src)]
    # uring_ring.cpp without FA_HAVE_URING: the loop is epoll only, as a build without liburing
    cmd += [str(core / name) for name in ("event_loop.cpp", "uring_ring.cpp", "loop_futures.cpp")]
    cmd += ["-pthread"]
    subprocess.run([*cmd, "-o", str(exe)], check=True, timeout=240)
    result = subprocess.run([str(exe)], timeout=60)
    assert result.returncode == 0
