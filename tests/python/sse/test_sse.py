"""Server-Sent Events: FastAPI's `response_class=EventSourceResponse` generator endpoints and
sse-starlette's `EventSourceResponse(generator, ping=)`, framed in C++ (src/sse/). Checked with
httpx streaming and raw sockets: fields and multi-line data, headers, Last-Event-ID, pings, a
client that leaves (the generator's finally runs), bad ids, backpressure."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Iterable, Iterator

import pytest
from pydantic import BaseModel
from raw_stream import open_stream, wait_for

from fasterapi import App
from fasterapi.requests import Request
from fasterapi.sse import EventSourceResponse, ServerSentEvent, last_event_id
from fasterapi.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


ITEMS = [Item(name="Plumbus", price=32.99), Item(name="Portal Gun", price=999.99)]
closed: list[str] = []
events_before_close: list[int] = []
produced: list[int] = []


def parse_events(text: str) -> list[dict[str, str]]:
    """The events a client dispatches (WHATWG HTML §9.2.5), comments dropped."""
    out: list[dict[str, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        ev: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            ev[name] = ev[name] + "\n" + value if name == "data" and name in ev else value
        if ev:
            out.append(ev)
    return out


def make_app() -> App:
    app = App()

    @app.get("/items", response_class=EventSourceResponse)
    async def items() -> AsyncIterable[Item]:
        for item in ITEMS:
            yield item

    @app.get("/sync-dicts", response_class=EventSourceResponse)
    def sync_dicts() -> Iterable[dict[str, int]]:
        for i in range(3):
            yield {"n": i}

    @app.get("/fields", response_class=EventSourceResponse)
    async def fields() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(data={"a": 1}, event="update", id="1", retry=2500)
        yield ServerSentEvent(raw_data="line one\nline two\r\nline three\rend", id="2")
        yield ServerSentEvent(comment="just a comment")
        yield ServerSentEvent(data="text", event="greeting")

    @app.get("/starlette")
    async def starlette_form(req, res):
        async def gen():
            yield "plain text"
            yield {"data": "fields", "event": "custom", "id": "9"}
            yield ServerSentEvent(data="as is")

        return EventSourceResponse(gen())

    @app.get("/resume", response_class=EventSourceResponse)
    async def resume(request: Request) -> AsyncIterable[ServerSentEvent]:
        start = int(last_event_id(request) or -1) + 1
        assert request.headers.get("last-event-id") == last_event_id(request)
        for i in range(start, 5):
            yield ServerSentEvent(data=i, id=str(i))

    @app.get("/forever")
    async def forever(req, res):
        async def gen():
            n = 0
            try:
                while True:
                    yield {"data": str(n)}
                    n += 1
                    await asyncio.sleep(0.05)
            finally:
                closed.append("forever")
                events_before_close.append(n)

        return EventSourceResponse(gen())

    @app.get("/idle")
    async def idle(req, res):
        async def gen():
            try:
                yield "first"
                await asyncio.sleep(3600)  # waits: only the client's leaving can stop it
                yield "never"
            finally:
                closed.append("idle")

        return EventSourceResponse(gen(), ping=0)

    @app.get("/pings")
    async def pings(req, res):
        async def gen():
            yield "start"
            await asyncio.sleep(2.5)
            yield "end"

        return EventSourceResponse(gen(), ping=0.3)

    @app.get("/bad-id", response_class=EventSourceResponse)
    async def bad_id() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(data="ok", id="1")
        yield ServerSentEvent(data="x", id="2\nretry: 1")  # would inject a field

    @app.get("/big", response_class=EventSourceResponse)
    def big() -> Iterator[str]:
        for i in range(800):
            produced.append(i)
            yield f"{i:05d}" + "x" * 16384

    @app.get("/ok")
    def ok(req, res):
        return {"ok": True}

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_fastapi_form_pydantic_items_are_json(client: TestClient) -> None:
    r = client.get("/items")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-accel-buffering"] == "no"
    assert r.text == (
        'data: {"name":"Plumbus","price":32.99}\n\ndata: {"name":"Portal Gun","price":999.99}\n\n'
    )


def test_sync_generator_of_dicts(client: TestClient) -> None:
    assert parse_events(client.get("/sync-dicts").text) == [
        {"data": f'{{"n":{i}}}'} for i in range(3)
    ]


def test_fields_multiline_data_and_comments(client: TestClient) -> None:
    text = client.get("/fields").text
    assert text.startswith('event: update\ndata: {"a":1}\nid: 1\nretry: 2500\n\n')
    assert "data: line one\ndata: line two\ndata: line three\ndata: end\nid: 2\n\n" in text
    assert ": just a comment\n\n" in text
    assert parse_events(text)[-1] == {"event": "greeting", "data": '"text"'}  # JSON in this form


def test_sse_starlette_form(client: TestClient) -> None:
    assert parse_events(client.get("/starlette").text) == [
        {"data": "plain text"},
        {"event": "custom", "id": "9", "data": "fields"},
        {"data": "as is"},
    ]


def test_last_event_id_reaches_the_handler(client: TestClient) -> None:
    assert [e["id"] for e in parse_events(client.get("/resume").text)] == ["0", "1", "2", "3", "4"]
    r = client.get("/resume", headers={"Last-Event-ID": "2"})
    assert [e["data"] for e in parse_events(r.text)] == ["3", "4"]


def test_httpx_streaming_sees_events_before_the_end(client: TestClient) -> None:
    seen: list[str] = []
    with client.stream("GET", "/forever") as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                seen.append(line[6:])
            if len(seen) == 5:
                break
    if r.http_version == "HTTP/2":
        # httpcore 1.0 sends no RST_STREAM for a response closed early (the stream stays open
        # on the pooled connection): an HTTP/2 client leaves here by closing the connection.
        client._transport.close()
    assert seen == ["0", "1", "2", "3", "4"]
    assert wait_for(lambda: "forever" in closed)  # leaving closed the generator


def test_client_leaving_an_idle_stream_closes_the_generator(client: TestClient) -> None:
    closed.clear()
    raw = open_stream(client.port, "/idle", {})
    first = next(raw.chunks())
    assert first == b"data: first\n\n"
    raw.sock.close()  # the generator is parked in asyncio.sleep(3600)
    assert wait_for(lambda: "idle" in closed, timeout=5), (
        "generator not closed after the client left"
    )
    assert client.get("/ok").json() == {"ok": True}


def test_keep_alive_pings_while_quiet(client: TestClient) -> None:
    raw = open_stream(client.port, "/pings", {})
    body = b"".join(raw.chunks())
    raw.sock.close()
    assert body.startswith(b"data: start\n\n") and body.endswith(b"data: end\n\n")
    assert body.count(b": ping\n\n") >= 2  # 2.5 s of quiet at a 0.3 s interval (timers tick <= 1 s)


def test_bad_id_ends_the_stream_and_the_server_keeps_serving(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fasterapi.error"):
        text = client.get("/bad-id").text
    assert text == 'data: "ok"\nid: 1\n\n'  # the bad event is not sent, the stream ends
    assert "must not contain CR or LF" in caplog.text
    assert client.get("/ok").status_code == 200


def test_backpressure_slow_reader_gets_every_event_in_order(client: TestClient) -> None:
    """13 MB of events to a reader that pauses: more than the socket buffers and the engine's
    high-water mark (1 MiB), so the producer must wait for drain; nothing is lost."""
    raw = open_stream(client.port, "/big", {})
    assert wait_for(lambda: len(produced) > 0)
    time.sleep(1.0)  # the server fills the socket and its high-water mark, then waits
    assert len(produced) < 800, "the producer did not wait for the reader"
    body = b"".join(raw.chunks())
    raw.sock.close()
    datas = [e["data"] for e in parse_events(body.decode())]
    assert len(datas) == 800
    assert [int(d[1:6]) for d in datas] == list(range(800))  # JSON strings: '"00000xxx..."'


def test_serversentevent_validates_retry() -> None:
    with pytest.raises(ValueError, match="retry"):
        ServerSentEvent(data="x", retry=-1)
