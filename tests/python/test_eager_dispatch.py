"""Async handlers: eager first step without a Task, a real Task once they suspend, and the
asyncio features that depend on it (timeout, TaskGroup, contextvars, cancellation)."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fasterapi import App, HTTPException
from fasterapi.testing import TestClient

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def make_app() -> App:
    app = App()

    @app.get("/no-suspend")
    async def no_suspend(req, res):
        before = request_id.get()
        request_id.set("leaked?")
        task = asyncio.current_task()
        # 3.11: the stand-in current task, no asyncio.Task; 3.12+: asyncio's eager Task.
        return {
            "is_task": isinstance(getattr(task, "task", task), asyncio.Task),
            "has_current": task is not None,
            "before": before,
        }

    @app.get("/suspend")
    async def suspend(req, res):
        before = asyncio.current_task()
        await asyncio.sleep(0)
        task = asyncio.current_task()
        # Same current task object before and after suspending, now driven by a real Task.
        return {
            "is_task": isinstance(getattr(task, "task", task), asyncio.Task),
            "same": task is before,
        }

    @app.get("/ctx/{rid}")
    async def ctx(req, res):
        rid = req.path_params["rid"]
        seen_at_start = request_id.get()
        request_id.set(rid)
        for _ in range(3):
            await asyncio.sleep(0.001)
        return {"start": seen_at_start, "end": request_id.get()}

    @app.get("/timeout-fires")
    async def timeout_fires(req, res):
        try:
            async with asyncio.timeout(0.01):  # entered during the eager step
                await asyncio.sleep(30)
        except TimeoutError:
            return "timed out"
        return "not timed out"

    @app.get("/timeout-ok")
    async def timeout_ok(req, res):
        async with asyncio.timeout(10):
            await asyncio.sleep(0)
        async with asyncio.timeout(10):  # entered and left without suspending
            pass
        return "fine"

    @app.get("/taskgroup")
    async def taskgroup(req, res):
        async def work(n: int) -> int:
            await asyncio.sleep(0)
            return n * 2

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(work(i)) for i in range(4)]
        return [t.result() for t in tasks]

    @app.get("/gather")
    async def gather(req, res):
        async def one(n: int) -> int:
            await asyncio.sleep(0.001)
            return n

        return list(await asyncio.gather(one(1), one(2), one(3)))

    @app.get("/cancel-self")
    async def cancel_self(req, res):
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_soon(task.cancel)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "cancelled and recovered"
        return "never cancelled"

    @app.get("/raise-early")
    async def raise_early(req, res):
        raise HTTPException(409, "early")

    @app.get("/raise-late")
    async def raise_late(req, res):
        await asyncio.sleep(0)
        raise HTTPException(410, "late")

    @app.get("/httpx")
    async def via_httpx(req, res):
        port = req.url.netloc.rsplit(":", 1)[1]
        verify = (TestClient.suite_tls or {}).get("verify", True)  # the suite's TLS run
        async with httpx.AsyncClient(verify=verify) as c:
            r = await c.get(f"{req.url.scheme}://127.0.0.1:{port}/suspend")
        return {"inner": r.json()}

    @app.get("/sync-threadpool", threadpool=True)
    def in_pool(req, res):
        return {
            "main_thread": threading.current_thread() is threading.main_thread(),
            "loop_thread": threading.current_thread().name,
        }

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_non_suspending_handler_runs_eagerly(client: TestClient) -> None:
    body = client.get("/no-suspend").json()
    # Python 3.11 makes no Task for it (a stand-in); 3.12+ uses asyncio's own eager Task.
    eager_task = sys.version_info >= (3, 12)
    assert body == {"is_task": eager_task, "has_current": True, "before": "unset"}
    # The contextvar set by the previous request did not leak into this one.
    assert client.get("/no-suspend").json()["before"] == "unset"


def test_suspending_handler_becomes_a_task(client: TestClient) -> None:
    assert client.get("/suspend").json() == {"is_task": True, "same": True}


def test_contextvars_isolated_between_concurrent_requests(client: TestClient) -> None:
    def get(i: int) -> dict[str, str]:
        return httpx.get(f"{client.base_url}/ctx/r{i}", verify=client._verify).json()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(get, range(16)))
    assert results == [{"start": "unset", "end": f"r{i}"} for i in range(16)]


def test_asyncio_timeout(client: TestClient) -> None:
    assert client.get("/timeout-fires").text == "timed out"
    assert client.get("/timeout-ok").text == "fine"


def test_taskgroup_and_gather(client: TestClient) -> None:
    assert client.get("/taskgroup").json() == [0, 2, 4, 6]
    assert client.get("/gather").json() == [1, 2, 3]


def test_cancellation_through_the_stand_in_task(client: TestClient) -> None:
    assert client.get("/cancel-self").text == "cancelled and recovered"


def test_exceptions_before_and_after_suspending(client: TestClient) -> None:
    r = client.get("/raise-early")
    assert (r.status_code, r.json()) == (409, {"detail": "early"})
    r = client.get("/raise-late")
    assert (r.status_code, r.json()) == (410, {"detail": "late"})


def test_httpx_async_client_inside_handler(client: TestClient) -> None:
    assert client.get("/httpx").json() == {"inner": {"is_task": True, "same": True}}


def test_sync_route_in_thread_pool(client: TestClient) -> None:
    body = client.get("/sync-threadpool").json()
    assert body["loop_thread"] != "fasterapi-testclient"
    assert body["main_thread"] is False


def test_asyncpg_inside_handler() -> None:
    import os

    # CI sets FASTERAPI_REQUIRE_PG=1: a missing driver or server fails the test instead of skipping
    require_pg = os.environ.get("FASTERAPI_REQUIRE_PG") == "1"
    asyncpg = __import__("asyncpg") if require_pg else pytest.importorskip("asyncpg")
    dsn = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    app = App()

    @app.get("/pg/{n}")
    async def pg(req, res):
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.PostgresError) as e:
            return {"skip": str(e)}
        try:
            async with asyncio.timeout(10):
                n = int(req.path_params["n"])
                value = await conn.fetchval("SELECT $1::int * 2", n)
            return {"value": value, "in_txn": conn.is_in_transaction()}
        finally:
            await conn.close()

    with TestClient(app) as client:
        body = client.get("/pg/21").json()
    if "skip" in body:
        (pytest.fail if require_pg else pytest.skip)(f"no PostgreSQL at {dsn}: {body['skip']}")
    assert body == {"value": 42, "in_txn": False}
