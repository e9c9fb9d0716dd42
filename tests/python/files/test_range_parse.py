"""The Range parser (fasterapi/_file_send.parse_range) against Starlette's, on generated
headers: the same ranges, the same 400/416 decisions (hypothesis as the fuzzer)."""

from __future__ import annotations

import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from fasterapi._file_send import _Malformed, _Unsatisfiable, parse_range

responses = require_module("starlette.responses")  # the reference (FastAPI installs it)
StarletteFile = responses.FileResponse
MalformedRangeHeader = responses.MalformedRangeHeader
RangeNotSatisfiable = responses.RangeNotSatisfiable


def starlette(header: str, size: int) -> object:
    try:
        return StarletteFile._parse_range_header(header, size)
    except MalformedRangeHeader as e:
        return ("400", e.content)
    except RangeNotSatisfiable:
        return "416"


def ours(header: str, size: int) -> object:
    try:
        return parse_range(header, size)
    except _Malformed as e:
        return ("400", e.content)
    except _Unsatisfiable:
        return "416"


number = st.one_of(st.integers(0, 2000).map(str), st.sampled_from(["", " ", "x", "-1", "1e3"]))
part = st.one_of(
    st.builds(lambda a, b: f"{a}-{b}", number, number),
    st.sampled_from(["", "-", "5", " 3 - 9 ", "--4"]),
)
header = st.builds(
    lambda unit, parts: f"{unit}={','.join(parts)}",
    st.sampled_from(["bytes", "BYTES ", "items", ""]),
    st.lists(part, min_size=0, max_size=6),
) | st.text(max_size=30)


@settings(max_examples=1000, deadline=None)
@given(header, st.integers(0, 1500))
def test_same_decisions_as_starlette(h: str, size: int) -> None:
    assert ours(h, size) == starlette(h, size)


@pytest.mark.parametrize(
    ("h", "size", "want"),
    [
        ("bytes=0-0", 1, [(0, 1)]),
        ("bytes=-0", 10, "416"),  # a zero-length suffix starts at the end
        ("bytes=9-", 10, [(9, 10)]),
        ("bytes=10-", 10, "416"),
        ("bytes=0-1,1-2", 10, [(0, 3)]),
        ("bytes=0-1,3-4", 10, [(0, 2), (3, 5)]),
    ],
)
def test_examples(h: str, size: int, want: object) -> None:
    assert ours(h, size) == want
