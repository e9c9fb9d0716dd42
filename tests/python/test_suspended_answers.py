"""A suspended async handler's return value is answered exactly as the same value returned at
once: the engine answers the one inline (bindings/server_module.cpp), a Task finishing the
other calls Responder.send_result (bindings/py_fast_answer.cpp, the same code) and falls back
to fasterapi._dispatch.render for what it leaves. Each case is served twice, by a handler that
returns at once and by one that awaits first, and the two answers must match: status, headers
(the Date header aside) and body."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fasterapi import App, BackgroundTasks
from fasterapi.testing import TestClient

ran: list[str] = []  # background tasks that ran


def _cookie(res: Any) -> None:
    res.set_cookie("session", "abc")
    res.headers["x-extra"] = "1"


def _media_type(res: Any) -> None:
    res.media_type = "application/vnd.example+json"


def _background(res: Any) -> None:
    tasks = BackgroundTasks()
    tasks.add_task(ran.append, "background")
    res.background = tasks


def _status(res: Any) -> None:
    res.status_code = 201


def _bad_header(res: Any) -> None:
    res.raw_headers = [(b"x-bad", b"a\r\nb")]


def _media(value: str, charset: str | None = None) -> Callable[[Any], None]:
    def prepare(res: Any) -> None:
        res.media_type = value
        if charset is not None:
            res.charset = charset

    return prepare


def _raw_content_type(res: Any) -> None:
    res.raw_headers = [(b"x-before", b"1"), (b"content-type", b"application/x-thing")]


# name: (what the handler returns, what it does to `res` first)
CASES: dict[str, tuple[Callable[[], Any], Callable[[Any], None] | None]] = {
    "dict": (lambda: {"a": 1, "b": [1, 2.5, None, "é"]}, None),
    "list": (lambda: [{"id": 1}, {"id": 2}], None),
    "str": (lambda: "hello", None),
    "bytes": (lambda: b"\x00\x01", None),
    "none": (lambda: None, None),
    "status": (lambda: {"created": True}, _status),
    "headers-and-cookie": (lambda: {"ok": True}, _cookie),
    "media-type": (lambda: {"x": 1}, _media_type),  # render(): res.media_type
    "background": (lambda: {"x": 1}, _background),  # render(): res.background
    "timedelta": (lambda: {"t": dt.timedelta(seconds=90)}, None),  # the encoder's TypeError
    "tuple": (lambda: (1, 2), None),  # not a fast type: render()
    "int": (lambda: 42, None),
    "bad-header": (lambda: {"x": 1}, _bad_header),  # ValueError: 500 either way
    "html": (lambda: b"<p>x</p>", _media("text/html")),  # charset added
    "csv-charset": (lambda: "a,b", _media("text/csv; charset=latin-1")),  # kept as it is
    "charset-attr": (lambda: "a", _media("text/plain", "latin-1")),
    "non-ascii-media": (lambda: "a", _media("text/é")),  # render() sends it (latin-1)
    "bad-media": (lambda: "a", _media("text/plain\r\nx-injected: 1")),  # 500 either way
    "none-media": (lambda: None, _media("text/html")),  # no content type for no body
    "raw-content-type": (lambda: {"x": 1}, _raw_content_type),  # the last one wins
    "none-raw-content-type": (lambda: None, _raw_content_type),
}


# What the inline answer itself must be (status, content-type, body), so the two paths are not
# merely equal: the shared C++ answer is checked too.
EXPECTED: dict[str, tuple[int, str | None, bytes]] = {
    "dict": (200, "application/json", '{"a":1,"b":[1,2.5,null,"é"]}'.encode()),
    "str": (200, "text/plain; charset=utf-8", b"hello"),
    "bytes": (200, "application/octet-stream", b"\x00\x01"),
    "none": (200, None, b""),
    "status": (201, "application/json", b'{"created":true}'),
    "media-type": (200, "application/vnd.example+json", b'{"x":1}'),
    "int": (200, "application/json", b"42"),
    "html": (200, "text/html; charset=utf-8", b"<p>x</p>"),
    "csv-charset": (200, "text/csv; charset=latin-1", b"a,b"),
    "charset-attr": (200, "text/plain; charset=latin-1", b"a"),
    "none-media": (200, None, b""),
    "raw-content-type": (200, "application/x-thing", b'{"x":1}'),
    "none-raw-content-type": (200, "application/x-thing", b""),
}


def make_app() -> App:
    app = App()
    for name, (value, prepare) in CASES.items():

        def register(name: str, value: Callable[[], Any], prepare: Any) -> None:
            @app.get(f"/now/{name}")
            async def now(req: Any, res: Any) -> Any:
                if prepare is not None:
                    prepare(res)
                return value()

            @app.get(f"/later/{name}")
            async def later(req: Any, res: Any) -> Any:
                await asyncio.sleep(0)  # suspends: a Task answers it
                if prepare is not None:
                    prepare(res)
                return value()

        register(name, value, prepare)
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


@pytest.mark.parametrize("name", list(CASES))
def test_a_suspended_handler_is_answered_as_one_that_returned_at_once(
    client: TestClient, name: str
) -> None:
    now = client.get(f"/now/{name}")
    later = client.get(f"/later/{name}")
    assert (later.status_code, later.content) == (now.status_code, now.content)
    strip = {"date"}
    assert [(k, v) for k, v in later.headers.multi_items() if k not in strip] == [
        (k, v) for k, v in now.headers.multi_items() if k not in strip
    ]
    if name in EXPECTED:
        assert (now.status_code, now.headers.get("content-type"), now.content) == EXPECTED[name]
    if name == "headers-and-cookie":
        assert now.headers["x-extra"] == "1" and "session=abc" in now.headers["set-cookie"]
    if name in ("bad-header", "bad-media"):
        assert now.status_code == 500
        assert "x-injected" not in now.headers
    assert len(now.headers.get_list("content-type")) <= 1
    if name == "timedelta":
        assert now.json() == {"t": 90.0}


def test_background_tasks_run_after_a_suspended_answer(client: TestClient) -> None:
    ran.clear()
    assert client.get("/later/background").json() == {"x": 1}
    for _ in range(100):
        if ran:
            break
        asyncio.run(asyncio.sleep(0.01))
    assert ran == ["background"]
