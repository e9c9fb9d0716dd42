"""The app the TLS tests serve: `python tls_app.py PORT '{"ssl_certfile": ...}'` runs it with
those app.run() settings (also importable as tls_app:app for the CLI)."""

from __future__ import annotations

import json
import sys

from fasterapi import App, Request

app = App()


@app.get("/")
def index(request: Request) -> dict[str, str]:
    return {"scheme": request.url.scheme, "hello": "tls"}


@app.post("/echo")
def echo(request: Request) -> bytes:
    return bytes(request.body)


@app.get("/big")
def big() -> bytes:
    return bytes(range(256)) * 8192  # 2 MiB: many TLS records, backpressure


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), **json.loads(sys.argv[2]))
