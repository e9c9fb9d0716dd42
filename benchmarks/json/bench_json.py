"""Benchmark FasterAPI's C++ JSON (fasterapi._native) against json and orjson.

Run with the extension on the path, e.g.:
    FASTERAPI_NATIVE_DIR=build-json/py PYTHONPATH=. python3 benchmarks/json/bench_json.py
Prints ns per call (best of --repeat timings, each of an auto-sized loop) for dumps and loads
on three payloads, and for the two ways of encoding a pydantic model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any

from fasterapi import _native


def _load_orjson() -> Any:
    try:
        import orjson
    except ImportError:  # orjson is in the dev extra; the table just lacks its column
        return None
    return orjson


orjson = _load_orjson()


def small() -> Any:
    return {"message": "Hello, World!"}


def api_object() -> Any:
    """A typical ~1 KB API response: nested objects, lists, numbers, non-ASCII text."""
    return {
        "id": 123456,
        "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "name": "Zoë's Café",
        "email": "zoe@example.com",
        "active": True,
        "balance": 1234.56,
        "score": 0.875,
        "tags": ["python", "c++", "json", "fast"],
        "created_at": "2024-05-06T07:08:09Z",
        "address": {
            "street": "12 Rue de la Paix",
            "city": "Paris",
            "zip": "75002",
            "geo": {"lat": 48.8686, "lng": 2.3314},
        },
        "orders": [
            {
                "order_id": 1000 + i,
                "total": 19.99 * (i + 1),
                "items": [{"sku": f"SKU-{i}-{j}", "qty": j + 1, "price": 4.5} for j in range(2)],
                "shipped": i % 2 == 0,
                "note": None,
            }
            for i in range(3)
        ],
    }


def big_list() -> Any:
    """About 100 KB: a list of records as a paginated API returns."""
    return [
        {
            "id": i,
            "name": f"user{i}",
            "email": f"user{i}@example.com",
            "karma": i * 3.25,
            "admin": i % 10 == 0,
            "groups": [i % 7, i % 11],
        }
        for i in range(1000)
    ]


def ns_per_call(fn: Callable[[], Any], repeat: int) -> float:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def stdlib_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def row(label: str, cells: list[float | None]) -> str:
    text = "  ".join(f"{c:>12.0f}" if c is not None else f"{'-':>12}" for c in cells)
    return f"{label:<28}{text}"


def bench_payloads(repeat: int) -> None:
    header = f"{'ns/call':<28}{'json':>12}  {'orjson':>12}  {'fasterapi':>12}"
    for name, make in [
        ("small dict", small),
        ("api object ~1KB", api_object),
        ("list ~100KB", big_list),
    ]:
        obj = make()
        data = _native.json_dumps(obj)
        assert json.loads(data) == obj
        assert _native.json_loads(data) == obj
        print(f"\n{name}: {len(data)} bytes\n{header}")
        print(
            row(
                "dumps",
                [
                    ns_per_call(partial(stdlib_dumps, obj), repeat),
                    ns_per_call(partial(orjson.dumps, obj), repeat) if orjson else None,
                    ns_per_call(partial(_native.json_dumps, obj), repeat),
                ],
            )
        )
        print(
            row(
                "loads",
                [
                    ns_per_call(partial(json.loads, data), repeat),
                    ns_per_call(partial(orjson.loads, data), repeat) if orjson else None,
                    ns_per_call(partial(_native.json_loads, data), repeat),
                ],
            )
        )


def bench_pydantic(repeat: int) -> None:
    import pydantic

    class Item(pydantic.BaseModel):
        sku: str
        qty: int
        price: float

    class Order(pydantic.BaseModel):
        order_id: int = pydantic.Field(alias="orderId")
        created: dt.datetime
        items: list[Item]

    order = Order(
        orderId=1,
        created=dt.datetime(2024, 5, 6, 7, 8, 9),
        items=[Item(sku=f"S{i}", qty=i, price=2.5) for i in range(10)],
    )
    ser = order.__pydantic_serializer__
    print("\npydantic model (10 items), ns/call")
    cases = {
        "json_dumps(model) [to_json]": lambda: _native.json_dumps(order),
        "to_json(by_alias) alone": lambda: ser.to_json(order, by_alias=True),
        "model_dump(json)+json_dumps": lambda: _native.json_dumps(
            order.model_dump(mode="json", by_alias=True)
        ),
        "model_dump_json(by_alias)": lambda: order.model_dump_json(by_alias=True),
    }
    for label, fn in cases.items():
        print(f"{label:<32}{ns_per_call(fn, repeat):>10.0f}")


PAYLOADS = {"small": small, "api": api_object, "list": big_list}


def loop_only(lib: str, payload: str, op: str, n: int) -> None:
    """Calls one function n times and prints nothing: for instruction counting (callgrind)."""
    obj = PAYLOADS[payload]()
    data = _native.json_dumps(obj)
    funcs: dict[str, dict[str, Callable[[Any], Any]]] = {
        "dumps": {"json": stdlib_dumps, "fasterapi": _native.json_dumps, "none": id},
        "loads": {"json": json.loads, "fasterapi": _native.json_loads, "none": id},
    }
    if orjson:
        funcs["dumps"]["orjson"] = orjson.dumps
        funcs["loads"]["orjson"] = orjson.loads
    fn = funcs[op][lib]
    arg = obj if op == "dumps" else data
    for _ in range(n):
        fn(arg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timings per case; best is kept")
    parser.add_argument(
        "--loop",
        nargs=4,
        metavar=("LIB", "PAYLOAD", "OP", "N"),
        help="only call LIB (json|orjson|fasterapi|none) OP (dumps|loads) on PAYLOAD "
        "(small|api|list) N times; see instructions.sh",
    )
    args = parser.parse_args()
    if args.loop:
        lib, payload, op, n = args.loop
        loop_only(lib, payload, op, int(n))
        return
    print(f"load average: {os.getloadavg()}")
    bench_payloads(args.repeat)
    bench_pydantic(args.repeat)


if __name__ == "__main__":
    main()
