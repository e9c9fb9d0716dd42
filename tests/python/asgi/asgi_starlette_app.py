"""A plain Starlette app (no FastAPI), for mount() and `fasterapi run`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.path_params['name']}")


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {"len": len(body), "root_path": request.scope["root_path"], "method": request.method}
    )


app = Starlette(
    routes=[
        Route("/hello/{name}", hello),
        Route("/echo", echo, methods=["POST", "PUT"]),
    ]
)
