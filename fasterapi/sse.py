"""Server-Sent Events (WHATWG HTML §9.2): `EventSourceResponse` and `ServerSentEvent`.

Two ways to stream, as FastAPI and sse-starlette users write them:

- FastAPI: `@app.get("/items", response_class=EventSourceResponse)` on a generator endpoint
  (sync or async); every yielded item becomes one event whose data is the item as JSON
  (pydantic models, dicts, lists, str ...), or a `ServerSentEvent` for event/id/retry/comment.
- sse-starlette: `return EventSourceResponse(generator, ping=15)`; a yielded str is the data as
  is, a dict holds the event's fields (`{"data": ..., "event": ..., "id": ...}`).

Events are framed in C++ (src/sse/), JSON is encoded by the engine's encoder, keep-alive
comments come from the engine's timers, and the generator is closed when the client leaves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any

from fasterapi import _native
from fasterapi.background import BackgroundTask
from fasterapi.responses import StreamingResponse

error_log = logging.getLogger("fasterapi.error")

DEFAULT_PING = 15.0  # seconds of quiet before a keep-alive comment (sse-starlette's default)


class ServerSentEvent:
    """One event. `data` is JSON-encoded in the FastAPI form (use `raw_data` for text sent as
    is); in the sse-starlette form a str `data` is sent as is. `id`/`event` must not contain
    CR or LF (ValueError when sent); `retry` is in milliseconds; `comment` lines are ignored by
    clients."""

    __slots__ = ("comment", "data", "event", "id", "raw_data", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        raw_data: str | bytes | None = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if retry is not None and (not isinstance(retry, int) or retry < 0):
            raise ValueError(
                f"ServerSentEvent: retry must be a non-negative int (ms), got {retry!r}"
            )
        self.data, self.raw_data = data, raw_data
        self.event, self.id, self.retry, self.comment = event, id, retry, comment

    def __repr__(self) -> str:
        fields = ("data", "raw_data", "event", "id", "retry", "comment")
        shown = ", ".join(
            f"{f}={getattr(self, f)!r}" for f in fields if getattr(self, f) is not None
        )
        return f"ServerSentEvent({shown})"


class EventSourceResponse(StreamingResponse):
    """A `text/event-stream` response from a sync or async iterable of events.

    `ping`: seconds of quiet after which a `: ping` comment is sent (0 or None: never).
    `json_data`: encode plain items and `ServerSentEvent.data` as JSON (FastAPI's form; set
    when the class is a route's `response_class`) instead of sending str data as is."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: Iterable[Any] | AsyncIterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        *,
        ping: float | None = DEFAULT_PING,
        json_data: bool = False,
    ) -> None:
        super().__init__(content, status_code, headers, None, background)
        self.ping_interval = float(ping or 0)
        self.json_data = json_data

    @classmethod
    def from_endpoint(cls, content: Any, status_code: int = 200) -> EventSourceResponse:
        """The response for a generator endpoint with `response_class=EventSourceResponse`."""
        return cls(content, status_code, json_data=True)


def last_event_id(request: Any) -> str | None:
    """The `Last-Event-ID` a reconnecting EventSource sends (§9.2.4), or None."""
    value: str | None = request.headers.get("last-event-id")
    return value


def _send(stream: Any, item: Any, json_data: bool) -> bool:
    """Frame and write one item; returns the stream's send() result."""
    if isinstance(item, ServerSentEvent):
        if item.raw_data is not None:
            data, as_json = item.raw_data, False
        elif item.data is None:
            data, as_json = None, False
        else:
            data = item.data
            as_json = json_data or not isinstance(data, str | bytes)
        result: bool = stream.send(
            data, event=item.event, id=item.id, retry=item.retry, comment=item.comment, json=as_json
        )
        return result
    if json_data:
        return bool(stream.send(item, json=True))
    if isinstance(item, str | bytes):
        return bool(stream.send(item))
    if isinstance(item, Mapping):  # sse-starlette: the event's fields
        return _send(stream, ServerSentEvent(**item), json_data)
    return bool(stream.send(item, json=True))


def _drained(stream: Any) -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not fut.done():
            fut.set_result(None)

    stream.on_drain(wake)
    return fut


async def stream_events(
    resp: EventSourceResponse, headers: list[Any], req: Any, responder: Any
) -> None:
    """Run one event stream: start it, send each item (waiting for drain under backpressure),
    stop the generator when the client leaves (its `finally` runs), end the response."""
    iterator: Any = resp.body_iterator
    stream = _native.start_event_stream(responder, resp.status_code, headers, resp.ping_interval)
    task = asyncio.current_task()
    done = False

    def client_left() -> None:  # the exchange ended: cancel a generator still waiting
        if not done and task is not None:
            task.cancel()

    try:
        if stream is None:
            return
        req.add_done_callback(client_left)
        json_data = resp.json_data
        if hasattr(iterator, "__aiter__"):
            async for item in iterator:
                if not _send(stream, item, json_data):
                    if not stream.alive:
                        break
                    await _drained(stream)
        else:
            for item in iterator:
                if not _send(stream, item, json_data):
                    if not stream.alive:
                        break
                    await _drained(stream)
    except asyncio.CancelledError:
        if stream is not None and stream.alive:
            raise  # cancelled for another reason (server shutdown): propagate
    except Exception:
        error_log.exception("event stream failed")
    finally:
        done = True
        closer = getattr(iterator, "aclose", None)
        try:
            if closer is not None:
                await closer()
            elif hasattr(iterator, "close"):
                iterator.close()
        finally:
            if stream is not None:
                stream.close()


__all__ = ["EventSourceResponse", "ServerSentEvent", "last_event_id"]
