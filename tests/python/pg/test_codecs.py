"""Round trips of every binary codec through a real server: Python -> $1::type -> Python."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest

from fasterapi import pg

from .conftest import run

pytestmark = pytest.mark.pg

UTC = dt.UTC
BIG_NUMERIC = decimal.Decimal("9" * 600 + "." + "1234567890" * 40)  # 1000 digits

CASES: list[tuple[str, Any]] = [
    ("bool", True),
    ("bool", False),
    ("int2", -32768),
    ("int2", 32767),
    ("int4", -(2**31)),
    ("int4", 2**31 - 1),
    ("int8", -(2**63)),
    ("int8", 2**63 - 1),
    ("float4", 1.5),
    ("float8", -1e308),
    ("float8", float("inf")),
    ("float8", float("-inf")),
    ("numeric", decimal.Decimal("0")),
    ("numeric", decimal.Decimal("-123.4500")),
    ("numeric", decimal.Decimal("0.000000001")),
    ("numeric", decimal.Decimal("100000000000000000000")),
    ("numeric", BIG_NUMERIC),
    ("numeric", -BIG_NUMERIC),
    ("text", ""),
    ("text", "héllo wörld — 日本語 🐘"),
    ("varchar", "abc"),
    ("name", "pg_class"),
    ('"char"', "x"),
    ("bytea", b""),
    ("bytea", bytes(range(256))),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("date", dt.date(2024, 2, 29)),
    ("date", dt.date(1, 1, 1)),
    ("date", dt.date(9999, 12, 30)),
    ("date", dt.date.max),
    ("date", dt.date.min),
    ("time", dt.time(23, 59, 59, 999999)),
    ("time", dt.time(0, 0)),
    ("timetz", dt.time(12, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))),
    ("timestamp", dt.datetime(1999, 12, 31, 23, 59, 59, 123456)),
    ("timestamp", dt.datetime(1970, 1, 1)),
    ("timestamp", dt.datetime.max),
    ("timestamp", dt.datetime.min),
    ("timestamptz", dt.datetime(2030, 6, 1, 8, 0, tzinfo=UTC)),
    ("timestamptz", dt.datetime.max.replace(tzinfo=UTC)),
    ("timestamptz", dt.datetime.min.replace(tzinfo=UTC)),
    ("interval", dt.timedelta(days=3, seconds=7, microseconds=5)),
    ("interval", dt.timedelta(days=-1, seconds=1)),
    ("json", {"a": [1, 2, {"b": None}], "é": "ü"}),
    ("jsonb", [1, "two", 3.5, True, None]),
    ("int4[]", [1, 2, None, 4]),
    ("int4[]", []),
    ("int4[]", [[1, 2], [3, None]]),
    # int4/int8 levels of exact ints are written in one pass (pg_codecs.cpp write_int_elems);
    # None, an int subclass or a bool in the level sends it through the per-item encoders
    ("int4[]", [-(2**31), 0, 2**31 - 1]),
    ("int4[]", [[1, 2, 3], [4, 5, 6]]),
    ("int4[]", [[1, 2], [None, 4]]),
    ("int8[]", [-(2**63), 2**62, 2**63 - 1]),
    ("int8[]", [5, None]),
    ("text[]", ["a", None, "ü", ""]),
    ("float8[]", [[[1.0]], [[2.0]]]),
    ("numeric[]", [decimal.Decimal("1.1"), None]),
    ("uuid[]", [uuid.UUID(int=1), uuid.UUID(int=2)]),
    ("date[]", [dt.date(2020, 1, 1)]),
    ("timestamptz[]", [dt.datetime(2020, 1, 1, tzinfo=UTC)]),
    ("jsonb[]", [{"a": 1}, None]),
    ("bool[]", [True, False]),
    ("bytea[]", [b"\x00\x01", None]),
    ("int8", None),
    ("text", None),
]


@pytest.mark.parametrize(
    ("typ", "value"), CASES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)]
)
def test_round_trip(pg_dsn: str, typ: str, value: Any) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            return await conn.fetchval(f"SELECT $1::{typ}", value)
        finally:
            await conn.close()

    got = run(go())
    if isinstance(value, float) and value != value:
        assert got != got
    else:
        assert got == value
        assert type(got) is type(value) or value is None


def test_int_arrays_of_int_subclasses_and_bounds(pg_dsn: str) -> None:
    """What the one-pass int4/int8 array writer leaves to the per-item encoders: bools and
    other int subclasses are sent as their int value, and a value out of the element type's
    range is refused with the encoders' OverflowError, nothing sent."""

    class Flag(int):
        pass

    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            mixed = await conn.fetchval("SELECT $1::int4[]", [1, True, Flag(7)])
            tuples = await conn.fetchval("SELECT $1::int8[]", ((1, 2), (3, 4)))
            with pytest.raises(OverflowError, match="int4"):
                await conn.fetchval("SELECT $1::int4[]", [1, 2**31])
            with pytest.raises(OverflowError):
                await conn.fetchval("SELECT $1::int8[]", [2**63])
            return mixed, tuples, await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    mixed, tuples, after = run(go())
    assert mixed == [1, 1, 7] and all(type(x) is int for x in mixed)
    assert tuples == [[1, 2], [3, 4]]
    assert after == 1  # the connection serves on after the refused arrays


