"""Tests for the C++ JSON encoder/decoder: fasterapi._native.json_dumps / json_loads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import gc
import json
import math
import sys
import uuid
from collections import OrderedDict
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasterapi import _native  # a missing or broken extension fails this suite, never skips it

dumps = _native.json_dumps
loads = _native.json_loads


def ref(obj: Any) -> bytes:
    """What the encoder must produce for anything the stdlib json supports."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# --- strategies -----------------------------------------------------------------------------

# Text including control characters, non-ASCII and astral characters, but no lone surrogates.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
edge_floats = st.sampled_from(
    [
        0.0,
        -0.0,
        0.1,
        1e16,
        1e15,
        1e-7,
        1e-4,
        1e-5,
        5e-324,
        1e22,
        1e23,
        -1.5,
        1.7976931348623157e308,
        2.2250738585072014e-308,
        123456789012345.6,
        9007199254740993.0,
    ]
)
finite_floats = st.floats(allow_nan=False, allow_infinity=False) | edge_floats
ints = (
    st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**64)])
)
scalars = st.none() | st.booleans() | ints | finite_floats | text
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(text, children, max_size=6),
    max_leaves=40,
)


# --- encoder: equality with json.dumps --------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_dumps_matches_stdlib(value: Any) -> None:
    assert dumps(value) == ref(value)


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_is_python_repr(x: float) -> None:
    assert dumps(x) == repr(x).encode()


@settings(max_examples=500, deadline=None)
@given(st.lists(text, max_size=5).map(tuple))
def test_tuple_is_a_list(value: tuple[str, ...]) -> None:
    assert dumps(value) == ref(value)


@pytest.mark.parametrize(
    "value",
    [
        {"message": "Hello, World!"},
        {},
        [],
        (),
        "",
        '\x00\x1f\x7f"\\\b\f\n\r\t\u2028\u00e9\U0001f600',
        1e16,
        1e-7,
        5e-324,
        0.1,
        -0.0,
        1e22,
        10**400,
        -(10**30),
        True,
        False,
        None,
        [1, [2, [3, {"a": [None]}]]],
    ],
)
def test_dumps_examples(value: Any) -> None:
    assert dumps(value) == ref(value)


def test_dumps_returns_bytes() -> None:
    assert dumps({"message": "Hello, World!"}) == b'{"message":"Hello, World!"}'
    assert type(dumps([])) is bytes


def test_subclasses_encode_like_their_bases() -> None:
    class S(str):
        pass

    class I(int):  # noqa: E742
        pass

    class F(float):
        def __repr__(self) -> str:
            return "not used"

    class D(dict):  # type: ignore[type-arg]
        pass

    class L(list):  # type: ignore[type-arg]
        pass

    value = D(a=L([S("x\n"), I(7), F(2.5)]), b=OrderedDict(c=1))
    assert dumps(value) == ref(value) == b'{"a":["x\\n",7,2.5],"b":{"c":1}}'


# --- encoder: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text_"), [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf")]
)
def test_non_finite_floats_refused(value: float, text_: str) -> None:
    with pytest.raises(
        ValueError, match=f"Out of range float values are not JSON compliant: {text_}$"
    ):
        dumps([1, {"x": value}])


@pytest.mark.parametrize("s", ["\ud800", "a\udfffb", {"k": "\udc80"}])
def test_lone_surrogates_refused(s: Any) -> None:
    with pytest.raises(UnicodeEncodeError):
        dumps(s)


def test_lone_surrogate_key_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        dumps({"\ud800": 1})


@pytest.mark.parametrize(
    ("key", "name"), [(1, "int"), (1.5, "float"), (None, "NoneType"), ((1,), "tuple")]
)
def test_non_str_keys_refused(key: Any, name: str) -> None:
    with pytest.raises(TypeError, match=f"^keys must be str, not {name}$"):
        dumps({"ok": 1, key: 2})


@pytest.mark.parametrize(
    ("value", "name"), [(b"x", "bytes"), ({1, 2}, "set"), (object(), "object"), (1j, "complex")]
)
def test_unsupported_types_refused(value: Any, name: str) -> None:
    with pytest.raises(TypeError, match=f"^Object of type {name} is not JSON serializable$"):
        dumps({"a": [value]})


