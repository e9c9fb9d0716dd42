"""StaticFiles: serve a directory's files (`app.mount("/static", StaticFiles(directory="s"))`)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from email.utils import parsedate

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
        found = self.lookup_stat(rel)
        return found[0] if found is not None else None

    def lookup_stat(self, rel: str) -> tuple[str, os.stat_result] | None:
        """lookup() with the file's stat (one stat per candidate: the response's headers
        come from it)."""
        if "\x00" in rel:
            return None
        try:
            full = os.path.realpath(os.path.join(self.directory, rel.lstrip("/")))
            if full != self.directory and not full.startswith(self.directory + os.sep):
                return None
            st = os.stat(full)
            if stat.S_ISDIR(st.st_mode):
                if not self.html:
                    return None
                full = os.path.join(full, "index.html")
                st = os.stat(full)
            elif rel.endswith("/"):  # "a.txt/" names a directory, and a.txt is not one
                return None
            # Not readable by us (permissions): a 404 here rather than a 500 when it is opened.
            if stat.S_ISREG(st.st_mode) and os.access(full, os.R_OK):
                return full, st
            return None
        except (OSError, ValueError):  # missing, ENAMETOOLONG, ELOOP, lone surrogates, ...
            return None

    def __call__(self, req: Request, res: Response) -> Response:
        """A plain (req, res) endpoint: the engine calls it directly. A conditional GET whose
        validators still match gets 304 (RFC 9110 §13.1.1-13.1.3), else the file (sendfile)."""
        found = self.lookup_stat(req.path_params.get("path", ""))
        if found is None:
            raise HTTPException(404, "Not Found")
        response = FileResponse(found[0], stat_result=found[1])
        if self.is_not_modified(response.headers, req.headers):
            return not_modified(response)
        return response

    @staticmethod
    def is_not_modified(
        response_headers: Mapping[str, str], request_headers: Mapping[str, str]
    ) -> bool:
        """True when the client's copy is current: If-None-Match names the ETag (weak
        comparison, §13.1.2) or is "*"; else, without If-None-Match, If-Modified-Since is not
        older than Last-Modified (§13.1.3)."""
        if_none_match = request_headers.get("if-none-match")
        if if_none_match:
            if if_none_match.strip() == "*":
                return True
            etag = response_headers.get("etag")
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return etag is not None and etag in tags
        since = request_headers.get("if-modified-since")
        modified = response_headers.get("last-modified")
        if since is None or modified is None:
            return False
        since_t, modified_t = parsedate(since), parsedate(modified)
        return since_t is not None and modified_t is not None and since_t >= modified_t

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r})"


# RFC 9110 §15.4.5: a 304 carries the headers a 200 would have sent among these.
_NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def not_modified(response: FileResponse) -> Response:
    """The 304 answering a conditional GET for `response`'s file."""
    headers = response.headers
    return Response(
        status_code=304,
        headers={name: headers[name] for name in _NOT_MODIFIED_HEADERS if name in headers},
    )
