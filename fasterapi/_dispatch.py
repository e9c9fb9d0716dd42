"""The engine's hooks: run async handlers eagerly (spawn), render any return value (render),
and turn exceptions into responses (handle_error). Called by the engine per request."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import BaseModel

from fasterapi import _eager
from fasterapi import background as _background
from fasterapi._file_send import send_file
from fasterapi._jsonio import JSONBody, json_dumps
from fasterapi.encoders import jsonable
from fasterapi.exceptions import HTTPException, RequestValidationError
from fasterapi.responses import FileResponse, Response, StreamingResponse
from fasterapi.sse import EventSourceResponse, stream_events

error_log = logging.getLogger("fasterapi.error")

ErrorHandler = Callable[[BaseException, Any, Any, Any], None]

PENDING = object()  # spawn's "the Task will answer later" sentinel

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_OCTET = (b"content-type", b"application/octet-stream")
_ERROR_500 = b"Internal Server Error"  # text/plain, as Starlette's ServerErrorMiddleware

_tasks: set[asyncio.Task[Any]] = set()  # strong refs: asyncio only keeps weak ones


def make_spawn(
    on_error: ErrorHandler,
    loop: asyncio.AbstractEventLoop | None = None,
    tasks: set[asyncio.Task[Any]] | None = None,
) -> Callable[[Any, Any, Any, Any], Any]:
    """The engine's spawn hook for `loop` (default: the running loop at each call); a
    handler that fails after suspending goes to `on_error`; the Tasks of suspended
    handlers are kept in `tasks` (one set per server, so its drain waits for its own)."""
    live = _tasks if tasks is None else tasks

    def finish(result: Any, exc: BaseException | None, req: Any, res: Any, responder: Any) -> None:
        # exc: what the handler raised after suspending (CancelledError if its Task was
        # cancelled); else `result` is its return value.
        try:
            if exc is None:
                try:  # a plain value answered in C++, as the engine answers one returned at once
                    answered = responder.send_result(result, res)
                except TypeError:  # refused by the fast encoder: render() retries it the way
                    answered = False  # FastAPI's jsonable_encoder would
                if not answered:
                    render(result, req, res, responder)
            elif isinstance(exc, asyncio.CancelledError):
                if not responder.closed:
                    on_error(asyncio.CancelledError(), req, res, responder)
            else:
                on_error(exc, req, res, responder)
        except Exception as err:  # e.g. a value json cannot encode: answer 500 if still possible
            try:
                on_error(err, req, res, responder)
            except Exception:  # the response had already started
                error_log.exception("response failed", exc_info=err)
                responder.abort()

    return _eager.make_finishing_spawn(loop, live, finish, PENDING)


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
    if kind is JSONBody:  # a response model's pydantic dump_json (fasterapi/_endpoint.py)
        body: bytes = result
        default = _JSON
    elif kind is str:
        body = result.encode()
        default = _TEXT
    elif kind is bytes or kind is bytearray or kind is memoryview:
        body, default = bytes(result), _OCTET
    elif isinstance(result, dict | list | tuple | BaseModel) or (
        dataclasses.is_dataclass(result) and not isinstance(result, type)
    ):
        try:
            body = json_dumps(result)
        except TypeError:  # what FastAPI's jsonable_encoder takes: timedelta, int keys, ...
            body = json_dumps(jsonable(result))
        default = _JSON
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
    if isinstance(resp, EventSourceResponse):
        _start_stream(stream_events(resp, headers, req, responder))
    elif isinstance(resp, StreamingResponse):
        responder.start(resp.status_code, headers)
        _start_stream(_stream(resp.body_iterator, responder))
    elif isinstance(resp, FileResponse):
        send_file(resp, req, headers, responder)  # sendfile(2), ranges: fasterapi/_file_send.py
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
    _end_or_abort(responder)


def _end_or_abort(responder: Any) -> None:
    """Finish a streamed response; if the client went away (or half-closed) meanwhile, close
    the connection instead: an exchange left open would hold its socket forever."""
    if responder.closed:
        responder.abort()
    else:
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
    responder.send(500, [_TEXT], _ERROR_500)


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
    handlers: dict[type[BaseException] | int, Callable[..., Any]], debug: bool = False
) -> ErrorHandler:
    """handle_error, first trying the app's `@app.exception_handler` functions: for an
    HTTPException the one registered for its status code, then by the exception's MRO (as
    Starlette's ExceptionMiddleware does)."""
    fallback = debug_handle_error if debug else handle_error
    if not handlers:
        return fallback

    def handle(exc: BaseException, req: Any, res: Any, responder: Any) -> None:
        fn = handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        if fn is None:
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