def test_deep_nesting_raises_recursion_error() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        dumps(deep)
    ok: Any = []
    for _ in range(900):
        ok = [ok]
    assert dumps(ok) == ref(ok)


def test_self_reference_raises_recursion_error() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(RecursionError):
        dumps(loop)


def test_error_then_success_leaves_no_residue() -> None:
    with pytest.raises(TypeError):
        dumps({"a": "x" * 10_000, "b": object()})
    assert dumps({"a": 1}) == b'{"a":1}'


# --- encoder: types beyond the stdlib ----------------------------------------------------------


def test_datetime_date_time_use_isoformat() -> None:
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
    values: list[dt.date | dt.time] = [
        dt.datetime(2024, 1, 2, 3, 4, 5),
        dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        dt.datetime(1, 1, 1),
        dt.datetime(2024, 1, 2, 3, 4, 5, 120, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz),
        dt.date(999, 12, 31),
        dt.time(23, 59, 59, 999999),
        dt.time(0, 0),
        dt.time(1, 2, 3, tzinfo=tz),
    ]
    for v in values:
        assert dumps(v) == json.dumps(v.isoformat()).encode(), v


def test_datetime_subclass_uses_its_isoformat() -> None:
    class Stamp(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return "custom"

    assert dumps(Stamp(2024, 1, 1)) == b'"custom"'


def test_uuid_is_its_str() -> None:
    for u in [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4(), uuid.uuid1()]:
        assert dumps({"id": u}) == b'{"id":"' + str(u).encode() + b'"}'


def test_decimal_is_an_exact_number() -> None:
    for text_ in ["0", "-0", "1.10", "123456789012345678901234567890.000001", "1E+2", "-5E-10"]:
        d = decimal.Decimal(text_)
        out = dumps([d])
        assert out == f"[{d}]".encode()
        assert json.loads(out, parse_float=decimal.Decimal, parse_int=decimal.Decimal) == [d]


@pytest.mark.parametrize("text_", ["NaN", "sNaN", "Infinity", "-Infinity", "-NaN"])
def test_decimal_non_finite_refused(text_: str) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps(decimal.Decimal(text_))


def test_enum_is_its_value() -> None:
    class Color(enum.Enum):
        RED = "red"
        NESTED = (1, {"a": 2.5})

    class Num(enum.IntEnum):
        ONE = 1

    class Label(str, enum.Enum):  # noqa: UP042  (the mixin pattern, on purpose)
        A = "a\n"

    value = [Color.RED, Color.NESTED, Num.ONE, Label.A]
    assert dumps(value) == b'["red",[1,{"a":2.5}],1,"a\\n"]'


def test_dataclass_fields_in_order() -> None:
    @dataclasses.dataclass
    class Point:
        y: int
        x: float
        tags: list[str] = dataclasses.field(default_factory=list)
        label: dataclasses.InitVar[str | None] = None

    @dataclasses.dataclass
    class Shape:
        name: str
        points: list[Point]

    shape = Shape("tri", [Point(1, 2.0, ["a"]), Point(3, 4.5)])
    assert dumps(shape) == ref(dataclasses.asdict(shape))
    assert dumps(shape) == dumps(shape)  # the per-type field cache gives the same answer


def test_pydantic_model_by_alias() -> None:
    class Item(pydantic.BaseModel):
        item_id: int = pydantic.Field(alias="itemId")
        price: float
        when: dt.date

    class Order(pydantic.BaseModel):
        items: list[Item]
        note: str | None = None

    order = Order(items=[Item(itemId=1, price=9.5, when=dt.date(2024, 5, 6))], note="é")
    out = dumps({"order": order, "n": 1})
    assert json.loads(out) == {"order": order.model_dump(mode="json", by_alias=True), "n": 1}
    assert b'"itemId":1' in out


# --- decoder ------------------------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_loads_matches_stdlib(value: Any) -> None:
    data = ref(value)
    got = loads(data)
    assert got == json.loads(data)
    assert repr(got) == repr(json.loads(data))  # same types: int vs float, -0.0


@pytest.mark.parametrize(
    "data",
    [
        b"-0",
        b"-0.0",
        b"1E2",
        b"1e400",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"123456789012345678901234567890",
        b'{"a":1,"a":2}',
        b'"\\ud83d\\ude00"',
        b'"\\ud800"',
        b"NaN",
        b" [ 1 , 2 ] ",
        b'{"k\xc3\xa9y": "v\\n"}',
        b"\xef\xbb\xbf[1]",
    ],
)
def test_loads_edge_cases_match_stdlib(data: bytes) -> None:
    assert repr(loads(data)) == repr(json.loads(data))


def test_loads_accepts_all_input_types() -> None:
    data = b'{"a":[1,2.5,"x"]}'
    want = {"a": [1, 2.5, "x"]}
    assert loads(data) == want
    assert loads(bytearray(data)) == want
    assert loads(memoryview(data)) == want
    assert loads(memoryview(b"xx" + data)[2:]) == want
    assert loads(data.decode()) == want
    assert loads('"\ud800"') == json.loads('"\ud800"')
    with pytest.raises(TypeError, match="must be str, bytes or bytearray"):
        loads(12)


@pytest.mark.parametrize(
    ("data", "byte_pos"),
    [(b"", 0), (b"[1,]", 3), (b'{"a" 1}', 5), (b"[1, 2", 5), (b'"\xc3\xa9" x', 5), (b'"a\x01"', 2)],
)
def test_loads_malformed_reports_byte_position(data: bytes, byte_pos: int) -> None:
    if data == b"[1,]" and sys.version_info >= (3, 13):
        byte_pos = 2  # 3.13's json names the trailing comma itself ("Illegal trailing comma")
    with pytest.raises(ValueError, match=rf"\(byte {byte_pos}\)") as info:
        loads(data)
    assert isinstance(info.value, json.JSONDecodeError)


def test_loads_invalid_utf8_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads(b'["\xff"]')


def test_loads_repeated_keys_share_cached_strings() -> None:
    data = json.dumps([{"name": i, "value": str(i)} for i in range(100)]).encode()
    got = loads(data)
    assert got == json.loads(data)
    assert all(next(iter(d)) is next(iter(got[0])) for d in got)


def test_loads_large_document() -> None:
    value = [
        {"id": i, "name": f"item {i}", "tags": ["a", "é"], "score": i / 7} for i in range(30_000)
    ]
    data = ref(value)
    assert len(data) > 1 << 20  # takes the non-retained parser path
    assert loads(data) == value


def test_round_trip_is_stable() -> None:
    value = {"a": [1, 2.5, None, True, "ü"], "b": {"c": -(2**70)}}
    assert loads(dumps(value)) == value


def test_no_reference_leaks() -> None:
    value = "v" * 10
    key = "k" * 10
    obj = {key: [value, {key: value}], "t": (value,)}
    before = (sys.getrefcount(value), sys.getrefcount(key))
    for _ in range(1000):
        dumps(obj)
        with pytest.raises(TypeError):
            dumps({key: [value, object()]})
    assert (sys.getrefcount(value), sys.getrefcount(key)) == before


def test_loads_reentered_from_a_finalizer() -> None:
    # A collection during loads runs __del__, which calls loads on the same thread: the nested
    # call must not reuse the parser whose tape the outer call is still walking. The nested
    # document is as long as the outer one so that sharing the tape would corrupt the result.
    inner = ref([{"zz": [-i, "inner"]} for i in range(2000)])
    nested: list[Any] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            nested.append(loads(inner))

    data = ref([{"id": i, "tags": ["x", i]} for i in range(2000)])
    old = gc.get_threshold()
    gc.disable()
    try:
        for _ in range(5):
            Cycle()
        gc.set_threshold(100)
        gc.enable()
        got = loads(data)
    finally:
        gc.set_threshold(*old)
        gc.enable()
    assert got == json.loads(data)
    assert nested and all(n == json.loads(inner) for n in nested)
