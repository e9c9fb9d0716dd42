"""Parse a request's form body once: multipart/form-data by the C++ parser (src/multipart),
application/x-www-form-urlencoded as a query string. Other or missing content types give an
empty form (then required Form/File parameters answer 422, as in FastAPI)."""

from __future__ import annotations

from typing import Any

from fasterapi.datastructures import QueryParams
from fasterapi.exceptions import HTTPException
from fasterapi.uploads import FormData, FormLimits, UploadFile, spooled_upload

DEFAULT_LIMITS = FormLimits()


def parse_form(req: Any, limits: FormLimits = DEFAULT_LIMITS) -> FormData:
    """The request's form. Raises HTTPException 400 for a malformed multipart body (or a
    multipart Content-Type without a valid boundary) and 413/400 past a limit. Uploaded files
    are closed once the response has been sent."""
    content_type = req.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    body = req.body
    if media == "multipart/form-data":
        from fasterapi import _native

        boundary = _native.multipart_boundary(content_type)
        if boundary is None:
            raise HTTPException(400, "There was an error parsing the body: missing boundary")
        if not body:
            return FormData()
        return _multipart(req, body, boundary, limits)
    if media == "application/x-www-form-urlencoded":
        return FormData(list(QueryParams(body).multi_items()))
    return FormData()


def _multipart(req: Any, body: bytes, boundary: str, limits: FormLimits) -> FormData:
    from fasterapi import _native

    parts, status, reason = _native.parse_multipart(
        body,
        boundary,
        limits.max_fields,
        limits.max_files,
        limits.max_field_size,
        limits.max_file_size,
        limits.max_header_size,
    )
    if status or parts is None:
        raise HTTPException(status, f"There was an error parsing the body: {reason}")
    items: list[tuple[str, str | UploadFile]] = []
    view = memoryview(body)
    for name, filename, _ctype, headers, value in parts:
        if filename is None:
            items.append((name, value))
            continue
        data = view[value[0] : value[1]] if isinstance(value, tuple) else value
        items.append((name, spooled_upload(data, filename, headers)))
    form = FormData(items)
    if form.files():
        req.add_done_callback(form.close_files)
    return form
