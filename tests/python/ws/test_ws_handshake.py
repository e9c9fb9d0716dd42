"""The handshake side of `@app.websocket`: path/query/header/cookie parameters, Depends,
subprotocols, extra headers on the 101, routers, and refusals (403) before accept."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest
from conftest import require_module
from ws_helpers import connect, serve, wait_until, ws_url

from fasterapi import APIRouter, App, Cookie, Depends, Header, Query, WebSocket, status
from fasterapi.websockets import WebSocketException, WebSocketState

require_module("websockets")


def refused_status(client: object, path: str, **options: object) -> int:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        connect(client, path, **options)  # type: ignore[arg-type]
    return int(info.value.response.status_code)


def test_path_query_header_cookie_parameters() -> None:
    app = App()

    @app.websocket("/rooms/{room}/{n:int}")
    async def room(
        websocket: WebSocket,
        room: str,
        n: int,
        token: str,
        limit: int = 10,
        x_trace: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "room": room,
                "n": n,
                "token": token,
                "limit": limit,
                "trace": x_trace,
                "session": session,
                "path": websocket.url.path,
                "url": str(websocket.url),
                "query": websocket.query_params.get("token"),
                "path_params": websocket.path_params,
                "client_host": websocket.client.host,
                "ua": websocket.headers.get("user-agent"),
                "states": [websocket.client_state.name, websocket.application_state.name],
            }
        )

    with serve(app) as client:
        with connect(
            client,
            "/rooms/caf%C3%A9/42?token=abc&limit=3",
            additional_headers={"X-Trace": "t-1", "Cookie": "session=s1; other=2"},
        ) as ws:
            got = json.loads(ws.recv())
    assert got == {
        "room": "café",
        "n": 42,
        "token": "abc",
        "limit": 3,
        "trace": "t-1",
        "session": "s1",
        "path": "/rooms/caf%C3%A9/42",
        "url": ws_url(client, "/rooms/caf%C3%A9/42?token=abc&limit=3"),
        "query": "abc",
        "path_params": {"room": "café", "n": 42},
        "client_host": "127.0.0.1",
        "ua": got["ua"],
        "states": ["CONNECTED", "CONNECTED"],
    }
    assert "websockets" in got["ua"]


def test_invalid_or_missing_parameters_refuse_with_403(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/q")
    async def q(websocket: WebSocket, n: Annotated[int, Query(ge=1)]) -> None:
        await websocket.accept()
        await websocket.send_text(str(n))

    with serve(app) as client:
        assert refused_status(client, "/q") == 403
        assert refused_status(client, "/q?n=0") == 403
        assert refused_status(client, "/q?n=x") == 403
        with connect(client, "/q?n=5") as ws:
            assert ws.recv() == "5"


def test_subprotocol_and_extra_accept_headers() -> None:
    app = App()

    @app.websocket("/proto")
    async def proto(websocket: WebSocket) -> None:
        offered = websocket.subprotocols
        chosen = "chat.v2" if "chat.v2" in offered else None
        await websocket.accept(
            subprotocol=chosen,
            headers=[(b"x-server", b"fasterapi"), ("x-offered", ",".join(offered))],
        )
        await websocket.send_text(str(offered))

    with serve(app) as client:
        with connect(client, "/proto", subprotocols=["chat.v1", "chat.v2"]) as ws:
            assert ws.subprotocol == "chat.v2"
            assert ws.response.headers["X-Server"] == "fasterapi"
            assert ws.response.headers["X-Offered"] == "chat.v1,chat.v2"
            assert ws.recv() == "['chat.v1', 'chat.v2']"
        with connect(client, "/proto") as ws:
            assert ws.subprotocol is None
            assert "Sec-WebSocket-Protocol" not in ws.response.headers


def test_bad_accept_header_is_an_error_before_accept() -> None:
    app = App()

    @app.websocket("/bad")
    async def bad(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"x-evil", b"a\r\nSet-Cookie: x=1")])

    with serve(app) as client:
        assert refused_status(client, "/bad") == 403


def test_refusals_before_accept_are_403(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/never")
    async def never(websocket: WebSocket) -> None:
        return None  # returns without accepting

    @app.websocket("/raises")
    async def raises(websocket: WebSocket) -> None:
        raise RuntimeError("boom before accept")

    @app.websocket("/close-first")
    async def close_first(websocket: WebSocket) -> None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)

    @app.websocket("/ws-exception")
    async def ws_exception(websocket: WebSocket) -> None:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="no")

    @app.get("/plain")
    def plain() -> dict[str, bool]:
        return {"http": True}

    with caplog.at_level(logging.ERROR, logger="fasterapi.error"), serve(app) as client:
        for path in ["/never", "/raises", "/close-first", "/ws-exception"]:
            assert refused_status(client, path) == 403, path
        assert refused_status(client, "/nowhere") == 404
        assert client.get("/plain").json() == {"http": True}  # HTTP beside WebSockets
        wait_until(lambda: "boom before accept" in caplog.text, what="the traceback in the log")
    assert "Exception in WebSocket /raises before accept" in caplog.text
    assert "/ws-exception" not in caplog.text  # a deliberate refusal is not an error


def test_plain_get_on_a_websocket_route_is_refused() -> None:
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()

    with serve(app) as client:
        r = client.get("/ws")
        assert r.status_code in (400, 426), r.status_code


def test_depends_and_generator_cleanup_when_the_socket_ends() -> None:
    app = App()
    events: list[str] = []

    def settings() -> dict[str, str]:
        return {"greeting": "hi"}

    def db() -> Iterator[str]:
        events.append("db open")
        yield "db"
        events.append("db closed")

    async def user(
        websocket: WebSocket, token: str, cfg: dict[str, str] = Depends(settings)
    ) -> str:
        if token != "good":
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        websocket.state.user = "ann"
        return f"{cfg['greeting']} ann"

    async def session(name: str = Depends(user)) -> AsyncIterator[str]:
        events.append("session open")
        yield name
        events.append("session closed")

    @app.websocket("/dep")
    async def dep(
        websocket: WebSocket, who: str = Depends(session), conn: str = Depends(db)
    ) -> None:
        await websocket.accept()
        await websocket.send_text(f"{who} {conn} {websocket.state.user}")
        async for _ in websocket.iter_text():  # until the client closes
            pass
        events.append("endpoint done")

    with serve(app) as client:
        assert refused_status(client, "/dep?token=bad") == 403
        assert events == []
        with connect(client, "/dep?token=good") as ws:
            assert ws.recv() == "hi ann db ann"
            assert events == ["session open", "db open"]
        wait_until(lambda: len(events) == 5, what="the dependencies' cleanup")
    # Closed after the endpoint, last opened first (as FastAPI's exit stack does).
    assert events == ["session open", "db open", "endpoint done", "db closed", "session closed"]


def test_generator_dependency_sees_the_endpoint_exception() -> None:
    app = App()
    seen: list[str] = []

    async def tx() -> AsyncIterator[None]:
        try:
            yield
        except Exception as e:
            seen.append(f"rollback: {e}")
            raise
        seen.append("commit")

    @app.websocket("/tx", dependencies=[Depends(tx)])
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("failed mid-socket")

    with serve(app) as client, connect(client, "/tx") as ws:
        from websockets.exceptions import ConnectionClosed

        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1011
    assert seen == ["rollback: failed mid-socket"]


def test_routers_prefixes_and_dependencies() -> None:
    calls: list[str] = []

    def router_dep(websocket: WebSocket) -> None:
        calls.append(f"router {websocket.path}")

    def include_dep() -> None:
        calls.append("include")

    router = APIRouter(prefix="/chat", dependencies=[Depends(router_dep)])

    @router.websocket("/{room}")
    async def chat(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"room {room}")
        await websocket.close()

    app = App()
    app.include_router(router, prefix="/v1", dependencies=[Depends(include_dep)])

    async def direct(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("direct")

    app.add_api_websocket_route("/direct", direct)

    assert [r.path for r in app.websocket_routes] == ["/v1/chat/{room}", "/direct"]
    with serve(app) as client:
        with connect(client, "/v1/chat/lobby") as ws:
            assert ws.recv() == "room lobby"
        with connect(client, "/direct") as ws:
            assert ws.recv() == "direct"
        assert refused_status(client, "/chat/lobby") == 404
    assert calls == ["include", "router /v1/chat/lobby"]


def test_registration_errors_are_clear() -> None:
    app = App()
    with pytest.raises(TypeError, match="async def"):

        @app.websocket("/sync")
        def sync(websocket: WebSocket) -> None:
            pass

    with pytest.raises(TypeError, match="request body"):

        @app.websocket("/body")
        async def body(websocket: WebSocket, item: dict[str, int]) -> None:
            pass

    with pytest.raises(TypeError, match=r"@app\.websocket needs a path"):
        app.websocket(lambda: None)  # type: ignore[arg-type]

    @app.websocket("/dup")
    async def first(websocket: WebSocket) -> None:
        pass

    with pytest.raises(ValueError, match="already handled"):

        @app.websocket("/dup")
        async def second(websocket: WebSocket) -> None:
            pass


def test_state_before_accept_and_receive_connect() -> None:
    app = App()

    @app.websocket("/states")
    async def states(websocket: WebSocket) -> None:
        before = (websocket.client_state, websocket.application_state)
        first = await websocket.receive()  # the handshake, as an ASGI message
        await websocket.accept()
        await websocket.send_json(
            {
                "before": [s.name for s in before],
                "first": first,
                "after": [websocket.client_state.name, websocket.application_state.name],
            }
        )
        await websocket.close()
        assert websocket.application_state is WebSocketState.DISCONNECTED

    with serve(app) as client, connect(client, "/states") as ws:
        assert json.loads(ws.recv()) == {
            "before": ["CONNECTING", "CONNECTING"],
            "first": {"type": "websocket.connect"},
            "after": ["CONNECTED", "CONNECTED"],
        }


def test_dependency_overrides_apply_to_websocket_routes() -> None:
    app = App()

    def current_user() -> str:
        return "real"

    @app.websocket("/me")
    async def me(websocket: WebSocket, user: str = Depends(current_user)) -> None:
        await websocket.accept()
        await websocket.send_text(user)

    app.dependency_overrides[current_user] = lambda: "fake"
    with serve(app) as client, connect(client, "/me") as ws:
        assert ws.recv() == "fake"


def test_http_exception_before_accept_answers_its_status() -> None:
    from websockets.exceptions import InvalidStatus

    from fasterapi import HTTPException

    app = App()

    def auth(token: str | None = None) -> str:
        if token != "ok":
            raise HTTPException(401, "bad token")
        return token

    @app.websocket("/private")
    async def private(websocket: WebSocket, token: str = Depends(auth)) -> None:
        await websocket.accept()
        await websocket.send_text(token)

    with serve(app) as client:
        with pytest.raises(InvalidStatus) as info:
            connect(client, "/private?token=no")
        assert info.value.response.status_code == 401
        assert json.loads(info.value.response.body) == {"detail": "bad token"}
        with connect(client, "/private?token=ok") as ws:
            assert ws.recv() == "ok"


def test_get_route_and_websocket_route_share_a_path() -> None:
    # FastAPI serves both: the upgrade goes to the websocket endpoint, a plain GET to the
    # HTTP one (one engine route for the two; before, startup refused the pair as a conflict).
    app = App()

    @app.get("/live/{room}")
    def page(room: str) -> dict[str, str]:
        return {"page": room}

    @app.websocket("/live/{room}")
    async def live(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"live {room}")
        await websocket.close()

    with serve(app) as client:
        assert client.get("/live/a").json() == {"page": "a"}
        with connect(client, "/live/b") as ws:
            assert ws.recv() == "live b"
        assert client.get("/live/c").json() == {"page": "c"}
        assert client.post("/live/c").status_code == 405
