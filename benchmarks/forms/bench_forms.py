"""Multipart upload parsing: FasterAPI (C++ src/multipart via fasterapi._forms) vs FastAPI's
parser (Starlette's MultiPartParser on python-multipart), MB/s, in-process, same body.

Both produce what a handler gets: field values as str and files as UploadFile (spooled to a
SpooledTemporaryFile, 1 MB in memory). The body is one 1 MiB file plus two small fields.

    python3 benchmarks/forms/bench_forms.py [--size BYTES] [--seconds S]

Also `--http`: the same upload POSTed over a socket to a FasterAPI app and to the same
FastAPI app under uvicorn (one connection, sequential), requests/s and MB/s."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

BOUNDARY = "----fasterapiBenchBoundary7MA4YWxkTrZu0gW"


def make_body(size: int) -> bytes:
    data = os.urandom(size)
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="user"\r\n\r\nalice\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


class _Req:
    """What fasterapi._forms.parse_form reads from a request."""

    def __init__(self, body: bytes) -> None:
        from fasterapi.datastructures import Headers

        self.body = body
        self.headers = Headers([("content-type", f"multipart/form-data; boundary={BOUNDARY}")])
        self.done: list[Any] = []

    def add_done_callback(self, fn: Any) -> None:
        self.done.append(fn)


def ours(body: bytes) -> int:
    from fasterapi._forms import parse_form

    req = _Req(body)
    form = parse_form(req)
    size = form["file"].size  # type: ignore[union-attr]
    for fn in req.done:
        fn()
    return int(size)


def starlette(body: bytes) -> int:
    from starlette.datastructures import Headers
    from starlette.formparsers import MultiPartParser

    async def stream() -> Any:
        yield body

    async def run() -> int:
        headers = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
        form = await MultiPartParser(headers, stream()).parse()
        size = form["file"].size  # type: ignore[union-attr]
        await form.close()
        return int(size)

    return asyncio.run(run())


def measure(name: str, fn: Any, body: bytes, seconds: float) -> float:
    fn(body)  # warm up (imports, first allocation)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        assert fn(body) > 0
        n += 1
    dt = time.perf_counter() - t0
    mbs = n * len(body) / dt / 1e6
    print(f"{name:38s} {n / dt:9.1f} bodies/s {mbs:9.1f} MB/s  ({n} runs)")
    return mbs


def http(body: bytes, seconds: float) -> None:
    import subprocess
    import sys

    import httpx

    app_src = os.path.join(os.path.dirname(__file__), "upload_app.py")
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    for name, cmd, port in [
        ("FasterAPI", [sys.executable, app_src, "fasterapi", "8741"], 8741),
        ("FastAPI + uvicorn", [sys.executable, app_src, "fastapi", "8742"], 8742),
    ]:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
                for _ in range(100):
                    try:
                        c.get("/ready")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                assert c.post("/upload", content=body, headers=headers).json()["size"] > 0
                n, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < seconds:
                    c.post("/upload", content=body, headers=headers).raise_for_status()
                    n += 1
                dt = time.perf_counter() - t0
            print(f"HTTP {name:33s} {n / dt:9.1f} req/s    {n * len(body) / dt / 1e6:9.1f} MB/s")
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1 << 20, help="file bytes (default 1 MiB)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--http", action="store_true", help="also POST it to servers")
    args = ap.parse_args()
    body = make_body(args.size)
    print(f"body {len(body)} bytes (one {args.size}-byte file, two fields)")
    a = measure("FasterAPI (C++ src/multipart)", ours, body, args.seconds)
    b = measure("FastAPI (Starlette + python-multipart)", starlette, body, args.seconds)
    print(f"ratio {a / b:.1f}x")
    if args.http:
        http(body, args.seconds)


if __name__ == "__main__":
    main()
