"""Registration-time compilation: which routes the engine calls directly, with no wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fasterapi import Depends, Request, Response
from fasterapi._endpoint import build_endpoint
from fasterapi.routing import Route


class Out(BaseModel):
    a: int


def plain(req, res):
    return {}


async def plain_async(req, res):
    return {}


def annotated(req: Request, res: Response) -> dict[str, int]:
    return {}


def loosely_annotated(req: Any, res: Any) -> Any:
    return {}


def typed(item_id: int):
    return item_id


def with_model(req, res) -> Out:
    return Out(a=1)


def dep() -> int:
    return 1


def with_dep(req, res, d=Depends(dep)):
    return d


def test_plain_handlers_are_passed_to_the_engine_unwrapped() -> None:
    for fn, is_async in (
        (plain, False),
        (plain_async, True),
        (annotated, False),
        (loosely_annotated, False),  # `req: Any` is still the request, not a query parameter
    ):
        endpoint, flag = build_endpoint(Route("/", fn), [])
        assert endpoint is fn and flag is is_async


def test_anything_more_gets_a_wrapper() -> None:
    cases = [
        Route("/{item_id}", typed),
        Route("/", with_model),
        Route("/", with_dep),
        Route("/", plain, status_code=201),
        Route("/", plain, threadpool=True),
    ]
    for route in cases:
        endpoint, _ = build_endpoint(route, [])
        assert endpoint is not route.endpoint, route
    endpoint, is_async = build_endpoint(Route("/", plain), [lambda request, call_next: None])
    assert endpoint is not plain and is_async


def test_static_files_endpoint_is_plain(tmp_path: Path) -> None:
    from fasterapi.staticfiles import StaticFiles

    files = StaticFiles(directory=tmp_path)
    endpoint, is_async = build_endpoint(Route("/s/{path:path}", files), [])
    assert endpoint is files and not is_async