def test_timestamptz_converts_offsets_to_utc(pg_dsn: str) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            v = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
            return await conn.fetchval("SELECT $1::timestamptz", v), await conn.fetchval(
                "SELECT '2024-01-01 12:00+02'::timestamptz = $1", v
            )
        finally:
            await conn.close()

    got, same = run(go())
    assert got == dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert got.tzinfo is UTC
    assert same is True


def test_server_side_values_decode(pg_dsn: str) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            return await conn.fetchrow(
                "SELECT 'NaN'::numeric AS nan, 'infinity'::timestamp AS inf, "
                "'-infinity'::timestamptz AS ninf, '1 mon 2 days 00:00:03'::interval AS iv, "
                "'{{1,2},{3,4}}'::int[] AS arr, '{}'::text[] AS empty, "
                "'{\"k\": [1, 2]}'::jsonb AS j, 'x'::char(3) AS c, 12::oid AS o, "
                "'10.0.0.1'::inet AS unknown_type"
            )
        finally:
            await conn.close()

    r = run(go())
    assert r["nan"].is_nan()
    assert r["inf"] == dt.datetime.max
    assert r["ninf"] == dt.datetime.min.replace(tzinfo=UTC)
    assert r["iv"] == dt.timedelta(days=32, seconds=3)
    assert r["arr"] == [[1, 2], [3, 4]]
    assert r["empty"] == []
    assert r["j"] == {"k": [1, 2]}
    assert r["c"] == "x  "
    assert r["o"] == 12
    assert r["unknown_type"] == "10.0.0.1"  # no binary codec: read as text


def test_numeric_nan_and_infinity_parameters(pg_dsn: str) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            return [
                await conn.fetchval("SELECT $1::numeric::text", decimal.Decimal(s))
                for s in ("NaN", "Infinity", "-Infinity", "1E+5", "-0.0100")
            ]
        finally:
            await conn.close()

    assert run(go()) == ["NaN", "Infinity", "-Infinity", "100000", "-0.0100"]


def test_ten_megabyte_bytea(pg_dsn: str) -> None:
    blob = bytes(range(256)) * (10 * 1024 * 1024 // 256)

    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            return await conn.fetchrow("SELECT $1::bytea AS b, md5($1::bytea) AS h", blob)
        finally:
            await conn.close()

    r = run(go())
    assert r["b"] == blob
    import hashlib

    assert r["h"] == hashlib.md5(blob).hexdigest()


def test_bad_parameter_type_names_the_argument(pg_dsn: str) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            with pytest.raises(TypeError, match=r"\$2"):
                await conn.fetchval("SELECT $1::int + $2::int", 1, b"x")
            with pytest.raises(OverflowError):
                await conn.fetchval("SELECT $1::int2", 70000)
            return await conn.fetchval("SELECT $1::int", "42")  # str for int: parsed by server
        finally:
            await conn.close()

    assert run(go()) == 42


def test_json_parameter_round_trip_via_text(pg_dsn: str) -> None:
    async def go() -> Any:
        conn = await pg.connect(pg_dsn)
        try:
            return await conn.fetchval("SELECT ($1::jsonb)::text", {"a": 1})
        finally:
            await conn.close()

    assert json.loads(run(go())) == {"a": 1}
