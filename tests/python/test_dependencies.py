"""Depends: the seed's form, generator cleanup after the response, caching, sub-dependencies,
background tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from fasterapi import App, BackgroundTasks, Depends, HTTPException, Request
from fasterapi.testing import TestClient


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.response_seen = threading.Event()
        self.cleanup_done = threading.Event()
        self.calls = 0


class Settings:
    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose


def make_app(rec: Recorder) -> App:
    app = App()

    def get_db() -> Iterator[str]:
        rec.events.append("open")
        yield "db-handle"
        # Runs after the response is on the socket: the test sets response_seen once it has
        # read the response, so a cleanup that ran too early would see it unset.
        rec.events.append("after-response" if rec.response_seen.wait(10) else "before-response")
        rec.cleanup_done.set()

    async def get_async_resource() -> AsyncIterator[str]:
        await asyncio.sleep(0)
        rec.events.append("async-open")
        yield "async-resource"
        await asyncio.sleep(0)
        rec.events.append("async-close")
        rec.cleanup_done.set()

    def counted() -> int:
        rec.calls += 1
        return rec.calls

    def user_from_header(req: Request) -> str:
        token = req.headers.get("x-token")
        if token != "secret":
            raise HTTPException(401, "bad token", headers={"WWW-Authenticate": "Bearer"})
        return "alice"

    def needs_user(user: str = Depends(user_from_header), n: int = Depends(counted)) -> str:
        return f"{user}#{n}"

    @app.get("/seed/{item}")
    def seed_form(req, res, db=Depends(get_db)):
        rec.events.append("handler")
        return {"db": db, "item": req.path_params["item"]}

    @app.get("/async-gen")
    async def async_gen(req, res, r=Depends(get_async_resource)):
        return {"r": r}

    @app.get("/twice")
    def twice(a: int = Depends(counted), b: int = Depends(counted), c: str = Depends(needs_user)):
        return {"a": a, "b": b, "c": c}

    @app.get("/uncached")
    def uncached(a: int = Depends(counted), b: int = Depends(counted, use_cache=False)):
        return {"a": a, "b": b}

    @app.get("/class")
    def klass(s: Settings = Depends()):
        return {"verbose": s.verbose}

    @app.get("/background")
    def with_background(tasks: BackgroundTasks):
        tasks.add_task(rec.events.append, "background")
        tasks.add_task(rec.cleanup_done.set)
        return "queued"

    @app.get("/res-background")
    def res_background(req, res):
        tasks = BackgroundTasks()
        tasks.add_task(rec.events.append, "res.background")
        tasks.add_task(rec.cleanup_done.set)
        res.background = tasks  # on the per-request res of a plain (req, res) handler
        return {"queued": True}

    @app.get("/route-deps", dependencies=[Depends(user_from_header)])
    def route_deps(req, res):
        return "allowed"

    return app


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def client(rec: Recorder) -> Iterator[TestClient]:
    with TestClient(make_app(rec)) as c:
        yield c


def test_generator_dependency_cleanup_runs_after_response(
    client: TestClient, rec: Recorder
) -> None:
    r = client.get("/seed/7")
    assert r.json() == {"db": "db-handle", "item": "7"}
    rec.response_seen.set()
    assert rec.cleanup_done.wait(10)
    assert rec.events == ["open", "handler", "after-response"]


def test_async_generator_dependency(client: TestClient, rec: Recorder) -> None:
    assert client.get("/async-gen").json() == {"r": "async-resource"}
    assert rec.cleanup_done.wait(10)
    assert rec.events == ["async-open", "async-close"]


def test_dependency_used_twice_is_called_once(client: TestClient, rec: Recorder) -> None:
    r = client.get("/twice", headers={"X-Token": "secret"})
    assert r.json() == {"a": 1, "b": 1, "c": "alice#1"}
    r = client.get("/twice", headers={"X-Token": "secret"})
    assert r.json() == {"a": 2, "b": 2, "c": "alice#2"}


def test_use_cache_false_calls_again(client: TestClient) -> None:
    assert client.get("/uncached").json() == {"a": 1, "b": 2}


def test_sub_dependency_raising_http_exception(client: TestClient, rec: Recorder) -> None:
    r = client.get("/twice", headers={"X-Token": "wrong"})
    assert (r.status_code, r.json()) == (401, {"detail": "bad token"})
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/route-deps").status_code == 401
    assert client.get("/route-deps", headers={"X-Token": "secret"}).text == "allowed"


def test_class_dependency_with_query_param(client: TestClient) -> None:
    assert client.get("/class?verbose=true").json() == {"verbose": True}
    assert client.get("/class").json() == {"verbose": False}


def test_background_tasks_run_after_response(client: TestClient, rec: Recorder) -> None:
    assert client.get("/background").text == "queued"
    assert rec.cleanup_done.wait(10)
    assert rec.events == ["background"]


def test_res_background_in_a_plain_handler_runs(client: TestClient, rec: Recorder) -> None:
    assert client.get("/res-background").json() == {"queued": True}
    assert rec.cleanup_done.wait(10)
    assert rec.events == ["res.background"]
