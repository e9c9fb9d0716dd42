"""Uploaded files and parsed forms: `UploadFile` (Starlette's interface: async read/write/seek/
close, filename, content_type, headers, size) and `FormData` (what `await request.form()`
returns: a multi-valued mapping of str fields and UploadFile files)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from fasterapi.datastructures import Headers

# Past this many bytes an upload moves from memory to a temporary file (Starlette's value).
SPOOL_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FormLimits:
    """Limits on one form body; exceeding one answers 413 (sizes) or 400 (counts). Set them for
    an app with `App(form_limits=FormLimits(...))`."""

    max_fields: int = 1000  # parts without a filename (Starlette's default)
    max_files: int = 1000  # parts with a filename (Starlette's default)
    max_field_size: int = 1024 * 1024  # bytes in one field's value (Starlette's max_part_size)
    max_file_size: int = 2**64 - 1  # bytes in one file; the server's body limit applies first
    max_header_size: int = 16 * 1024  # bytes in one part's header block


class UploadFile:
    """One uploaded file. `file` is a SpooledTemporaryFile: in memory up to 1 MB, then on disk.
    The async methods run inline (the data is already local); they exist so FastAPI code that
    awaits them works unchanged. The file is closed (and a temporary file deleted) after the
    response is sent."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    async def write(self, data: bytes) -> None:
        if self.size is not None:
            self.size += len(data)
        self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        self.file.seek(offset)

    async def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, "
            f"headers={self.headers!r})"
        )

    # pydantic: an UploadFile annotation accepts UploadFile instances only (FastAPI's message).
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(cls._validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "contentMediaType": "application/octet-stream"}

    @classmethod
    def _validate(cls, value: Any) -> UploadFile:
        if not isinstance(value, UploadFile):
            raise ValueError(f"Expected UploadFile, received: {type(value)}")
        return value


def spooled_upload(
    data: bytes | memoryview, filename: str, headers: list[tuple[str, str]]
) -> UploadFile:
    """An UploadFile holding `data`, rewound, spooled to disk past SPOOL_MAX_BYTES."""
    f = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)
    f.write(data)
    f.seek(0)
    lowered = [(k.lower(), v) for k, v in headers]  # Headers holds lower-case names
    return UploadFile(f, size=len(data), filename=filename, headers=Headers(lowered))  # type: ignore[arg-type]


class FormData(Mapping[str, "str | UploadFile"]):
    """Form fields and files, multi-valued: `form[k]` is the last value, `getlist(k)` all."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: list[tuple[str, str | UploadFile]] | None = None) -> None:
        self._list: list[tuple[str, str | UploadFile]] = items if items is not None else []
        self._dict: dict[str, str | UploadFile] = dict(self._list)

    def getlist(self, key: str) -> list[str | UploadFile]:
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, str | UploadFile]]:
        return list(self._list)

    def __getitem__(self, key: str) -> str | UploadFile:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def files(self) -> list[UploadFile]:
        return [v for _, v in self._list if isinstance(v, UploadFile)]

    async def close(self) -> None:
        self.close_files()

    def close_files(self) -> None:
        for f in self.files():
            f.file.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"
