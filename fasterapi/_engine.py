"""Which HTTP engine serves: the C++ one in fasterapi._native, or the pure-Python stand-in.

FASTERAPI_ENGINE=python forces the stand-in (slow; for debugging and for machines where the
extension is not built). Both expose the same Server/Request/Responder interface.
"""

from __future__ import annotations

import os
from typing import Any

NativeRequest: Any
Server: Any

if os.environ.get("FASTERAPI_ENGINE") == "python":
    from fasterapi._pyserver import Request as NativeRequest
    from fasterapi._pyserver import Server

    NAME = "python"
else:
    try:
        from fasterapi._native import Request as NativeRequest
        from fasterapi._native import Server

        NAME = "native"
    except ImportError:
        from fasterapi._pyserver import Request as NativeRequest
        from fasterapi._pyserver import Server

        NAME = "python"
