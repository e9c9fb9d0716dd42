"""The engine boundary (fasterapi._native.Server/Request/Responder) without the App layer."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fasterapi import _native

PENDING = object()


class Req(_native.Request):
    pass


class Res:
    status_code = 200
    raw_headers: list[tuple[bytes, bytes]] | None = None
    media_type: str | None = None


def _render(result: Any, req: Any, res: Any, responder: Any) -> None:
    responder.send(299, [(b"content-type", b"text/plain")], repr(result))


def _handle_error(exc: BaseException, req: Any, res: Any, responder: Any) -> None:
    responder.send(500, [(b"content-type", b"text/plain")], f"error: {exc!r}")


def _spawn(coro: Any, req: Any, res: Any, responder: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    task = asyncio.ensure_future(_finish(coro, res, responder))
    _tasks.add(task)
    return PENDING


_tasks: set[asyncio.Task[Any]] = set()


async def _finish(coro: Any, res: Any, responder: Any) -> None:
    # Test-only resumption: the coroutine awaited asyncio.sleep(0) once.
    await asyncio.sleep(0.01)
    try:
        coro.send(None)
    except StopIteration as stop:
        responder.send(200, [(b"content-type", b"text/plain")], str(stop.value))


class Engine:
    """A raw engine on its own loop thread; routes are (method, path, fn, is_async)."""

    def __init__(self, routes: list[tuple[str, str, Callable[..., Any], bool]]) -> None:
        self.server = _native.Server("127.0.0.1", 0, keep_alive_timeout=5.0)
        self.server.set_hooks(Req, Res, _render, _spawn, _handle_error, PENDING)
        for method, path, fn, is_async in routes:
            self.server.add_route(method, path, fn, is_async)
        self.port = self.server.listen()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.add_reader(self.server.fileno(), self.server.poll)
        self.loop.run_forever()

    def close(self) -> None:
        def stop() -> None:
            self.loop.remove_reader(self.server.fileno())
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(5)


@pytest.fixture
def engine_factory() -> Iterator[Callable[..., Engine]]:
    engines: list[Engine] = []

    def make(routes: list[tuple[str, str, Callable[..., Any], bool]]) -> Engine:
        e = Engine(routes)
        engines.append(e)
        return e

    yield make
    for e in engines:
        e.close()


def request(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, f"connection closed early: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(body) < n:
                chunk = s.recv(65536)
                assert chunk
                body += chunk
        elif headers.get("transfer-encoding") == "chunked":
            while not body.endswith(b"0\r\n\r\n"):
                chunk = s.recv(65536)
                assert chunk
                body += chunk
            out, rest = b"", body
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line, 16)
                if size == 0:
                    break
                out, rest = out + rest[:size], rest[size + 2 :]
            body = out
        return status, headers, body


def get(port: int, target: str, extra: str = "") -> tuple[int, dict[str, str], bytes]:
    return request(
        port, f"GET {target} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n".encode()
    )


def test_request_attributes_are_decoded(engine_factory: Callable[..., Engine]) -> None:
    seen: dict[str, Any] = {}

    def h(req: Any, res: Any) -> dict[str, Any]:
        seen.update(
            method=req.method, path=req.path, raw_path=req.raw_path, qs=req.query_string,
            params=req.path_params, headers=req.header_list, client=req.client,
            version=req.http_version, body=req.body,
        )  # fmt: skip
        return {"ok": True}

    e = engine_factory([("GET", "/files/{name}/{rest:path}", h, False)])
    status, headers, body = get(e.port, "/files/a%20b/c/d%2Fe?x=1&y=%C3%A9", "X-Mixed-Case: V\r\n")
    assert status == 200 and body == b'{"ok":true}'
    assert headers["content-type"] == "application/json"
    assert seen["method"] == "GET"
    assert seen["path"] == "/files/a b/c/d/e"
    assert seen["raw_path"] == b"/files/a%20b/c/d%2Fe"
    assert seen["qs"] == b"x=1&y=%C3%A9"
    assert seen["params"] == {"name": "a b", "rest": "c/d/e"}
    assert ("x-mixed-case", "V") in seen["headers"]
    assert seen["client"][0] == "127.0.0.1" and seen["client"][1] > 0
    assert seen["version"] == "1.1" and seen["body"] == b""


def test_status_headers_and_plain_results(engine_factory: Callable[..., Engine]) -> None:
    def created(req: Any, res: Any) -> str:
        res.status_code = 201
        res.raw_headers = [(b"x-one", b"1"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        return "made"

    e = engine_factory([
        ("POST", "/c", created, False),
        ("GET", "/bytes", lambda req, res: b"\x00\x01", False),
        ("GET", "/none", lambda req, res: None, False),
        ("GET", "/other", lambda req, res: 3.5, False),
    ])  # fmt: skip
    raw = request(
        e.port, b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert raw[0] == 201 and raw[2] == b"made"
    assert raw[1]["content-type"] == "text/plain; charset=utf-8"
    assert get(e.port, "/bytes")[1]["content-type"] == "application/octet-stream"
    none = get(e.port, "/none")
    assert none[0] == 200 and none[1]["content-length"] == "0" and none[2] == b""
    assert get(e.port, "/other")[0:3:2] == (299, b"3.5")  # non-plain results go to render()


def test_repeated_response_headers_are_all_sent(engine_factory: Callable[..., Engine]) -> None:
    def h(req: Any, res: Any) -> str:
        res.raw_headers = [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        return "x"

    e = engine_factory([("GET", "/", h, False)])
    with socket.create_connection(("127.0.0.1", e.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.count(b"set-cookie: ") == 2


def test_header_injection_is_refused(engine_factory: Callable[..., Engine]) -> None:
    def h(req: Any, res: Any) -> str:
        res.raw_headers = [(b"x-evil", b"a\r\nInjected: yes")]
        return "x"

    e = engine_factory([("GET", "/", h, False)])
    status, headers, _ = get(e.port, "/")
    assert status == 500 and "injected" not in headers


def test_exception_goes_to_handle_error_and_server_keeps_serving(
    engine_factory: Callable[..., Engine],
) -> None:
    e = engine_factory(
        [("GET", "/boom", lambda req, res: 1 / 0, False), ("GET", "/", lambda r, s: "ok", False)]
    )
    status, _, body = get(e.port, "/boom")
    assert status == 500 and b"ZeroDivisionError" in body
    assert get(e.port, "/")[2] == b"ok"


def test_values_the_fast_encoder_refuses_go_to_render(
    engine_factory: Callable[..., Engine],
) -> None:
    # Non-str keys: the C++ encoder refuses them and hands the value to the render hook
    # (which, in an App, encodes it as FastAPI's jsonable_encoder would), not a crash.
    e = engine_factory([("GET", "/", lambda req, res: {1: 2}, False)])
    status, _, body = get(e.port, "/")
    assert (status, body) == (299, b"{1: 2}")
    assert get(e.port, "/")[0] == 299  # and the server keeps serving


def test_async_eager_and_suspended(engine_factory: Callable[..., Engine]) -> None:
    async def eager(req: Any, res: Any) -> dict[str, str]:
        return {"id": req.path_params["id"]}

    async def suspends(req: Any, res: Any) -> str:
        await asyncio.sleep(0)
        return "later"

    e = engine_factory([("GET", "/e/{id:int}", eager, True), ("GET", "/s", suspends, True)])
    assert get(e.port, "/e/42")[2] == b'{"id":42}'  # {id:int} arrives as an int
    assert get(e.port, "/s")[2] == b"later"


def test_pipelined_requests_with_a_suspended_one_stay_in_order(
    engine_factory: Callable[..., Engine],
) -> None:
    async def slow(req: Any, res: Any) -> str:
        await asyncio.sleep(0)
        return "slow"

    e = engine_factory([("GET", "/slow", slow, True), ("GET", "/fast", lambda r, s: "fast", False)])
    batch = (
        b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", e.port), timeout=10) as s:
        s.sendall(batch)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.index(b"slow") < data.index(b"fast")


def test_done_callbacks_run_after_the_response(engine_factory: Callable[..., Engine]) -> None:
    events: list[str] = []

    def h(req: Any, res: Any) -> str:
        req.add_done_callback(lambda: events.append("first"))
        req.add_done_callback(lambda: events.append("second"))
        events.append("handler")
        return "x"

    e = engine_factory([("GET", "/", h, False)])
    assert get(e.port, "/")[2] == b"x"
    for _ in range(100):
        if len(events) == 3:
            break
        threading.Event().wait(0.01)
    assert events == ["handler", "first", "second"]


def test_responder_streams_with_chunked_encoding(engine_factory: Callable[..., Engine]) -> None:
    def render(result: Any, req: Any, res: Any, responder: Any) -> None:
        responder.start(200, [(b"content-type", b"text/plain")])
        for part in result:
            responder.write(part)
        responder.end()
        with pytest.raises(RuntimeError):
            responder.send(200, [], b"again")

    e = engine_factory([("GET", "/", lambda req, res: iter([b"a", b"bc", b"def"]), False)])
    e.server.set_hooks(Req, Res, render, _spawn, _handle_error, PENDING)
    _, headers, body = get(e.port, "/")
    assert headers["transfer-encoding"] == "chunked" and body == b"abcdef"


def test_route_conflicts_and_bad_patterns_raise_value_error() -> None:
    s = _native.Server("127.0.0.1", 0)
    s.add_route("GET", "/a/{x}", lambda r, s: None, False)
    with pytest.raises(ValueError):
        s.add_route("GET", "/a/{y}", lambda r, s: None, False)
    with pytest.raises(ValueError):
        s.add_route("GET", "/b/{unclosed", lambda r, s: None, False)
    s.close()


def test_set_hooks_requires_a_request_subclass() -> None:
    s = _native.Server("127.0.0.1", 0)
    with pytest.raises(TypeError):
        s.set_hooks(object, Res, _render, _spawn, _handle_error, PENDING)
    with pytest.raises(RuntimeError):
        s.listen()  # hooks not set
    s.close()
