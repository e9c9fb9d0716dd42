"""Many sockets at once, backpressure on a reader that does not read, and broadcast."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from conftest import require_module
from ws_helpers import TIMEOUT, connect, serve, tls_options, wait_until, ws_url

from fasterapi import App, WebSocket, WebSocketDisconnect
from fasterapi.websockets import Broadcast, broadcast

require_module("websockets")


def test_many_concurrent_sockets() -> None:
    from websockets.asyncio.client import connect as aconnect

    app = App()

    @app.websocket("/echo/{who}")
    async def echo(websocket: WebSocket, who: str) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(f"{who}:{text}")

    async def one(url: str, who: int) -> list[str]:
        async with aconnect(f"{url}/echo/{who}", proxy=None, open_timeout=TIMEOUT, **tls) as ws:
            got = []
            for i in range(20):
                await ws.send(str(i))
                got.append(await ws.recv())
            return got  # type: ignore[return-value]

    async def run_all(url: str) -> list[list[str]]:
        return await asyncio.wait_for(
            asyncio.gather(*(one(url, n) for n in range(300))), TIMEOUT * 2
        )

    with serve(app) as client:
        tls = tls_options(client)
        results = asyncio.run(run_all(ws_url(client, "")))
    for n, got in enumerate(results):
        assert got == [f"{n}:{i}" for i in range(20)]


def test_backpressure_with_a_reader_that_does_not_read() -> None:
    app = App()
    app.state.sent = 0
    chunk = os.urandom(64 * 1024)
    total = 1000  # 64 MB: far more than the output high-water mark and the kernel's buffers

    @app.websocket("/flood")
    async def flood(websocket: WebSocket) -> None:
        await websocket.accept()
        for i in range(total):
            await websocket.send_bytes(i.to_bytes(4, "big") + chunk)
            app.state.sent = i + 1
        await websocket.close()

    with serve(app) as client:
        # max_queue=1: the client stops reading its socket once one message is waiting.
        with connect(client, "/flood", max_queue=1, compression=None) as ws:
            time.sleep(1.0)
            stalled = app.state.sent
            time.sleep(1.0)
            assert app.state.sent == stalled, "the sender kept going while nobody read"
            # Bounded: the high-water mark (1 MiB) plus socket buffers, not 64 MB.
            assert stalled * len(chunk) < 24 * 1024 * 1024, stalled
            for i in range(total):
                data = ws.recv(timeout=TIMEOUT)
                assert int.from_bytes(data[:4], "big") == i and data[4:] == chunk
        assert app.state.sent == total


def test_broadcast_to_many_sockets() -> None:
    from websockets.asyncio.client import connect as aconnect

    app = App()
    room: set[WebSocket] = set()

    @app.websocket("/room")
    async def join(websocket: WebSocket) -> None:
        await websocket.accept()
        room.add(websocket)
        try:
            async for text in websocket.iter_text():
                if text.startswith("all:"):
                    sent = await broadcast(room, text[4:])
                    await websocket.send_text(f"sent to {sent}")
                elif text.startswith("bin:"):
                    slow = Broadcast(text[4:].encode()).send_nowait(room)
                    await websocket.send_text(f"slow {len(slow)}")
        finally:
            room.discard(websocket)

    n = 100

    async def scenario(url: str) -> None:
        clients = [await aconnect(f"{url}/room", proxy=None, **tls) for _ in range(n)]
        try:
            await wait_for_room(n)
            gone = clients.pop()
            await gone.close()  # a closed socket is skipped, not an error
            await wait_for_room(n - 1)
            await clients[0].send("all:hello everyone ✓")
            for c in clients:
                assert await c.recv() == "hello everyone ✓"
            assert await clients[0].recv() == f"sent to {n - 1}"
            await clients[1].send("bin:raw")
            for c in clients:
                assert await c.recv() == b"raw"
            assert await clients[1].recv() == "slow 0"
        finally:
            for c in clients:
                await c.close()

    async def wait_for_room(size: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while len(room) != size:
            assert time.monotonic() < deadline, f"room has {len(room)}, want {size}"
            await asyncio.sleep(0.01)

    with serve(app) as client:
        tls = tls_options(client)
        asyncio.run(asyncio.wait_for(scenario(ws_url(client, "")), TIMEOUT * 2))
        wait_until(lambda: not room, what="every socket to leave the room")


def test_send_on_a_closed_socket_raises_disconnect() -> None:
    app = App()
    results: list[object] = []

    @app.websocket("/late")
    async def late(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        await asyncio.sleep(0.3)  # the client closes meanwhile
        try:
            await websocket.send_text("late")
        except WebSocketDisconnect as e:
            results.append(e.code)

    with serve(app) as client:
        with connect(client, "/late") as ws:
            ws.send("x")
            ws.close(4005, "gone")
        wait_until(lambda: results, what="the send to fail")
    assert results == [4005]


def test_a_slow_endpoint_pauses_the_peer_instead_of_closing() -> None:
    """A client sends 96 MiB (more than the old 64 MiB unread cap that closed with 1008) to an
    endpoint that first reads nothing, then reads slowly: the engine stops reading the socket
    at READ_HIGH_WATER (TCP flow control stalls the client's sends), reads again as the
    endpoint drains, and every message arrives, in order, with no close."""
    import threading

    from fasterapi.websockets import READ_HIGH_WATER

    app = App()
    chunk = os.urandom(64 * 1024)
    total = 96 * 1024 * 1024 // len(chunk)
    seen: dict[str, int] = {"max_unread": 0, "got": 0}
    started, go = threading.Event(), threading.Event()

    @app.websocket("/slow")
    async def slow(websocket: WebSocket) -> None:
        await websocket.accept()
        started.set()
        while not go.is_set():  # reads nothing until the test has seen the client stall
            await asyncio.sleep(0.02)
        for i in range(total):
            seen["max_unread"] = max(seen["max_unread"], websocket._unread)
            data = await websocket.receive_bytes()
            assert int.from_bytes(data[:4], "big") == i and data[4:] == chunk[4:], i
            seen["got"] = i + 1
            if i % 64 == 0:
                await asyncio.sleep(0.002)  # slower than the client sends
        await websocket.send_text(f"got {total}")

    sent = [0]

    with serve(app) as client, connect(client, "/slow", compression=None) as ws:

        def flood() -> None:
            for i in range(total):
                ws.send(i.to_bytes(4, "big") + chunk[4:])
                sent[0] = i + 1

        sender = threading.Thread(target=flood, daemon=True)
        assert started.wait(TIMEOUT)
        sender.start()
        deadline = time.monotonic() + TIMEOUT
        stalled = -1
        while sent[0] != stalled or stalled <= 0:  # until no send got through for 0.3 s
            assert time.monotonic() < deadline, "the client never stalled"
            stalled = sent[0]
            time.sleep(0.3)
        # The client is stalled by TCP flow control after the queue's high-water mark, the
        # input the engine read, and the kernel's socket buffers — not after 96 MiB.
        assert stalled * len(chunk) < 24 * 1024 * 1024, stalled
        go.set()
        assert ws.recv(timeout=TIMEOUT * 2) == f"got {total}"
        sender.join(TIMEOUT)
        assert sent[0] == total
        ws.close()
    assert seen["got"] == total
    # Memory bounded: what the endpoint left unread never passed the mark by more than the
    # messages the engine had already read from the socket when it paused.
    assert READ_HIGH_WATER < seen["max_unread"] < READ_HIGH_WATER + 256 * 1024, seen


def test_closed_sockets_are_freed() -> None:
    """The C++ callbacks hold the Python socket only until its close: after the sockets end,
    no WebSocket stays alive, without waiting for the cyclic GC."""
    import gc
    import weakref

    app = App()
    alive: weakref.WeakSet[Any] = weakref.WeakSet()

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        alive.add(websocket)  # the C++ callbacks reach the native connection through it
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)

    with serve(app) as client:
        for i in range(50):
            with connect(client, "/ws") as ws:
                ws.send(str(i))
                assert ws.recv() == str(i)
        gc.disable()
        try:
            wait_until(lambda: len(alive) == 0, what="every socket to be freed")
        finally:
            gc.enable()
