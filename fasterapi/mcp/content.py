"""Python values to MCP content blocks (server/tools.mdx "Tool Result"): str -> text,
bytes / Image -> image, Audio -> audio, dicts that already are content blocks pass through,
anything else -> its JSON as text."""

from __future__ import annotations

import base64
import json
import math
import mimetypes
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

_BLOCK_TYPES = frozenset({"text", "image", "audio", "resource", "resource_link"})


class _Media:
    kind = "image"
    default_mime = "image/png"

    def __init__(
        self, path: str | Path | None = None, data: bytes | None = None, format: str | None = None
    ) -> None:
        if (path is None) == (data is None):
            raise ValueError("give exactly one of path or data")
        self.path = Path(path) if path is not None else None
        self.data = data
        self.format = format

    @property
    def mime_type(self) -> str:
        if self.format:
            return f"{self.kind}/{self.format.lower()}"
        if self.path is not None:
            guessed, _ = mimetypes.guess_type(self.path.name)
            if guessed:
                return guessed
        return self.default_mime

    def to_block(self) -> dict[str, Any]:
        raw = self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]
        return {
            "type": self.kind,
            "data": base64.b64encode(raw).decode("ascii"),
            "mimeType": self.mime_type,
        }


class Image(_Media):
    """An image result: `Image(path="chart.png")` or `Image(data=png_bytes, format="png")`."""


class Audio(_Media):
    """An audio result: `Audio(path="clip.wav")` or `Audio(data=wav_bytes, format="wav")`."""

    kind = "audio"
    default_mime = "audio/wav"


# Return values that are their own JSON value (exact types: a subclass may serialize otherwise).
_SCALARS = (int, float, bool, str, type(None))


def to_jsonable(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return to_jsonable_python(value)


def is_block(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _BLOCK_TYPES


def _scalar_json(value: bool | int | float) -> str:
    """json.dumps(value) for an exact bool, int or float, without building an encoder."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def to_blocks(value: Any) -> list[dict[str, Any]]:
    """The content blocks for a tool's return value."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if type(value) in (int, float, bool):
        return [{"type": "text", "text": _scalar_json(value)}]
    if isinstance(value, _Media):
        return [value.to_block()]
    if isinstance(value, bytes | bytearray):
        return [Image(data=bytes(value)).to_block()]
    if is_block(value):
        return [value]
    if isinstance(value, BaseModel) and getattr(value, "type", None) in _BLOCK_TYPES:
        return [to_jsonable(value)]
    if isinstance(value, list | tuple):
        blocks: list[dict[str, Any]] = []
        for item in value:
            blocks.extend(to_blocks(item))
        return blocks
    return [{"type": "text", "text": json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)}]


def error_result(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}
