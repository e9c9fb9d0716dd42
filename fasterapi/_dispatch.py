"""The engine's hooks: run async handlers eagerly (spawn), render any return value (render),
and turn exceptions into responses (handle_error). Called by the engine per request."""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
import dataclasses
import inspect
import logging
import os
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import BaseModel

from fasterapi import background as _background
from fasterapi._jsonio import json_dumps
from fasterapi.exceptions import HTTPException, RequestValidationError
from fasterapi.responses import FileResponse, Response, StreamingResponse

error_log = logging.getLogger("fasterapi.error")
# asyncio's bookkeeping of the current task (C functions; typed for real Tasks only).
_enter_task: Any = asyncio.tasks._enter_task  # type: ignore[attr-defined]
_leave_task: Any = asyncio.tasks._leave_task  # type: ignore[attr-defined]
_copy_context = contextvars.copy_context

ErrorHandler = Callable[[BaseException, Any, Any, Any], None]

PENDING = object()  # spawn's "the Task will answer later" sentinel

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_OCTET = (b"content-type", b"application/octet-stream")
_ERROR_500 = b'{"detail":"Internal Server Error"}'

_tasks: set[asyncio.Task[Any]] = set()  # strong refs: asyncio only keeps weak ones


class _StandInTask:
    """asyncio.current_task() for a handler, from its eager first step to its end.

    Python 3.11 has no eager tasks, and asyncio.timeout(), TaskGroup and anyio (httpx) need a
    current task that stays the same object for the handler's whole life. So the handler
    always sees this object: during the eager step there is no Task yet; once it suspends, a
    real Task drives it (see _Resume) and cancel()/uncancel()/cancelling() and any other
    attribute are forwarded to that Task."""

    # Class-level defaults: creating one per request is a bare allocation plus `_coro`.
    task: asyncio.Task[Any] | None = None
    _cancels = 0
    _coro: Any = None

    def cancel(self, msg: Any = None) -> bool:
        if self.task is not None:
            return self.task.cancel(msg)
        self._cancels += 1
        return True

    def uncancel(self) -> int:
        if self.task is not None:
            return self.task.uncancel()
        self._cancels = max(0, self._cancels - 1)
        return self._cancels

    def cancelling(self) -> int:
        return self.task.cancelling() if self.task is not None else self._cancels

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.task.get_loop() if self.task is not None else asyncio.get_running_loop()

    def get_coro(self) -> Any:
        return self._coro

    def done(self) -> bool:
        return self.task.done() if self.task is not None else False

    def __getattr__(self, name: str) -> Any:
        task = self.task
        if task is not None:
            return getattr(task, name)
        if name == "_must_cancel":
            return self._cancels > 0
        if name == "_fut_waiter":
            return None
        if name == "_callbacks":
            return []
        if name == "get_name":
            return lambda: "fasterapi-eager"
        raise AttributeError(name)


_NOTHING = object()


class _Resume:
    """The coroutine a Task drives for a handler that suspended during its eager step: first
    yields the future the handler is waiting on, then forwards send/throw to the handler,
    with the stand-in as the current task so the handler sees one task throughout."""

    __slots__ = ("coro", "first", "loop", "stand_in")

    def __init__(self, coro: Any, first: Any, loop: Any, stand_in: _StandInTask) -> None:
        self.coro, self.first, self.loop, self.stand_in = coro, first, loop, stand_in

    def send(self, value: Any) -> Any:
        first = self.first
        if first is not _NOTHING:
            self.first = _NOTHING
            return first
        return self._step(self.coro.send, value)

    def throw(self, *exc: Any) -> Any:
        self.first = _NOTHING
        return self._step(self.coro.throw, *exc)

    def _step(self, fn: Any, *arg: Any) -> Any:
        loop, stand_in = self.loop, self.stand_in
        task = stand_in.task
        _leave_task(loop, task)
        _enter_task(loop, stand_in)
        try:
            return fn(*arg)
        finally:
            _leave_task(loop, stand_in)
            _enter_task(loop, task)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> _Resume:
        return self

    def __iter__(self) -> _Resume:
        return self

    def __next__(self) -> Any:
        return self.send(None)


collections.abc.Coroutine.register(_Resume)


