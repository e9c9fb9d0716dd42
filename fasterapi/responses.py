"""Response classes. `Response()` is also the per-request `res` handlers receive, so it is cheap
to build: attributes live on the class until set, headers are created on first use."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterable, Iterable, Mapping
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

from fasterapi._jsonio import json_dumps
from fasterapi.background import BackgroundTask
from fasterapi.datastructures import MutableHeaders, encode_header


class Response:
    """A status, headers and a body. As `res` in a handler: set `status_code`, `headers`,
    cookies and `media_type`; the handler's return value becomes the body."""

    # Class-level defaults keep Response() (done once per request) to one allocation.
    status_code: int = 200
    raw_headers: list[tuple[bytes, bytes]] | None = None
    media_type: str | None = None
    charset: str = "utf-8"
    body: bytes = b""
    background: BackgroundTask | None = None

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if content is not None:
            self.body = self.render(content)
        if status_code != 200:
            self.status_code = status_code
        if media_type is not None:
            encode_header("content-type", media_type)
            self.media_type = media_type
        if headers:
            self.raw_headers = [encode_header(k, v) for k, v in headers.items()]
        if background is not None:
            self.background = background

    def render(self, content: Any) -> bytes:
        """Turn `content` into body bytes (str is encoded with `charset`)."""
        if isinstance(content, bytes | bytearray | memoryview):
            return bytes(content)
        if isinstance(content, str):
            return content.encode(self.charset)
        raise TypeError(
            f"{type(self).__name__} content must be str or bytes, not {type(content).__name__}"
        )

    @property
    def status(self) -> int:
        """Alias of `status_code`."""
        return self.status_code

    @status.setter
    def status(self, value: int) -> None:
        self.status_code = value

    @property
    def headers(self) -> MutableHeaders:
        """Case-insensitive, editable view over `raw_headers`; setting content-type sets
        `media_type` (so a response never carries two content-type lines)."""
        if self.raw_headers is None:
            self.raw_headers = []
        return _ResponseHeaders(self)

    def content_type(self) -> bytes | None:
        """The content-type header value this response should carry, if any."""
        mt = self.media_type
        if mt is None:
            return None
        if mt.startswith("text/") and "charset=" not in mt:
            mt = f"{mt}; charset={self.charset}"
        return mt.encode("latin-1")

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: Any = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Add a set-cookie header (value percent-quoted where needed)."""
        parts = [f"{key}={quote(value, safe='!#$%&()*+-./:<=>?@[]^_`{|}~')}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if expires is not None:
            if not isinstance(expires, str):
                expires = format_datetime(expires, usegmt=True)
            parts.append(f"expires={expires}")
        if path is not None:
            parts.append(f"Path={path}")
        if domain is not None:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite is not None:
            if samesite.lower() not in ("lax", "strict", "none"):
                raise ValueError("samesite must be 'lax', 'strict' or 'none'")
            parts.append(f"SameSite={samesite.capitalize()}")
        self.headers.append("set-cookie", "; ".join(parts))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Tell the client to drop cookie `key` (empty value, Max-Age=0)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_dumps(content)

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, media_type, background)
        self.body = self.render(content)


class ORJSONResponse(JSONResponse):
    """JSON encoded by the orjson package (FastAPI's ORJSONResponse; needs orjson installed).
    FasterAPI's own JSONResponse is already encoded in C++: this is for code that names it."""

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class UJSONResponse(JSONResponse):
    """JSON encoded by the ujson package (FastAPI's UJSONResponse; needs ujson installed)."""

    def render(self, content: Any) -> bytes:
        import ujson

        return ujson.dumps(content, ensure_ascii=False).encode("utf-8")  # type: ignore[no-any-return]


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class RedirectResponse(Response):
    """A redirect (307 unless told otherwise) to `url`."""

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, None, background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


class StreamingResponse(Response):
    """A body produced by a sync or async iterator of str/bytes, sent chunked."""

    def __init__(
        self,
        content: Iterable[str | bytes] | AsyncIterable[str | bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(None, status_code, headers, media_type, background)
        self.body_iterator = content


class FileResponse(Response):
    """The file at `path`; media type guessed from the name unless given. The engine sends it
    with sendfile(2) and answers Range (206, multipart/byteranges, 416) and If-Range as
    Starlette does; ETag, Last-Modified, Content-Length and Accept-Ranges come from the file's
    stat (given, or taken when it is sent)."""

    chunk_size = 64 * 1024  # kept for code that reads it; the engine sends without chunks
    max_ranges = 100  # a Range with more parts than this is served whole (as Starlette)

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        if media_type is None:
            import mimetypes

            # Unknown types are opaque bytes (RFC 9110 §8.3), as in Starlette.
            guessed = mimetypes.guess_type(filename or str(path))[0]
            media_type = guessed or "application/octet-stream"
        super().__init__(None, status_code, headers, media_type, background)
        self.path = os.fspath(path)
        self.filename = filename
        self.stat_result = stat_result
        if self.raw_headers is None:
            self.raw_headers = []
        if not any(k == b"accept-ranges" for k, _ in self.raw_headers):
            self.raw_headers.append((b"accept-ranges", b"bytes"))
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:  # RFC 6266 §4.3: non-ASCII names go in filename*
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            if not any(k == b"content-disposition" for k, _ in self.raw_headers):
                self.raw_headers.append((b"content-disposition", disposition.encode("latin-1")))
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        """Content-Length, Last-Modified and ETag from `stat_result`, unless already set. The
        ETag is Starlette's (md5 of "mtime-size"), so caches primed by either server agree."""
        if self.raw_headers is None:
            self.raw_headers = []
        present = {k for k, _ in self.raw_headers}
        for name, value in zip(
            (b"content-length", b"last-modified", b"etag"),
            self._validators(stat_result.st_mtime, stat_result.st_size),
            strict=True,
        ):
            if name not in present:
                self.raw_headers.append((name, value))

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _validators(mtime: float, size: int) -> tuple[bytes, bytes, bytes]:
        """(Content-Length, Last-Modified, ETag) values for a file's stat; cached because
        md5 and date formatting were a third of a static file's Python time."""
        import hashlib
        from email.utils import formatdate

        etag = hashlib.md5(f"{mtime}-{size}".encode(), usedforsecurity=False).hexdigest()
        modified = formatdate(mtime, usegmt=True)
        return str(size).encode(), modified.encode("latin-1"), f'"{etag}"'.encode()


class _ResponseHeaders(MutableHeaders):
    """Response headers, with content-type routed to the response's `media_type`."""

    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        assert response.raw_headers is not None
        super().__init__(response.raw_headers)
        self.response = response

    def __setitem__(self, key: str, value: str) -> None:
        if key.lower() == "content-type":
            encode_header(key, value)  # the same checks as any other header
            self.response.media_type = value
            self.raw[:] = [(n, v) for n, v in self.raw if n != b"content-type"]
            return
        super().__setitem__(key, value)

    def append(self, key: str, value: str) -> None:
        if key.lower() == "content-type":
            self[key] = value
            return
        super().append(key, value)

    def __getitem__(self, key: str) -> str:
        if key.lower() == "content-type" and self.response.media_type is not None:
            return (self.response.content_type() or b"").decode("latin-1")
        return super().__getitem__(key)
