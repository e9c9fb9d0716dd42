"""HTTP/2 server push (RFC 9113 §8.4) from a handler — `request.send_push_promise(path)`,
awaited (Starlette's spelling) or plain — judged by the `h2` package and nghttp: a client that
allows push gets PUSH_PROMISE on the request's stream and then the pushed response, made by the
app's own routes; a client with SETTINGS_ENABLE_PUSH 0, and any HTTP/1.1 client, gets no
promise and `False`. A mounted ASGI app pushes through the `http.response.push` extension."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from conftest import require_module, transport_specific
from h2_client import H2Client
from h2_tools import tool

from fasterapi import App, Request
from fasterapi.testing import TestClient

pytest_plugins = ["h2_servers"]
require_module("h2")


def promises(c: H2Client, parent: int) -> dict[str, Any]:
    """PushedStreamReceived events on `parent`, by promised :path."""
    from h2.events import PushedStreamReceived

    return {
        dict(e.headers)[":path"]: e
        for e in c.events
        if isinstance(e, PushedStreamReceived) and e.parent_stream_id == parent
    }


def test_push_promise_then_the_pushed_response(py_server: Any) -> None:
    from h2.events import ResponseReceived

    port, _ = py_server()
    c = H2Client(port, window=65535)
    sid = c.get(
        "/pushing", [("accept-encoding", "identity"), ("user-agent", "t/1"), ("cookie", "a=1")]
    )
    c.read_until(lambda: c.ended(sid), timeout=10)
    assert json.loads(c.body(sid)) == {"sent": [True, True]}
    pushed = promises(c, sid)
    assert set(pushed) == {"/items/7?q=pushed", "/pushed-request"}
    first = pushed["/items/7?q=pushed"]
    fields = dict(first.headers)
    assert (fields[":method"], fields[":scheme"], fields[":authority"]) == ("GET", "http", "x")
    assert fields["user-agent"] == "t/1" and "cookie" not in fields  # §8.4.1: made up, safe
    ids = [e.pushed_stream_id for e in pushed.values()]
    assert all(i % 2 == 0 for i in ids)  # server-initiated streams are even (§5.1.1)
    c.read_until(lambda: all(c.ended(i) for i in ids), timeout=10)
    # The pushed responses come from the same routes as a client's request would.
    assert json.loads(c.body(first.pushed_stream_id)) == {"item_id": 7, "q": "pushed"}
    heads = {e.stream_id: dict(e.headers) for e in c.events if isinstance(e, ResponseReceived)}
    assert heads[first.pushed_stream_id][":status"] == "200"
    seen = json.loads(c.body(pushed["/pushed-request"].pushed_stream_id))
    assert seen == {
        "host": "x",
        "user-agent": "t/1",
        "accept-encoding": "identity",
        "cookie": None,
        "version": "2",
    }
    # The promise precedes the parent's end (it references the parent's stream, §8.4.1).
    kinds = [type(e).__name__ for e in c.events if getattr(e, "stream_id", None) == sid]
    assert "StreamEnded" in kinds


def test_no_push_when_the_client_disabled_it(py_server: Any) -> None:
    port, _ = py_server()
    c = H2Client(port, window=65535, enable_push=False)
    sid = c.get("/pushing")
    c.read_until(lambda: c.ended(sid), timeout=10)
    assert json.loads(c.body(sid)) == {"sent": [False, False]}
    assert promises(c, sid) == {}
    # The connection is fine (a PUSH_PROMISE here would have been a PROTOCOL_ERROR, §6.5.2).
    sid2 = c.get("/items/1")
    c.read_until(lambda: c.ended(sid2), timeout=10)
    assert json.loads(c.body(sid2)) == {"item_id": 1, "q": None}


def test_push_while_streaming_and_not_after_the_response(py_server: Any) -> None:
    port, _ = py_server()
    c = H2Client(port, window=65535)
    sid = c.get("/pushing-streamed")
    c.read_until(lambda: c.ended(sid), timeout=10)
    assert c.body(sid) == b"True"
    (promise,) = promises(c, sid).values()
    c.read_until(lambda: c.ended(promise.pushed_stream_id), timeout=10)
    assert json.loads(c.body(promise.pushed_stream_id)) == {"item_id": 8, "q": None}
    sid2 = c.get("/late-push")
    c.read_until(lambda: c.ended(sid2), timeout=10)
    assert json.loads(c.body(sid2)) == {"sent": [False]}
    assert promises(c, sid2) == {} and len(promises(c, sid)) == 1


def test_refused_pushed_stream_costs_nothing(py_server: Any) -> None:
    """A client may refuse a promise with RST_STREAM (§8.4.2): the rest goes on."""
    port, _ = py_server()
    c = H2Client(port, window=65535)
    sid = c.get("/pushing-slow")
    c.read_until(lambda: c.ended(sid), timeout=10)
    assert json.loads(c.body(sid)) == {"sent": True}
    (promise,) = promises(c, sid).values()
    assert not c.ended(promise.pushed_stream_id)  # /slow answers after 0.5 s
    c.conn.reset_stream(promise.pushed_stream_id, error_code=0x8)  # CANCEL
    c.flush()
    sid2 = c.get("/items/2")
    c.read_until(lambda: c.ended(sid2), timeout=10)
    assert json.loads(c.body(sid2)) == {"item_id": 2, "q": None}
    import time

    time.sleep(0.7)  # the refused stream's handler answers into nothing
    sid3 = c.get("/items/3")
    c.read_until(lambda: c.ended(sid3), timeout=10)
    assert json.loads(c.body(sid3)) == {"item_id": 3, "q": None}


def test_http1_has_no_push() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> dict[str, bool]:
        return {
            "awaited": bool(await request.send_push_promise("/a.css")),
            "plain": bool(request.send_push_promise("/a.css")),
        }

    with TestClient(app) as client:
        assert client.get("/").json() == {"awaited": False, "plain": False}


def test_bad_paths_are_refused() -> None:
    app = App()

    @app.get("/")
    def index(request: Request) -> dict[str, str]:
        errors = []
        for bad in ("a.css", "", "/a b", "/a\r\nx: 1", "http://other/a.css", 7):
            try:
                request.send_push_promise(bad)  # type: ignore[arg-type]
            except (ValueError, TypeError) as e:
                errors.append(type(e).__name__)
        return {"errors": ",".join(errors)}

    with TestClient(app) as client:
        expected = ",".join(["ValueError"] * 5 + ["TypeError"])
        assert client.get("/").json() == {"errors": expected}


def test_nghttp_shows_the_push(py_server: Any) -> None:
    port, _ = py_server()
    r = subprocess.run(
        [tool("nghttp"), "-v", "-n", f"http://127.0.0.1:{port}/pushing"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert "recv PUSH_PROMISE frame" in r.stdout
    assert ":path: /items/7?q=pushed" in r.stdout and ":path: /pushed-request" in r.stdout
    r = subprocess.run(
        [tool("nghttp"), "-v", "-n", "--no-push", f"http://127.0.0.1:{port}/pushing"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert "PUSH_PROMISE" not in r.stdout


@transport_specific("opens h2c by prior knowledge on the TestClient's port", only=("tls",))
def test_mounted_asgi_app_pushes() -> None:
    """Starlette's own `await request.send_push_promise(path)` in a mounted app: the scope
    offers `http.response.push` on h2 streams only, and the promised path is served."""
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def page(request: StarletteRequest) -> JSONResponse:
        await request.send_push_promise("/asgi/style.css")  # a no-op without the extension
        return JSONResponse({"push": "http.response.push" in request.scope.get("extensions", {})})

    async def style(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"css": True})

    app = App()
    app.mount("/asgi", Starlette(routes=[Route("/", page), Route("/style.css", style)]))
    with TestClient(app) as client:
        r = client.get("/asgi/")  # HTTP/2 only under FASTERAPI_TEST_TRANSPORT=h2c
        assert r.json() == {"push": r.http_version == "HTTP/2"}
        c = H2Client(client.port, window=65535)
        sid = c.get("/asgi/")
        c.read_until(lambda: c.ended(sid), timeout=10)
        assert json.loads(c.body(sid)) == {"push": True}
        (promise,) = promises(c, sid).values()
        assert dict(promise.headers)[":path"] == "/asgi/style.css"
        c.read_until(lambda: c.ended(promise.pushed_stream_id), timeout=10)
        assert json.loads(c.body(promise.pushed_stream_id)) == {"css": True}
