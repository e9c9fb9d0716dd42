"""The HTTP engine: the C++ server in fasterapi._native. There is no fallback: a missing or
broken extension is an install problem to fix, not something to serve around slowly."""

from __future__ import annotations

from typing import Any

try:
    from fasterapi import _native
except ImportError as e:  # pragma: no cover - exercised only on broken installs
    raise ImportError(
        "fasterapi._native (the C++ engine) is not built or failed to load: "
        f"{e}. Install from source with `pip install -e .` (needs a C++20 compiler and cmake)."
    ) from e

NAME = "native"
NativeRequest: Any = _native.Request
Server: Any = _native.Server
