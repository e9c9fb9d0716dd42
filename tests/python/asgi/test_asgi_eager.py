"""ASGI mode runs an app that never waits inside the engine's call (no Task scheduled on the
loop), hands one that suspends to a Task on the serving loop, and finds that loop again when
one thread serves with a new loop (fasterapi/asgi/adapter.py keeps it per thread). The end of
a suspended app is answered by the engine's one spawn (fasterapi/_eager.py): a failure or a
cancellation after suspending answers 500 and is logged once, an app that returns without
answering answers 500 as such, and the app sees one current task and its own context."""

from __future__ import annotations

import asyncio
import contextvars
import http.client
import logging
import threading
from typing import Any

import pytest

from fasterapi.asgi import adapter, serve_app
from fasterapi.server import Config, serve

pytestmark = pytest.mark.timeout(60)

_HEADERS = [(b"content-type", b"text/plain"), (b"X-Mixed-Case", b"v")]
cv: contextvars.ContextVar[str] = contextvars.ContextVar("cv", default="unset")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/wait":
        await asyncio.sleep(0)  # suspends: the rest runs in a Task on the serving loop
    elif path == "/raise":
        await asyncio.sleep(0)
        raise ValueError("after suspending")
    elif path == "/silent":
        await asyncio.sleep(0)
        return  # returns without answering
    elif path == "/cancel":
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)  # CancelledError here: the app's Task ends cancelled
    elif path == "/task":
        before = asyncio.current_task()
        seen = cv.get()
        cv.set(path)
        await asyncio.sleep(0)
        same = asyncio.current_task() is before and before is not None
        body = f"{same} {seen} {cv.get()}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": body})
        return
    loop_id = id(asyncio.get_running_loop())
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": f"{loop_id}".encode()})


def _get(port: int, path: str) -> tuple[int, str, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode(), r.getheader("x-mixed-case")
    finally:
        conn.close()


def _serve_and_fetch(paths: list[str]) -> tuple[int, int, list[tuple[int, str, str | None]]]:
    """Serve `app` on a new loop in this thread; fetch `paths` from another thread. Returns
    (the loop's id, Tasks created through loop.create_task while fetching, answers)."""

    async def main() -> tuple[int, int, list[tuple[int, str, str | None]]]:
        loop = asyncio.get_running_loop()
        created = 0
        counting = False

        def factory(lp: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
            nonlocal created
            created += counting
            return asyncio.Task(coro, loop=lp, **kw)

        loop.set_task_factory(factory)  # type: ignore[arg-type]
        stop = asyncio.Event()
        ready: asyncio.Future[int] = loop.create_future()
        server = loop.create_task(
            serve(serve_app(app), Config(port=0), ready=ready.set_result, stop=stop)
        )
        port = await ready
        counting = True
        answers: list[tuple[int, str, str | None]] = []
        fetcher = threading.Thread(target=lambda: answers.extend(_get(port, p) for p in paths))
        fetcher.start()
        while fetcher.is_alive():
            await asyncio.sleep(0.01)
        counting = False
        stop.set()
        await server
        return id(loop), created, answers

    return asyncio.run(main())


def test_app_that_never_waits_is_answered_without_a_task() -> None:
    loop_id, created, answers = _serve_and_fetch(["/now"] * 20)
    assert answers == [(200, str(loop_id), "v")] * 20
    # The fetcher's 20 requests scheduled no Task: each was answered inside the engine's call
    # (the server's own idle ticks and the fetcher's polling sleep create none either).
    assert created == 0


def test_suspending_app_runs_on_each_new_loop_of_the_same_thread() -> None:
    # Two loops one after the other in this thread: the second must not reuse the first
    # (closed) one for the app's Task.
    for _ in range(2):
        loop_id, _created, answers = _serve_and_fetch(["/wait", "/now", "/wait"])
        assert answers == [(200, str(loop_id), "v")] * 3


def test_suspended_app_sees_one_task_and_its_own_context() -> None:
    _loop_id, _created, answers = _serve_and_fetch(["/task", "/task"])
    # The same current task before and after suspending; each request starts from a fresh
    # context (the first request's cv.set is not seen by the second).
    assert answers == [(200, "True unset /task", "v")] * 2
    assert not adapter._tasks  # the suspended apps' Tasks left the set when they ended


def test_suspended_app_failure_cancellation_and_silence(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fasterapi.error")
    _loop_id, _created, answers = _serve_and_fetch(["/raise", "/cancel", "/silent", "/wait"])
    assert [a[0] for a in answers] == [500, 500, 500, 200]
    records = [r for r in caplog.records if r.name == "fasterapi.error"]
    failures = [r for r in records if r.getMessage() == "Exception in ASGI application"]
    # Each failure is logged once, at error level (the client was still there).
    assert [(r.levelno, type(r.exc_info[1]).__name__) for r in failures if r.exc_info] == [
        (logging.ERROR, "ValueError"),
        (logging.ERROR, "CancelledError"),
    ]
    assert len(failures) == 2
    silent = [
        r for r in records if r.getMessage() == "ASGI app returned without sending a response"
    ]
    assert len(silent) == 1
    assert not adapter._tasks
