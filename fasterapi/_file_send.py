"""Sending a FileResponse through the engine: the file's stat headers, Range and If-Range
(RFC 9110 §13.1.5, §14.2) with Starlette's rules, 206 with one range or multipart/byteranges
(RFC 9110 §14.6), 416 for ranges past the end; the bytes go out with sendfile(2)."""

from __future__ import annotations

import os
import secrets
import stat
from typing import Any

from fasterapi.responses import FileResponse

_TEXT = (b"content-type", b"text/plain; charset=utf-8")


class _Malformed(ValueError):
    """A Range header we cannot use: answered 400 with this text (as Starlette does)."""

    def __init__(self, content: str = "Malformed range header.") -> None:
        super().__init__(content)
        self.content = content


class _Unsatisfiable(ValueError):
    """A range starting at or past the end of the file: answered 416 (RFC 9110 §15.5.17)."""


def parse_range(
    header: str, size: int, max_ranges: int = FileResponse.max_ranges
) -> list[tuple[int, int]]:
    """[(start, end)] (end exclusive, sorted and merged when several) for the Range `header` of a
    `size`-byte file; [] to serve the whole file (too many parts). Raises _Malformed or
    _Unsatisfiable. Parts that are empty or not numeric are ignored, as Starlette does."""
    units, sep, spec = header.partition("=")
    if not sep:
        raise _Malformed()
    if units.strip().lower() != "bytes":
        raise _Malformed("Only support bytes range")
    if spec.count(",") + 1 > max_ranges:
        return []
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        if not dash or not (first.strip() or last.strip()):
            continue
        first, last = first.strip(), last.strip()
        try:
            if first:
                start = int(first)
                end = int(last) + 1 if last and int(last) < size else size
            else:  # a suffix: the last N bytes (RFC 9110 §14.1.2)
                start, end = max(size - int(last), 0), size
        except ValueError:
            continue
        ranges.append((start, end))
    if not ranges:
        raise _Malformed("Range header: range must be requested")
    if any(not 0 <= start < size for start, _ in ranges):
        raise _Unsatisfiable()
    if any(start >= end for start, end in ranges):
        raise _Malformed("Range header: start must be less than end")
    if len(ranges) == 1:
        return ranges
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _header(headers: list[Any], name: bytes) -> bytes | None:
    for k, v in headers:
        key = k if isinstance(k, bytes) else k.encode("latin-1")
        if key.lower() == name:
            return v if isinstance(v, bytes) else v.encode("latin-1")
    return None


def _if_range_allows(if_range: str, headers: list[Any]) -> bool:
    """RFC 9110 §13.1.5: the range applies only if the validator is the current one (a strong
    ETag or the Last-Modified date, compared exactly); a weak tag never matches."""
    if if_range.startswith("W/"):
        return False
    value = if_range.encode("latin-1", "replace")
    return value in (_header(headers, b"last-modified"), _header(headers, b"etag"))


def send_file(resp: FileResponse, req: Any, headers: list[Any], responder: Any) -> None:
    """Answer `req` with the file of `resp`; `headers` are the response's headers so far."""
    try:
        fd = os.open(resp.path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise RuntimeError(f"File at path {resp.path} does not exist.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RuntimeError(f"File at path {resp.path} is not a file.")
        if resp.stat_result is None:  # else FileResponse() set them: `headers` has them
            resp.set_stat_headers(st)
            present = {(k if isinstance(k, bytes) else k.encode()).lower() for k, _ in headers}
            assert resp.raw_headers is not None
            headers += [(k, v) for k, v in resp.raw_headers if k not in present]
        _send(resp, req, headers, responder, fd, st.st_size)
    finally:
        os.close(fd)  # the engine holds its own duplicate while it sends


def _send(
    resp: FileResponse, req: Any, headers: list[Any], responder: Any, fd: int, size: int
) -> None:
    method = req.method
    head_only = method == "HEAD"
    whole: list[Any] = [(0, size)]
    range_header = req.headers.get("range")
    if resp.status_code != 200 or range_header is None or method not in ("GET", "HEAD"):
        responder.send_file(resp.status_code, headers, fd, whole, head_only)
        return
    if_range = req.headers.get("if-range")
    if if_range is not None and not _if_range_allows(if_range, headers):
        responder.send_file(200, headers, fd, whole, head_only)
        return
    try:
        ranges = parse_range(range_header, size, resp.max_ranges)
    except _Malformed as exc:
        responder.send(400, [_TEXT], exc.content.encode())
        return
    except _Unsatisfiable:
        responder.send(416, [_TEXT, (b"content-range", f"bytes */{size}".encode())], b"")
        return
    if not ranges:
        responder.send_file(200, headers, fd, whole, head_only)
    elif len(ranges) == 1:
        start, end = ranges[0]
        headers.append((b"content-range", f"bytes {start}-{end - 1}/{size}".encode()))
        responder.send_file(206, headers, fd, [(start, end - start)], head_only)
    else:
        _send_multipart(headers, responder, fd, size, ranges, head_only)


def _send_multipart(
    headers: list[Any],
    responder: Any,
    fd: int,
    size: int,
    ranges: list[tuple[int, int]],
    head_only: bool,
) -> None:
    """RFC 9110 §14.6: each range as a part with its own Content-Type and Content-Range."""
    boundary = secrets.token_hex(13)  # ~100 bits, as browsers use
    content_type = (_header(headers, b"content-type") or b"").decode("latin-1")
    parts: list[Any] = []
    for start, end in ranges:
        parts.append(
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n".encode("latin-1")
        )
        parts.append((start, end - start))
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--".encode("latin-1"))
    headers = [h for h in headers if _header([h], b"content-type") is None]
    headers.append((b"content-type", f"multipart/byteranges; boundary={boundary}".encode()))
    responder.send_file(206, headers, fd, parts, head_only)
