"""--reload: run the server in a child process and restart it when a .py file changes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence

log = logging.getLogger("fasterapi.error")
_SCAN_INTERVAL = 1.0  # seconds between file scans; cheap enough, quick enough for a human


def _snapshot(dirs: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs if not s.startswith((".", "__pycache__", "build"))]
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(root, f)
                    try:
                        out[path] = os.stat(path).st_mtime
                    except OSError:
                        pass
    return out


def run_with_reload(command: list[str], dirs: Sequence[str]) -> int:
    """Run `command`; restart it whenever a .py file under `dirs` changes; stop on Ctrl-C."""
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    child = subprocess.Popen(command)
    seen = _snapshot(dirs)
    try:
        while not stop:
            time.sleep(_SCAN_INTERVAL)
            now = _snapshot(dirs)
            if now != seen:
                changed = sorted({*now.items()} ^ {*seen.items()})
                log.warning("reloading: %s changed", changed[0][0] if changed else "a file")
                seen = now
                child.terminate()
                child.wait()
                child = subprocess.Popen(command)
    finally:
        child.terminate()
        code = child.wait()
    return code
