"""Run one app definition on FastAPI (in-process TestClient) and on FasterAPI (real socket) and
compare what a client sees."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import fastapi
import fastapi.testclient

import fasterapi
from fasterapi.testing import TestClient


@contextlib.contextmanager
def both(make_app: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """(fastapi_client, fasterapi_client) for `make_app(framework_module)`."""
    ref = fastapi.testclient.TestClient(make_app(fastapi))
    with TestClient(make_app(fasterapi)) as ours:
        yield ref, ours


def answer(r: Any) -> tuple[int, Any, str | None]:
    """What is compared: status, the body (parsed when JSON), WWW-Authenticate."""
    ctype = r.headers.get("content-type", "")
    body = r.json() if ctype.startswith("application/json") else r.text
    return r.status_code, body, r.headers.get("www-authenticate")


def same(ref: Any, ours: Any, method: str, url: str, **kw: Any) -> tuple[int, Any, str | None]:
    """Sends the request to both; asserts equal answers and returns FastAPI's."""
    a = answer(ref.request(method, url, **kw))
    b = answer(ours.request(method, url, **kw))
    assert b == a, f"{method} {url} {kw}: FasterAPI {b} != FastAPI {a}"
    return a


def request_body(doc: dict[str, Any], path: str, method: str = "post") -> Any:
    """The operation's requestBody with its schema resolved (the Body_<operationId> name
    depends on the operation id, compared elsewhere) and the generated title dropped."""
    body = doc["paths"][path][method]["requestBody"]
    out = {"required": body.get("required"), "content": {}}
    for media, content in body["content"].items():
        schema = content["schema"]
        if "$ref" in schema:
            schema = dict(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
            if schema.get("title", "").startswith("Body_"):
                schema.pop("title")
        out["content"][media] = schema
    return out
