"""FasterAPI: Python ergonomics on a C++ core."""

from __future__ import annotations

import os as _os

# Development builds may put the extension outside the package (see bindings/CMakeLists.txt).
if _native_dir := _os.environ.get("FASTERAPI_NATIVE_DIR"):
    __path__.insert(0, _native_dir)  # type: ignore[name-defined]

__version__ = "0.1.0"