def make_spawn(
    on_error: ErrorHandler,
    loop: asyncio.AbstractEventLoop | None = None,
    tasks: set[asyncio.Task[Any]] | None = None,
) -> Callable[[Any, Any, Any, Any], Any]:
    """The engine's spawn hook for `loop` (default: the running loop at each call); a
    handler that fails after suspending goes to `on_error`; the Tasks of suspended
    handlers are kept in `tasks` (one set per server, so its drain waits for its own)."""
    live = _tasks if tasks is None else tasks

    def spawn(coro: Coroutine[Any, Any, Any], req: Any, res: Any, responder: Any) -> Any:
        """Run `coro` to its first suspension. Returns its result if it finished (no Task
        made), else PENDING after handing it to a Task that answers through `responder`."""
        lp = loop or asyncio.get_running_loop()
        ctx = _copy_context()
        stand_in = _StandInTask()
        stand_in._coro = coro
        _enter_task(lp, stand_in)
        try:
            fut = ctx.run(coro.send, None)
        except StopIteration as stop:
            return stop.value
        finally:
            _leave_task(lp, stand_in)
        task: asyncio.Task[Any] = lp.create_task(
            _Resume(coro, fut, lp, stand_in),  # type: ignore[arg-type]
            context=ctx,
        )
        stand_in.task = task
        if stand_in._cancels:
            task.cancel()
        live.add(task)
        task.add_done_callback(live.discard)
        task.add_done_callback(lambda t: _finish(t, req, res, responder, on_error))
        return PENDING

    return spawn


def _finish(
    task: asyncio.Task[Any], req: Any, res: Any, responder: Any, on_error: ErrorHandler
) -> None:
    if task.cancelled():
        if not responder.closed:
            on_error(asyncio.CancelledError(), req, res, responder)
        return
    exc = task.exception()
    try:
        if exc is not None:
            on_error(exc, req, res, responder)
        else:
            render(task.result(), req, res, responder)
    except Exception as err:  # e.g. a value json cannot encode: answer 500 if still possible
        try:
            on_error(err, req, res, responder)
        except Exception:  # the response had already started
            error_log.exception("response failed", exc_info=err)
            responder.abort()


def _headers(res: Any, extra: tuple[bytes, bytes] | None) -> list[Any]:
    raw = res.raw_headers
    if extra is None:
        return list(raw) if raw else []
    return [extra, *raw] if raw else [extra]


def render(result: Any, req: Any, res: Any, responder: Any) -> None:
    """Send any handler return value through `responder`; unsupported types → 500."""
    if res.background is not None:  # a BackgroundTasks parameter, or set on `res` directly
        tasks = res.background
        req.add_done_callback(lambda: _background.schedule(tasks))
    if isinstance(result, Response) and result is not res:
        send_response(result, req, res, responder)
        return
    ct = res.content_type() if res.media_type is not None else None
    if result is None or result is res:
        responder.send(res.status_code, _headers(res, None), b"")
        return
    kind = type(result)
    if kind is str:
        body: bytes = result.encode()
        default = _TEXT
    elif kind is bytes or kind is bytearray or kind is memoryview:
        body, default = bytes(result), _OCTET
    elif isinstance(result, dict | list | tuple | BaseModel) or (
        dataclasses.is_dataclass(result) and not isinstance(result, type)
    ):
        body, default = json_dumps(result), _JSON
    elif isinstance(result, str | int | float | bool):
        body, default = json_dumps(result), _JSON
    else:
        name = f"{kind.__module__}.{kind.__qualname__}"
        error_log.error("%s %s: unsupported return type %s", req.method, req.path, name)
        msg = f"Internal Server Error: handler returned unsupported type {name}"
        responder.send(500, [_JSON], json_dumps({"detail": msg}))
        return
    header = (b"content-type", ct) if ct is not None else default
    responder.send(res.status_code, _headers(res, header), body)


def send_response(resp: Response, req: Any, res: Any, responder: Any) -> None:
    """Send a Response object (merging cookies/headers set on the per-request `res`)."""
    headers: list[Any] = list(resp.raw_headers) if resp.raw_headers else []
    if res.raw_headers:
        headers.extend(res.raw_headers)
    res.status_code = resp.status_code  # what the access log reports
    ct = resp.content_type()
    if ct is not None and not any(k == b"content-type" for k, _ in headers):
        headers.insert(0, (b"content-type", ct))
    if resp.background is not None:
        task = resp.background
        req.add_done_callback(lambda: _background.schedule(task))
    if isinstance(resp, StreamingResponse):
        responder.start(resp.status_code, headers)
        _start_stream(_stream(resp.body_iterator, responder))
    elif isinstance(resp, FileResponse):
        f = open(resp.path, "rb")  # closed by _stream_file
        size = os.fstat(f.fileno()).st_size
        headers.append((b"content-length", str(size).encode()))
        responder.start(resp.status_code, headers)
        _start_stream(_stream_file(f, size, resp.chunk_size, responder))
    else:
        responder.send(resp.status_code, headers, resp.body)


