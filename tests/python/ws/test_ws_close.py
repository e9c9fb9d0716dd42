"""Ending a socket: close codes and reasons in both directions, the client vanishing,
handlers that return without closing (1000) or raise after accept (1011, logged),
WebSocketException, and sending to a socket that is gone."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from conftest import require_module
from ws_helpers import connect, raw_connect, raw_frame, serve, wait_until

from fasterapi import App, WebSocket, WebSocketDisconnect
from fasterapi.websockets import WebSocketException

require_module("websockets")


def closing_app(record: list[object]) -> App:
    app = App()

    @app.websocket("/server-closes")
    async def server_closes(websocket: WebSocket) -> None:
        await websocket.accept()
        reason = await websocket.receive_text()
        await websocket.close(code=4001, reason=reason)
        record.append(("closed", websocket.application_state.name))

    @app.websocket("/returns")
    async def returns(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("bye")

    @app.websocket("/raises")
    async def raises(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("about to fail")
        raise KeyError("broken handler")

    @app.websocket("/ws-exception")
    async def ws_exception(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(code=4403, reason="forbidden room")

    @app.websocket("/listen")
    async def listen(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect as e:
            record.append((e.code, e.reason))
            try:
                await websocket.send_text("too late")
            except WebSocketDisconnect as again:
                record.append(("send after close", again.code))

    @app.websocket("/sender")
    async def sender(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        try:
            for i in range(100_000):  # until the vanished peer is noticed
                await websocket.send_text(f"tick {i}")
                await asyncio.sleep(0.001)
            record.append("never noticed")
        except WebSocketDisconnect as e:
            record.append(("sender stopped", e.code))

    return app


def test_server_close_code_and_reason_reach_the_client() -> None:
    from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK

    record: list[object] = []
    with serve(closing_app(record)) as client, connect(client, "/server-closes") as ws:
        ws.send("see you")
        with pytest.raises((ConnectionClosedOK, ConnectionClosedError)) as info:
            ws.recv()
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "see you")
        wait_until(lambda: record, what="the handler")
    assert record == [("closed", "DISCONNECTED")]


def test_client_close_code_and_reason_reach_the_handler() -> None:
    record: list[object] = []
    with serve(closing_app(record)) as client:
        with connect(client, "/listen") as ws:
            ws.send("x")
            ws.close(code=4002, reason="client leaving")
        wait_until(lambda: len(record) == 2, what="the handler to see the close")
    assert record == [(4002, "client leaving"), ("send after close", 4002)]


def test_client_close_without_code_is_1005() -> None:
    record: list[object] = []
    with serve(closing_app(record)) as client:
        sock = raw_connect(client.port, "/listen")
        sock.sendall(raw_frame(0x8, b""))  # close without a status code (RFC 6455 §7.1.5)
        wait_until(lambda: record, what="the handler to see the close")
        answer = sock.recv(16)
        sock.close()
    assert record[0] == (1005, "")
    assert answer[0] == 0x88  # the server answered with a close frame


def test_client_vanishing_is_1006() -> None:
    record: list[object] = []
    with serve(closing_app(record)) as client:
        with connect(client, "/listen") as ws:
            ws.send("x")
            ws.socket.shutdown(socket.SHUT_RDWR)  # TCP gone, no close frame
        wait_until(lambda: record, what="the handler to see the drop")
    assert record[0] == (1006, "")


def test_sender_notices_a_vanished_peer() -> None:
    record: list[object] = []
    with serve(closing_app(record)) as client:
        with connect(client, "/sender") as ws:
            ws.send("go")
            ws.recv()
            ws.socket.shutdown(socket.SHUT_RDWR)
        wait_until(lambda: record, what="the sender to stop")
    assert record[0][0] == "sender stopped"  # type: ignore[index]


def test_return_without_close_closes_1000() -> None:
    from websockets.exceptions import ConnectionClosedOK

    with serve(closing_app([])) as client, connect(client, "/returns") as ws:
        assert ws.recv() == "bye"
        with pytest.raises(ConnectionClosedOK) as info:
            ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1000


def test_exception_after_accept_closes_1011_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    from websockets.exceptions import ConnectionClosedError

    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        with serve(closing_app([])) as client, connect(client, "/raises") as ws:
            assert ws.recv() == "about to fail"
            with pytest.raises(ConnectionClosedError) as info:
                ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1011
            wait_until(lambda: "broken handler" in caplog.text, what="the traceback")
    assert "Exception in WebSocket /raises (closed with 1011)" in caplog.text
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)


def test_websocket_exception_closes_with_its_code() -> None:
    from websockets.exceptions import ConnectionClosedError

    with serve(closing_app([])) as client, connect(client, "/ws-exception") as ws:
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv()
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4403, "forbidden room")


def test_server_shutdown_closes_open_sockets_with_1001() -> None:
    from websockets.exceptions import ConnectionClosed

    from fasterapi.testing import TestClient

    app = App()
    ended: list[object] = []

    @app.websocket("/idle")
    async def idle(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            async for _ in websocket.iter_text():
                pass
        finally:
            ended.append(websocket.client_state.name)

    client = TestClient(app)
    client.start()
    try:
        with connect(client, "/idle") as ws:
            ws.send("x")
            client.stop()  # graceful shutdown while the socket is open
            with pytest.raises(ConnectionClosed) as info:
                ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    finally:
        client.stop()
    assert ended == ["DISCONNECTED"]
