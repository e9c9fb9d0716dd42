#!/usr/bin/env python3
"""What building the ASGI scope in Python costs per request (fasterapi/asgi/scope.py), to
decide whether building it in C++ would pay: a route times http_scope() on its own live
request (curl-like headers), and the whole adapter round trip is timed by bench_asgi.py.

    python3 benchmarks/asgi/bench_scope.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from fasterapi import App
from fasterapi.asgi.scope import http_scope
from fasterapi.testing import TestClient

HEADERS = {
    "user-agent": "curl/8.5.0",
    "accept": "*/*",
    "accept-encoding": "gzip, deflate, br",
    "cookie": "session=abc123; theme=dark",
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=100_000)
    args = p.parse_args()
    app = App()
    calls = args.calls

    @app.get("/items/{item_id}")
    def timed(req: Any, res: Any) -> dict[str, float]:
        start = time.perf_counter()
        for _ in range(calls):
            http_scope(req, "", {"db": None})
        return {"us_per_scope": (time.perf_counter() - start) * 1e6 / calls}

    with TestClient(app) as c:
        got = c.get("/items/1?q=x", headers=HEADERS).json()
    print(f"http_scope: {got['us_per_scope']:.2f} µs per request ({calls} calls, 8 headers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
