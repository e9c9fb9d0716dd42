"""The ASGI lifespan protocol (ASGI "Lifespan Protocol" spec 2.0) driven from the App's
lifespan: startup before the first request, shutdown after the last."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("fasterapi")


class LifespanFailed(RuntimeError):
    """The app answered lifespan.startup.failed / shutdown.failed, or raised."""


@contextlib.asynccontextmanager
async def lifespan(app: Any, state: dict[str, Any]) -> AsyncIterator[None]:
    """Run the app's lifespan task around the body; `state` is the scope's "state" dict the
    app fills on startup (copied into every request scope). An app that raises before
    answering startup does not support lifespan (spec: the server continues without it)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "state": state,
    }

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    task = asyncio.get_running_loop().create_task(app(scope, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    answer = await _answer(task, outbox)
    if answer is None:  # lifespan unsupported: serve without it
        yield
        return
    if answer["type"] == "lifespan.startup.failed":
        raise LifespanFailed(f"ASGI lifespan startup failed: {answer.get('message', '')}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        answer = await _answer(task, outbox)
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            log.error("ASGI lifespan shutdown failed: %s", answer.get("message", ""))
        if not task.done():
            task.cancel()


async def _answer(task: asyncio.Task[Any], outbox: asyncio.Queue[dict[str, Any]]) -> Any:
    """The app's next lifespan message, or None when its task ended without one."""
    getter = asyncio.ensure_future(outbox.get())
    await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    if not task.cancelled() and task.exception() is not None:
        log.info("ASGI lifespan unsupported or failed: %r", task.exception())
    return None
