"""A real browser as the client: headless Chromium (Debian's `chromium`) loads a page from the
App whose script opens `new EventSource(...)`, receives default and named events (JSON data,
multi-line data), is told to reconnect (`retry:`) when the server ends the first stream, comes
back with `Last-Event-ID` and gets the rest, then POSTs what it saw. The stream is compressed
(App(compression=True)): the browser decodes it as it goes. scripts/test.sh sets
FASTERAPI_REQUIRE_BROWSER=1: there a missing chromium fails instead of skipping."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterable
from typing import Any

from browser import find_chromium, open_page
from conftest import transport_specific
from raw_stream import open_stream

from fasterapi import App, Request
from fasterapi.responses import HTMLResponse
from fasterapi.sse import EventSourceResponse, ServerSentEvent, last_event_id
from fasterapi.testing import TestClient

pytestmark = transport_specific(
    "headless Chromium: HTTP/1.1 to http:// URLs (no h2c); does not trust the suite CA",
)

TIMEOUT = 60.0  # seconds for the browser to start, stream, reconnect and report

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>sse</title>
<script>
const got = [];
const source = new EventSource("/events");
source.onmessage = (e) => got.push({type: "message", data: e.data, id: e.lastEventId});
source.addEventListener("tick", (e) => got.push({type: "tick", data: e.data, id: e.lastEventId}));
source.addEventListener("done", (e) => {
  source.close();
  fetch("/report", {method: "POST", body: JSON.stringify({got, last: e.data})});
});
</script>
"""


def test_chromium_event_source() -> None:
    find_chromium()  # before the app: a missing browser fails in CI, skips elsewhere

    app = App(compression=True, compress_min_size=0)
    reported: dict[str, Any] = {}
    requests: list[dict[str, str | None]] = []
    done = threading.Event()

    @app.get("/")
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/events", response_class=EventSourceResponse)
    async def events(request: Request) -> AsyncIterable[Any]:
        last = last_event_id(request)
        requests.append({"last": last, "accept": request.headers.get("accept-encoding")})
        if last is None:  # first connection: two events, then ask for a quick reconnect
            yield ServerSentEvent(retry=200)
            yield ServerSentEvent(data={"n": 1}, id="1")
            yield ServerSentEvent(raw_data="two\nlines", event="tick", id="2")
            return
        yield ServerSentEvent(data={"n": 3}, id="3")
        yield ServerSentEvent(data=f"resumed after {last}", event="done", id="4")

    @app.post("/report")
    def report(req: Request) -> dict[str, bool]:
        reported.update(json.loads(req.body))
        done.set()
        return {"ok": True}

    with TestClient(app) as client:
        open_page(f"http://127.0.0.1:{client.port}/", done, TIMEOUT)
        # What the browser's Accept-Encoding gets: a compressed stream (so it decoded one).
        raw = open_stream(client.port, "/events", {"Accept-Encoding": requests[0]["accept"] or ""})
        coding = raw.headers.get("content-encoding")
        raw.sock.close()

    assert reported == {
        "got": [
            {"type": "message", "data": '{"n":1}', "id": "1"},
            {"type": "tick", "data": "two\nlines", "id": "2"},
            {"type": "message", "data": '{"n":3}', "id": "3"},
        ],
        "last": '"resumed after 2"',
    }
    assert [r["last"] for r in requests] == [None, "2", None]
    assert coding in ("zstd", "br", "gzip")
