"""StaticFiles: serve a directory's files (`app.mount("/static", StaticFiles(directory="s"))`)."""

from __future__ import annotations

import os

from fasterapi.exceptions import HTTPException
from fasterapi.requests import Request
from fasterapi.responses import FileResponse, Response


class StaticFiles:
    """An endpoint(req, res) returning the file under `directory` named by the `path`
    parameter; 404 for anything missing or outside the directory."""

    def __init__(
        self, directory: str | os.PathLike[str], *, html: bool = False, check_dir: bool = True
    ) -> None:
        self.directory = os.path.realpath(directory)
        if check_dir and not os.path.isdir(self.directory):
            raise RuntimeError(f"StaticFiles: directory {os.fspath(directory)!r} does not exist")
        self.html = html

    def lookup(self, rel: str) -> str | None:
        """The absolute file path for `rel`, or None when missing, escaping the directory or
        not a valid file name at all (NUL bytes, names too long, undecodable): never raises."""
        if "\x00" in rel:
            return None
        try:
            full = os.path.realpath(os.path.join(self.directory, rel.lstrip("/")))
            if full != self.directory and not full.startswith(self.directory + os.sep):
                return None
            if os.path.isdir(full):
                if not self.html:
                    return None
                full = os.path.join(full, "index.html")
            elif rel.endswith("/"):  # "a.txt/" names a directory, and a.txt is not one
                return None
            # Not readable by us (permissions): a 404 here rather than a 500 when it is opened.
            return full if os.path.isfile(full) and os.access(full, os.R_OK) else None
        except (OSError, ValueError):  # ENAMETOOLONG, ELOOP, lone surrogates, ...
            return None

    def __call__(self, req: Request, res: Response) -> FileResponse:
        """A plain (req, res) endpoint: the engine calls it directly."""
        full = self.lookup(req.path_params.get("path", ""))
        if full is None:
            raise HTTPException(404, "Not Found")
        return FileResponse(full)

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r})"
