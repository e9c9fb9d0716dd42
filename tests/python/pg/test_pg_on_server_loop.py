"""PostgreSQL connections opened on an asyncio loop that serves an App live on the Server's own
EventLoop (fasterapi/_loops.py): one fd registered with asyncio wakes HTTP and PostgreSQL alike,
from lifespan startup (before the server listens) to lifespan shutdown (after it closed), on
epoll and on io_uring."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from conftest import free_port

from fasterapi import App, _engine, _native
from fasterapi._loops import native_loop
from fasterapi.pg import PgPool
from fasterapi.server import Config, serve

from .conftest import run

pytestmark = pytest.mark.pg


def _loops_of(pool: PgPool) -> set[Any]:
    """The native Loops the pool's connections are watched by."""
    conns = [*pool._idle, *pool._held]
    assert conns, "the pool has no connection"
    return {c._proto.channel.loop for c in conns}


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
    data = await reader.read()
    writer.close()
    return data


@pytest.mark.parametrize("backend", ["epoll", "uring"])
def test_a_served_apps_pool_runs_on_the_servers_loop(
    pg_dsn: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers: list[Any] = []
    real_server = _engine.Server

    def capture(*args: Any, **kw: Any) -> Any:
        servers.append(real_server(*args, **kw))
        return servers[-1]

    monkeypatch.setattr(_engine, "Server", capture)
    port = free_port()
    app = App(loop=backend)
    pool = PgPool(pg_dsn, min_size=2, max_size=2)
    seen: dict[str, Any] = {}

    @app.on_event("startup")
    async def startup() -> None:
        # The server exists but does not listen yet: startup's queries are served by the loop
        # it will serve requests on, and no request is accepted before startup ends.
        await pool.open()
        seen["startup"] = await pool.fetchval("SELECT 41 + 1")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

    @app.get("/db/{n}")
    async def db(n: int) -> dict[str, Any]:
        value = await pool.fetchval("SELECT $1::int * 2", n)
        same = _loops_of(pool) == {servers[0].event_loop}
        return {"value": value, "same_loop": same}

    @app.on_event("shutdown")
    async def shutdown() -> None:
        # After server.close(): the Loop is still polled for the pool's connections.
        seen["shutdown"] = await pool.fetchval("SELECT 7")
        seen["loops"] = _loops_of(pool)
        await pool.close()

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        ready: asyncio.Future[int] = aloop.create_future()
        stop = asyncio.Event()
        task = asyncio.ensure_future(
            serve(app, Config(port=port), ready=ready.set_result, stop=stop)
        )
        assert await asyncio.wait_for(ready, 30) == port
        server = servers[0]
        assert server.loop == backend
        # One native Loop for this asyncio loop: the server's is the one its reader polls.
        assert native_loop(aloop) is server.event_loop
        assert server.fileno() == server.event_loop.fileno()
        bodies = await asyncio.gather(*(_get(port, f"/db/{i}") for i in range(8)))
        for i, body in enumerate(bodies):
            assert body.startswith(b"HTTP/1.1 200"), body
            assert body.endswith(b'{"value":%d,"same_loop":true}' % (2 * i)), body
        stop.set()
        await asyncio.wait_for(task, 30)
        assert seen["loops"] == {server.event_loop}

    try:
        run(main())
    finally:
        # `servers` is reached from the app's own handler (db): a cycle through the native
        # Server, which Python's collector cannot traverse. Broken here so the Server and its
        # Loop (an io_uring ring on the uring run) go now, not with the process.
        servers.clear()
    assert seen["startup"] == 42 and seen["shutdown"] == 7


def test_connections_opened_before_the_server_share_its_loop(pg_dsn: str) -> None:
    """A pool opened on an asyncio loop before a Server of the same backend is created there:
    the Server adopts that loop rather than creating a second one."""

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        pool = await PgPool(pg_dsn, min_size=1, max_size=1).open()
        try:
            (before,) = _loops_of(pool)
            assert before is native_loop(aloop)
            server = _engine.Server("127.0.0.1", 0, event_loop=native_loop(aloop, ""))
            assert server.event_loop is before
            assert await pool.fetchval("SELECT 1") == 1
            server.close()
            assert await pool.fetchval("SELECT 2") == 2
        finally:
            await pool.close()

    run(main())


def test_a_server_with_another_backend_gets_its_own_loop_and_new_connections_join_it(
    pg_dsn: str,
) -> None:
    async def main() -> None:
        aloop = asyncio.get_running_loop()
        first = native_loop(aloop, "epoll")
        assert first.backend == "epoll"
        second = native_loop(aloop, "uring")
        assert second is not first and second.backend == "uring"
        assert native_loop(aloop) is second  # the current one: new connections join it
        pool = await PgPool(pg_dsn, min_size=1, max_size=1).open()
        try:
            assert _loops_of(pool) == {second}
            assert await pool.fetchval("SELECT 3") == 3
            assert native_loop(aloop, "epoll") is first  # asked again: no third loop
        finally:
            await pool.close()

    run(main())


def test_a_server_without_an_asyncio_loop_has_a_loop_of_its_own() -> None:
    a = _native.Server("127.0.0.1", 0, loop="epoll")
    b = _native.Server("127.0.0.1", 0, loop="epoll")
    assert a.event_loop is not b.event_loop and a.fileno() != b.fileno()
    assert _native.loop_backend_name("io_uring") == "uring"
    with pytest.raises(ValueError, match="loop must be"):
        _native.Loop("kqueue")
    with pytest.raises(TypeError):
        _native.Server("127.0.0.1", 0, event_loop=a)  # type: ignore[arg-type]
