"""Headers, query parameters and cookies: small, lazily built views over raw request data."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote_plus


class ImmutableMultiDict(Mapping[str, str]):
    """A read-only mapping where a key may repeat; `d[k]` is the last value, `getlist` all."""

    __slots__ = ("_dict", "_list")

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._list: list[tuple[str, str]] = items if items is not None else []
        self._dict: dict[str, str] = dict(self._list)

    def getlist(self, key: str) -> list[str]:
        """All values for `key`, in order; [] when absent."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._list)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImmutableMultiDict):
            return sorted(self._list) == sorted(other._list)
        return isinstance(other, Mapping) and self._dict == dict(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(ImmutableMultiDict):
    """Query-string parameters: `+` is a space, percent-escapes decoded, blank values kept."""

    __slots__ = ()

    def __init__(self, query: bytes | str | list[tuple[str, str]] = b"") -> None:
        if isinstance(query, list):
            super().__init__(query)
            return
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        super().__init__(parse_query(query) if query else [])


def parse_query(query: str) -> list[tuple[str, str]]:
    """`a=1&b=x+y` → [("a", "1"), ("b", "x y")]: `+` is a space, escapes decoded as UTF-8,
    blank values kept, empty pieces skipped. Same result as parse_qsl(keep_blank_values=True),
    faster when nothing needs decoding."""
    out = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in piece or "+" in piece:
            name, value = unquote_plus(name), unquote_plus(value)
        out.append((name, value))
    return out


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued request headers over a list of (lower-case name, value)."""

    __slots__ = ("_list",)

    def __init__(self, header_list: list[tuple[str, str]] | None = None) -> None:
        self._list = header_list if header_list is not None else []

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for k, v in self._list:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        key = key.lower()
        for k, v in self._list:
            if k == key:
                return v
        return default

    def getlist(self, key: str) -> list[str]:
        """All values of header `key` (any case), in order."""
        key = key.lower()
        return [v for k, v in self._list if k == key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._list))

    def __len__(self) -> int:
        return len(dict.fromkeys(k for k, _ in self._list))

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._list)

    def __repr__(self) -> str:
        return f"Headers({self._list!r})"


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch  # RFC 9110 §5.6.2
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]").search


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """(lower-cased name, value) as bytes for a response header. Raises ValueError when the
    name is not an RFC 9110 token or the value contains CR, LF or NUL (which would split the
    response), and UnicodeEncodeError when the value is not latin-1."""
    if not isinstance(name, str) or not _TOKEN(name):
        raise ValueError(
            f"invalid response header name {name!r}: must be a non-empty RFC 9110 token "
            "(letters, digits and !#$%&'*+-.^_`|~)"
        )
    if not isinstance(value, str):
        raise TypeError(f"response header {name!r}: value must be str, not {type(value).__name__}")
    if _FORBIDDEN_IN_VALUE(value):
        raise ValueError(
            f"invalid response header value for {name!r}: {value!r} contains CR, LF or NUL"
        )
    return name.lower().encode("ascii"), value.encode("latin-1")


class MutableHeaders(MutableMapping[str, str]):
    """Response headers: a case-insensitive view that edits a list of (bytes, bytes) in place."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def __getitem__(self, key: str) -> str:
        k = key.lower().encode("latin-1")
        for name, value in self.raw:
            if name == k:
                return value.decode("latin-1")
        raise KeyError(key)

    def __setitem__(self, key: str, value: str) -> None:
        """Replace every existing value of `key` with `value` (checked: see encode_header)."""
        item = encode_header(key, value)
        self.raw[:] = [(n, v) for n, v in self.raw if n != item[0]]
        self.raw.append(item)

    def __delitem__(self, key: str) -> None:
        k = key.lower().encode("latin-1")
        before = len(self.raw)
        self.raw[:] = [(n, v) for n, v in self.raw if n != k]
        if len(self.raw) == before:
            raise KeyError(key)

    def append(self, key: str, value: str) -> None:
        """Add a value without removing existing ones (e.g. several set-cookie lines)."""
        self.raw.append(encode_header(key, value))

    def getlist(self, key: str) -> list[str]:
        k = key.lower().encode("latin-1")
        return [v.decode("latin-1") for n, v in self.raw if n == k]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(n.decode("latin-1") for n, _ in self.raw))

    def __len__(self) -> int:
        return len(dict.fromkeys(n for n, _ in self.raw))

    def __repr__(self) -> str:
        return f"MutableHeaders({self.raw!r})"


def parse_cookies(header_values: list[str]) -> dict[str, str]:
    """Cookie header(s) → {name: value}; malformed pairs are skipped, not fatal."""
    out: dict[str, str] = {}
    for header in header_values:
        for chunk in header.split(";"):
            name, sep, value = chunk.partition("=")
            name = name.strip()
            if not sep or not name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = SimpleCookie().value_decode(value)[0]
            out[name] = value
    return out


class Address(tuple[str, int]):
    """The peer (host, port), also readable as `.host` and `.port`."""

    __slots__ = ()

    @property
    def host(self) -> str:
        return self[0]

    @property
    def port(self) -> int:
        return self[1]


class URL(str):
    """The request URL as a string with its parts as attributes."""

    scheme: str
    netloc: str
    path: str
    query: str

    def __new__(cls, scheme: str, netloc: str, path: str, query: str) -> URL:
        text = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
        self = super().__new__(cls, text)
        self.scheme, self.netloc, self.path, self.query = scheme, netloc, path, query
        return self


def __getattr__(name: str) -> Any:
    """UploadFile and FormData live in fasterapi.uploads (importable here, as in FastAPI)."""
    if name in ("UploadFile", "FormData"):
        from fasterapi import uploads

        return getattr(uploads, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
