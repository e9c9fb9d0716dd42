"""Generator dependencies when the handler (or a later dependency) fails: the exception is
thrown into the generator, as FastAPI does, so `except: rollback; raise` rolls back instead
of committing; what the generator raises decides the response; cleanup errors are logged."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from fasterapi import App, Depends, HTTPException
from fasterapi.testing import TestClient


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.done = threading.Event()

    def add(self, event: str) -> None:
        self.events.append(event)
        if event.split()[-1] in ("commit", "rollback", "swallowed", "closed"):
            self.done.set()

    def wait(self) -> list[str]:
        assert self.done.wait(10), self.events
        return self.events


def make_app(log: Log) -> App:
    app = App()

    def sync_db() -> Iterator[str]:
        log.add("open")
        try:
            yield "db"
            log.add("commit")
        except Exception as e:
            log.add(f"saw {type(e).__name__}")
            log.add("rollback")
            raise

    async def async_db() -> AsyncIterator[str]:
        await asyncio.sleep(0)
        log.add("async open")
        try:
            yield "db"
            await asyncio.sleep(0)
            log.add("async commit")
        except Exception as e:
            await asyncio.sleep(0)
            log.add(f"async saw {type(e).__name__}")
            log.add("async rollback")
            raise

    def converting_db() -> Iterator[str]:
        try:
            yield "db"
        except KeyError as e:
            log.add("rollback")
            raise HTTPException(409, "conflict") from e

    def breaking_db() -> Iterator[str]:
        try:
            yield "db"
        except Exception:
            log.add("rollback")
            raise RuntimeError("rollback failed") from None

    def swallowing_db() -> Iterator[str]:
        try:
            yield "db"
        except Exception:
            log.add("swallowed")

    def failing_cleanup() -> Iterator[str]:
        yield "db"
        log.add("closed")
        raise RuntimeError("cleanup exploded")

    async def failing_async_cleanup() -> AsyncIterator[str]:
        yield "db"
        log.add("closed")
        raise RuntimeError("async cleanup exploded")

    def forbid() -> None:
        raise HTTPException(403, "no")

    def fail(kind: str) -> None:
        if kind == "error":
            raise ValueError("handler failed")
        if kind == "http":
            raise HTTPException(404, "missing")
        if kind == "key":
            raise KeyError("dup")

    @app.get("/sync/{kind}")
    def sync_handler(kind: str, db: str = Depends(sync_db)):
        fail(kind)
        return {"db": db}

    @app.get("/async/{kind}")
    async def async_handler(kind: str, db: str = Depends(async_db)):
        await asyncio.sleep(0)
        fail(kind)
        return {"db": db}

    @app.get("/mixed/{kind}")
    async def mixed_handler(kind: str, a: str = Depends(sync_db), b: str = Depends(async_db)):
        fail(kind)
        return {"a": a, "b": b}

    @app.get("/later-dep")
    def later_dep(db: str = Depends(sync_db), _: None = Depends(forbid)):
        return {"db": db}

    @app.get("/convert/{kind}")
    def convert(kind: str, db: str = Depends(converting_db)):
        fail(kind)
        return {"db": db}

    @app.get("/break/{kind}")
    def break_(kind: str, db: str = Depends(breaking_db)):
        fail(kind)
        return {"db": db}

    @app.get("/swallow/{kind}")
    def swallow(kind: str, db: str = Depends(swallowing_db)):
        fail(kind)
        return {"db": db}

    @app.get("/cleanup-fails")
    def cleanup_fails(db: str = Depends(failing_cleanup)):
        return {"db": db}

    @app.get("/async-cleanup-fails")
    async def async_cleanup_fails(db: str = Depends(failing_async_cleanup)):
        return {"db": db}

    return app


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def client(log: Log) -> Iterator[TestClient]:
    with TestClient(make_app(log)) as c:
        yield c


@pytest.mark.parametrize("route", ["sync", "async"])
def test_success_commits(client: TestClient, log: Log, route: str) -> None:
    r = client.get(f"/{route}/ok")
    assert (r.status_code, r.json()) == (200, {"db": "db"})
    prefix = "async " if route == "async" else ""
    assert log.wait() == [f"{prefix}open", f"{prefix}commit"]


@pytest.mark.parametrize("route", ["sync", "async"])
def test_handler_error_rolls_back(
    client: TestClient, log: Log, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        r = client.get(f"/{route}/error")
    assert r.status_code == 500
    assert (r.headers["content-type"], r.text) == (
        "text/plain; charset=utf-8",
        "Internal Server Error",
    )
    prefix = "async " if route == "async" else ""
    assert log.wait() == [f"{prefix}open", f"{prefix}saw ValueError", f"{prefix}rollback"]
    assert any(rec.exc_info and rec.exc_info[0] is ValueError for rec in caplog.records)


@pytest.mark.parametrize("route", ["sync", "async"])
def test_handler_http_exception_rolls_back(client: TestClient, log: Log, route: str) -> None:
    r = client.get(f"/{route}/http")
    assert (r.status_code, r.json()) == (404, {"detail": "missing"})
    prefix = "async " if route == "async" else ""
    assert log.wait() == [f"{prefix}open", f"{prefix}saw HTTPException", f"{prefix}rollback"]


def test_inner_generator_unwinds_first(client: TestClient, log: Log) -> None:
    r = client.get("/mixed/error")
    assert r.status_code == 500
    assert log.wait() == [
        "open",
        "async open",
        "async saw ValueError",
        "async rollback",
        "saw ValueError",
        "rollback",
    ]


def test_mixed_success_closes_inner_first(client: TestClient, log: Log) -> None:
    done = threading.Event()
    orig = log.add

    def add(event: str) -> None:
        orig(event)
        if "commit" in log.events and "async commit" in log.events:
            done.set()

    log.add = add  # type: ignore[method-assign]
    assert client.get("/mixed/ok").status_code == 200
    assert done.wait(10)
    assert log.events == ["open", "async open", "async commit", "commit"]


def test_later_dependency_failure_rolls_back(client: TestClient, log: Log) -> None:
    r = client.get("/later-dep")
    assert (r.status_code, r.json()) == (403, {"detail": "no"})
    assert log.wait() == ["open", "saw HTTPException", "rollback"]


def test_generator_converting_the_error_decides_the_response(client: TestClient, log: Log) -> None:
    r = client.get("/convert/key")
    assert (r.status_code, r.json()) == (409, {"detail": "conflict"})
    assert log.wait() == ["rollback"]


def test_generator_raising_another_error_answers_500_and_logs_it(
    client: TestClient, log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        r = client.get("/break/http")
        assert r.status_code == 500
        assert log.wait() == ["rollback"]
    errors = [rec for rec in caplog.records if rec.exc_info]
    assert any(rec.exc_info and isinstance(rec.exc_info[1], RuntimeError) for rec in errors), (
        caplog.text
    )
    assert "rollback failed" in caplog.text


def test_generator_swallowing_the_error_still_answers_the_error(
    client: TestClient, log: Log
) -> None:
    r = client.get("/swallow/http")
    assert (r.status_code, r.json()) == (404, {"detail": "missing"})
    assert log.wait() == ["swallowed"]
    assert client.get("/swallow/error").status_code == 500


@pytest.mark.parametrize("route", ["/cleanup-fails", "/async-cleanup-fails"])
def test_cleanup_error_is_logged_with_traceback(
    client: TestClient, log: Log, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        assert client.get(route).json() == {"db": "db"}
        assert log.wait() == ["closed"]
        for _ in range(100):
            if any(rec.exc_info for rec in caplog.records):
                break
            threading.Event().wait(0.05)
    recs = [rec for rec in caplog.records if rec.name == "fasterapi.error" and rec.exc_info]
    assert recs, caplog.text
    assert "cleanup exploded" in caplog.text
    assert "Traceback" in caplog.text


def test_generator_dependency_that_does_not_yield_is_a_clear_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    def no_yield() -> Iterator[str]:
        if False:
            yield "never"

    @app.get("/")
    def handler(db: str = Depends(no_yield)):
        return db

    with caplog.at_level(logging.ERROR, logger="fasterapi.error"), TestClient(app) as c:
        assert c.get("/").status_code == 500
    assert "did not yield" in caplog.text


def test_middleware_route_rolls_back(log: Log) -> None:
    app = make_app(log)

    @app.middleware("http")
    async def passthrough(request, call_next):
        return await call_next(request)

    with TestClient(app) as c:
        assert c.get("/sync/http").status_code == 404
        assert log.wait() == ["open", "saw HTTPException", "rollback"]
