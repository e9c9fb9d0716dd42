"""Which HTTP engine serves: the C++ one in fasterapi._native, or the pure-Python stand-in.

FASTERAPI_ENGINE=python forces the stand-in (slow; for debugging and for machines where the
extension is not built). Both expose the same Server/Request/Responder interface.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any


def _pick() -> tuple[ModuleType, str]:
    if os.environ.get("FASTERAPI_ENGINE") != "python":
        try:
            from fasterapi import _native

            if hasattr(_native, "Server"):
                return _native, "native"
        except ImportError:
            pass
    from fasterapi import _pyserver

    return _pyserver, "python"


_module, NAME = _pick()
NativeRequest: Any = _module.Request
Server: Any = _module.Server