def _start_stream(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _drained(responder: Any) -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not fut.done():
            fut.set_result(None)

    responder.on_drain(wake)
    return fut


async def _stream(iterator: Any, responder: Any) -> None:
    try:
        if hasattr(iterator, "__aiter__"):
            async for chunk in iterator:
                if responder.closed:
                    break
                if not responder.write(chunk.encode() if isinstance(chunk, str) else chunk):
                    await _drained(responder)
        else:
            for chunk in iterator:
                if responder.closed:
                    break
                if not responder.write(chunk.encode() if isinstance(chunk, str) else chunk):
                    await _drained(responder)
    except Exception:
        error_log.exception("streaming response failed")
        responder.abort()
        return
    finally:
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()
        elif hasattr(iterator, "close"):
            iterator.close()
    if not responder.closed:
        responder.end()


async def _stream_file(f: Any, size: int, chunk_size: int, responder: Any) -> None:
    """Send exactly `size` bytes (the Content-Length already sent); a file that shrank while
    being sent aborts the connection rather than break the framing."""
    with f:
        left = size
        while left > 0:
            chunk = f.read(min(chunk_size, left))
            if not chunk:
                error_log.error("%s shrank while being sent; closing the connection", f.name)
                responder.abort()
                return
            left -= len(chunk)
            if responder.closed:
                return
            if not responder.write(chunk):
                await _drained(responder)
    responder.end()


def handle_error(exc: BaseException, req: Any, res: Any, responder: Any) -> None:
    """HTTPException → its status and detail; validation error → 422; anything else → 500
    with the traceback on logger "fasterapi.error"."""
    if isinstance(exc, HTTPException):
        res.status_code = exc.status_code
        headers: list[Any] = [_JSON]
        if exc.headers:
            headers.extend(
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()
            )
        responder.send(exc.status_code, headers, json_dumps({"detail": exc.detail}))
        return
    if isinstance(exc, RequestValidationError):
        res.status_code = 422
        responder.send(422, [_JSON], json_dumps({"detail": exc.errors()}))
        return
    error_log.error(
        "Exception in %s %s",
        getattr(req, "method", "?"),
        getattr(req, "path", "?"),
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    res.status_code = 500
    responder.send(500, [_JSON], _ERROR_500)


def debug_handle_error(exc: BaseException, req: Any, res: Any, responder: Any) -> None:
    """handle_error for App(debug=True): a 500 shows the traceback as plain text."""
    if isinstance(exc, HTTPException | RequestValidationError):
        handle_error(exc, req, res, responder)
        return
    error_log.error("Exception in %s %s", req.method, req.path, exc_info=exc)
    text = "".join(traceback.format_exception(exc))
    res.status_code = 500
    responder.send(500, [_TEXT], text.encode())


def make_error_handler(
    handlers: dict[type[BaseException], Callable[..., Any]], debug: bool = False
) -> ErrorHandler:
    """handle_error, first trying the app's `@app.exception_handler` functions (by MRO)."""
    fallback = debug_handle_error if debug else handle_error
    if not handlers:
        return fallback

    def handle(exc: BaseException, req: Any, res: Any, responder: Any) -> None:
        fn = next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
        if fn is None:
            fallback(exc, req, res, responder)
            return
        try:
            result = fn(req, exc)
        except Exception as err:
            fallback(err, req, res, responder)
            return
        if inspect.isawaitable(result):
            _start_stream(_await_handler(result, req, res, responder))
        else:
            render(result, req, res, responder)

    return handle


async def _await_handler(result: Any, req: Any, res: Any, responder: Any) -> None:
    try:
        response = await result
    except Exception as err:
        handle_error(err, req, res, responder)
        return
    render(response, req, res, responder)


spawn = make_spawn(handle_error)  # the hook for apps without custom exception handlers
