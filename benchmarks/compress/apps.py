"""The compression benchmark's servers: the same 100 KB JSON document from FasterAPI (engine
compression per codec, or GZipMiddleware) and from FastAPI on uvicorn with Starlette's
GZipMiddleware.

python3 apps.py fasterapi <port> <zstd|br|gzip|gzip-mw|identity>
uvicorn apps:fastapi_app --port <port>"""

from __future__ import annotations

import sys
from typing import Any


def document() -> dict[str, Any]:
    """~100 KB of JSON shaped like an API listing (repeated keys, varied values)."""
    items = [
        {
            "id": i,
            "name": f"product {i}",
            "price": round(3.5 + (i * 7919 % 1000) / 10, 2),
            "tags": ["sale", "new"] if i % 3 == 0 else ["stock"],
            "description": f"Item number {i} with a description that varies by {i * 31 % 97}",
            "in_stock": i % 5 != 0,
        }
        for i in range(620)
    ]
    return {"count": len(items), "items": items}


DOC = document()


def fasterapi_main(port: int, mode: str) -> None:
    from fasterapi import App
    from fasterapi.middleware import GZipMiddleware

    if mode == "gzip-mw":
        app = App(port=port)
        app.add_middleware(GZipMiddleware)  # FastAPI's defaults: minimum_size=500, level 9
    elif mode == "identity":
        app = App(port=port)
    else:
        app = App(port=port, compression=[mode])

    @app.get("/doc")
    def doc(req: Any, res: Any) -> dict[str, Any]:
        return DOC

    app.run()


def _fastapi_app() -> Any:
    from fastapi import FastAPI
    from fastapi.middleware.gzip import GZipMiddleware

    api = FastAPI()
    api.add_middleware(GZipMiddleware)  # minimum_size=500, compresslevel=9

    @api.get("/doc")
    def doc() -> dict[str, Any]:
        return DOC

    return api


if __name__ == "__main__":
    fasterapi_main(int(sys.argv[2]), sys.argv[3])
else:
    fastapi_app = _fastapi_app()
