"""The app the SSE benchmark serves: one worker, FastAPI's generator form. Each client gets
`n` events of ~20 bytes (`data: {"n":<i>}`) as fast as the stream takes them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterable

from fasterapi import App
from fasterapi.sse import EventSourceResponse

app = App(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
BATCH = 64  # events between yields to the loop, so 100 streams share it fairly


@app.get("/events", response_class=EventSourceResponse)
async def events(n: int = 10_000) -> AsyncIterable[dict[str, int]]:
    for i in range(n):
        yield {"n": i}
        if i % BATCH == BATCH - 1:
            await asyncio.sleep(0)


if __name__ == "__main__":
    app.run()
