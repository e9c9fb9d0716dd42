"""Counting a server's instructions per request with callgrind: zero the counters of a running
`valgrind --tool=callgrind` process, drive the load, dump, read the dump's totals. Used by the
count_instructions.py scripts (asgi, fastapi_style, techempower); instruction counts do not
depend on what else the machine is doing, so they compare code on a busy machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def python_binary() -> str:
    """The interpreter to run under callgrind: not a shim script (pyenv's `python3` is one),
    since callgrind does not follow exec without --trace-children. A virtualenv's python is
    kept as it is: resolving its link would leave the venv (and its packages) behind."""
    if sys.prefix != sys.base_prefix:
        return sys.executable
    return os.path.realpath(sys.executable)


def zero(pid: int) -> None:
    """Reset the running process's counters (callgrind_control -z)."""
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)


def dump(pid: int) -> None:
    """Write a dump part with the counts since the last zero (callgrind_control --dump)."""
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)


def newest_totals(pattern: Path) -> dict[str, int]:
    """Event name -> total of the newest dump part whose name starts with `pattern`'s name
    (callgrind numbers the parts: out, out.1, out.2, ...)."""
    parts = sorted(pattern.parent.glob(pattern.name + "*"), key=lambda p: p.stat().st_mtime)
    if not parts:
        raise RuntimeError(f"callgrind wrote no dump next to {pattern}")
    text = parts[-1].read_text()
    events = re.search(r"^events: (.+)$", text, re.M)
    summary = re.search(r"^(?:summary|totals): (.+)$", text, re.M)
    if events is None or summary is None:
        raise RuntimeError(f"{parts[-1]}: no events/summary line")
    names, values = events.group(1).split(), summary.group(1).split()
    return dict(zip(names, map(int, values), strict=False))


def newest_instructions(pattern: Path) -> int:
    """Instructions (Ir) in the newest dump part."""
    return newest_totals(pattern)["Ir"]


def keep_dumps(folder: str | Path, into: str | Path, glob: str) -> None:
    """Copy the dump parts matching `glob` out of a temporary folder."""
    Path(into).mkdir(parents=True, exist_ok=True)
    for part in Path(folder).glob(glob):
        (Path(into) / part.name).write_bytes(part.read_bytes())
