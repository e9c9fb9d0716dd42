"""Response compression settings for the engine (src/compress/): which codings, from what
size, at what levels. `App(compression=...)` and `GZipMiddleware` both end here; the bodies
are compressed in C++, never in Python."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

CODINGS = ("zstd", "br", "gzip")  # the server's preference at equal q (RFC 9110 §12.5.3)
_LEVEL_ARG = {"gzip": "gzip_level", "br": "brotli_quality", "zstd": "zstd_level"}
_LEVEL_RANGE = {"gzip": (1, 9), "br": (0, 11), "zstd": (1, 19)}


@dataclasses.dataclass
class Compression:
    """codings: offered content codings (empty: off); min_size: bytes below which a body is
    sent as is; levels: per coding (gzip 1-9, default 6; br 0-11, default 4; zstd 1-19,
    default 3)."""

    codings: tuple[str, ...] = ()
    min_size: int = 500
    levels: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_args(
        cls,
        compression: bool | Sequence[str],
        min_size: int = 500,
        levels: Mapping[str, int] | None = None,
    ) -> Compression:
        """Validate App's arguments; ValueError says what is wrong."""
        if compression is True:
            codings: tuple[str, ...] = CODINGS
        elif compression is False or compression is None:
            codings = ()
        elif isinstance(compression, str):
            raise ValueError(
                "compression takes True/False or a list of codings such as ['gzip'], "
                f"not {compression!r}"
            )
        else:
            codings = tuple(compression)
        out = cls(codings, min_size, {})
        out.add(codings, levels or {})
        if min_size < 0:
            raise ValueError(f"compress_min_size must be >= 0, got {min_size}")
        return out

    def add(self, codings: Sequence[str], levels: Mapping[str, int]) -> None:
        """Offer `codings` too, with `levels` for them."""
        for c in codings:
            if c not in CODINGS:
                raise ValueError(f"unknown content coding {c!r}: use {', '.join(CODINGS)}")
        self.codings = tuple(c for c in CODINGS if c in self.codings or c in codings)
        for c, level in levels.items():
            lo, hi = _LEVEL_RANGE.get(c, (0, -1))
            if not lo <= level <= hi:
                raise ValueError(f"compression level for {c!r} must be in {lo}..{hi}, got {level}")
            self.levels[c] = level

    def apply(self, server: Any) -> None:
        """Configure an engine server (a no-op when off)."""
        if not self.codings:
            return
        kwargs = {_LEVEL_ARG[c]: v for c, v in self.levels.items()}
        server.set_compression(list(self.codings), min_size=self.min_size, **kwargs)
