"""HTTP middleware: `async def mw(request, call_next) -> Response` callables and classes."""

from fasterapi.middleware.cors import CORSMiddleware
from fasterapi.middleware.gzip import GZipMiddleware

__all__ = ["CORSMiddleware", "GZipMiddleware"]
