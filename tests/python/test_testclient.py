"""TestClient lifecycle: lazy start, close, startup failures."""

from __future__ import annotations

import httpx
import pytest

from fasterapi import App
from fasterapi.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/")
    def hello(req, res):
        return "hi"

    return app


def test_starts_on_first_request_and_stops_on_close() -> None:
    client = TestClient(make_app())
    assert client.get("/").text == "hi"
    port = client.port
    assert port > 0
    client.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


def test_startup_failure_is_raised() -> None:
    app = make_app()

    @app.on_event("startup")
    def broken() -> None:
        raise RuntimeError("database unreachable")

    with pytest.raises(RuntimeError, match="failed to start") as info, TestClient(app):
        pass
    assert "database unreachable" in repr(info.value.__cause__)


def test_head_and_streaming_through_the_client() -> None:
    from fasterapi import StreamingResponse

    app = make_app()

    @app.get("/stream")
    def stream(req, res):
        return StreamingResponse(iter([b"a", b"b"]))

    with TestClient(app) as client:
        r = client.head("/stream")
        assert (r.status_code, r.content) == (200, b"")
        assert client.get("/stream").content == b"ab"


def test_unclosed_client_lets_the_interpreter_exit_cleanly() -> None:
    import subprocess
    import sys

    from conftest import ROOT, python_env

    script = (
        "from fasterapi import App\n"
        "from fasterapi.testing import TestClient\n"
        "app = App()\n"
        "app.get('/')(lambda req, res: 'served')\n"
        "client = TestClient(app)\n"
        "print(client.get('/').text)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=python_env(), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (out.returncode, out.stdout.strip()) == (0, "served"), out.stderr


def test_closing_one_client_leaves_another_clients_handlers_alone() -> None:
    import asyncio
    import threading

    started, release = threading.Event(), threading.Event()
    slow_app = App()

    @slow_app.get("/slow")
    async def slow(req, res):
        started.set()
        while not release.is_set():
            await asyncio.sleep(0.01)
        return "done"

    result: dict[str, object] = {}
    with TestClient(slow_app) as b:

        def call() -> None:
            r = b.get("/slow")
            result["status"], result["text"] = r.status_code, r.text

        t = threading.Thread(target=call)
        t.start()
        assert started.wait(30)
        with TestClient(make_app()) as a:
            assert a.get("/").text == "hi"
        # a's graceful shutdown is over; b's suspended handler must not have been touched
        release.set()
        t.join(30)
    assert result == {"status": 200, "text": "done"}
