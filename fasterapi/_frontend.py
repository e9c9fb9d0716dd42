"""`app.frontend(path, directory=...)` (FastAPI 0.16x): a static frontend build (`dist/`)
served at low priority — only requests no route matched reach it (the engine's fallback) —
with a single-page-app fallback: `404.html` when the build has one, else `index.html` for
browser navigations (an Accept naming text/html), else 404."""

from __future__ import annotations

import os
import warnings
from typing import Any, Literal

from fasterapi.datastructures import URL
from fasterapi.exceptions import HTTPException
from fasterapi.responses import FileResponse, RedirectResponse, Response
from fasterapi.staticfiles import StaticFiles

Fallback = Literal["auto", "index.html", "404.html"] | None
_NAVIGATION_TYPES = ("text/html", "application/xhtml+xml")


def resolve_check_dir(directory: str | os.PathLike[str], check_dir: bool | str) -> bool:
    """check_dir="auto": check, except under FASTAPI_ENV=development (`fastapi dev`), where
    a missing directory is only warned about (the build may not exist yet)."""
    if check_dir != "auto":
        return bool(check_dir)
    if os.environ.get("FASTAPI_ENV") != "development":
        return True
    if not os.path.isdir(directory):
        warnings.warn(
            f"Frontend directory '{directory}' does not exist. "
            f"Resolved absolute path: '{os.path.abspath(directory)}'",
            stacklevel=4,
        )
    return False


class Frontend:
    """One `app.frontend(...)` mount: `answer(req)` is its response for a request under
    `path`, or None for a request outside it."""

    def __init__(
        self,
        path: str,
        directory: str | os.PathLike[str],
        fallback: Fallback = "auto",
        check_dir: bool = True,
    ) -> None:
        if fallback not in ("auto", "index.html", "404.html", None):
            raise ValueError("fallback must be 'auto', 'index.html', '404.html', or None")
        if not path.startswith("/"):
            raise ValueError(f"frontend path must start with '/': {path!r}")
        self.path = path.rstrip("/") or "/"
        if check_dir and not os.path.isdir(directory):
            raise RuntimeError(
                f"Frontend directory '{directory}' does not exist. "
                f"Resolved absolute path: '{os.path.abspath(directory)}'"
            )
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)
        self.fallback = fallback
        if check_dir and fallback in ("index.html", "404.html") and not self._has(fallback):
            raise RuntimeError(
                f"Frontend fallback file '{fallback}' does not exist in directory "
                f"'{directory}'. Resolved absolute directory: '{self.files.directory}'"
            )

    def specificity(self) -> int:
        """Longer paths win when several frontends cover a request."""
        return 0 if self.path == "/" else self.path.count("/")

    def relative(self, path: str) -> str | None:
        """The request path inside the build, or None when it is not under self.path."""
        if self.path == "/":
            return path.lstrip("/")
        if path == self.path:
            return ""
        if path.startswith(self.path + "/"):
            return path[len(self.path) + 1 :]
        return None

    def _has(self, name: str) -> bool:
        return self.files.lookup(name) is not None

    def answer(self, req: Any) -> Response | None:
        rel = self.relative(req.path)
        if rel is None:
            return None
        full = self.files.lookup(rel)  # a directory gives its index.html
        if req.method not in ("GET", "HEAD"):
            raise HTTPException(405 if full is not None else 404)
        if full is not None:
            index = os.path.basename(full) == "index.html" and not rel.endswith("index.html")
            if index and not req.path.endswith("/"):  # a directory: its URL ends with "/"
                u = req.url
                return RedirectResponse(str(URL(u.scheme, u.netloc, u.path + "/", u.query)))
            return FileResponse(full)
        if self.fallback == "404.html" or (self.fallback == "auto" and self._has("404.html")):
            return self._fallback("404.html", 404)
        if (
            self.fallback == "index.html"
            or (self.fallback == "auto" and self._has("index.html"))
        ) and _is_navigation(req.headers.get("accept", "")):
            return self._fallback("index.html", 200)
        raise HTTPException(404)

    def _fallback(self, name: str, status: int) -> Response:
        full = self.files.lookup(name)
        if full is None:
            raise RuntimeError(
                f"Frontend fallback file '{name}' does not exist in directory "
                f"'{self.files.directory}'"
            )
        return FileResponse(full, status_code=status)


def _is_navigation(accept: str) -> bool:
    """A browser navigating (RFC 9110 §12.5.1 Accept naming HTML with a non-zero q)."""
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in _NAVIGATION_TYPES:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    pass
        if q != 0:
            return True
    return False


def frontend_endpoint(frontends: list[Frontend], unrouted: Any) -> Any:
    """The engine's fallback endpoint with frontends: the most specific frontend covering
    the path answers; anything else is the usual 404/405."""
    ordered = sorted(frontends, key=lambda f: -f.specificity())

    def endpoint(req: Any, res: Any) -> Any:
        # A route with the path for other methods: a GET/HEAD the build has is still served
        # (Starlette's router prefers the frontend's full match); anything else is its 405.
        routed = bool(req.allowed_methods)
        if not routed or req.method in ("GET", "HEAD"):
            for fe in ordered:
                try:
                    resp = fe.answer(req)
                except HTTPException:
                    if routed:
                        break
                    raise
                if resp is not None:
                    return resp
        return unrouted(req, res)

    return endpoint
