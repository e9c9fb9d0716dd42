"""FastAPI peer for the e2e benchmark: the same routes as apps/fasterapi_app.py.

`GET /` is a plain `def` (FastAPI runs it in its thread pool), or, with
FA_BENCH_FASTAPI_ROOT=async in the environment, an `async def` returning the same body
(FastAPI's fastest form of that route; the row fastapi-async-root).
Served by uvicorn (`uvicorn fastapi_app:app --app-dir benchmarks/e2e/apps`) or granian, or
directly with `python3 fastapi_app.py --port N` (uvicorn, uvloop + httptools).
"""

from __future__ import annotations

import argparse
import os

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Event(BaseModel):
    userId: str  # the 1MRC wire format
    value: float


class Totals:
    """Running totals for the 1 Million Request Challenge (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.users: set[str] = set()


totals = Totals()


if os.environ.get("FA_BENCH_FASTAPI_ROOT") == "async":

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"message": "Hello, World!"}

else:

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"message": "Hello, World!"}


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> dict[str, object]:
    return {"id": user_id, "name": "John Doe"}


@app.post("/event")
async def event(body: Event) -> dict[str, str]:
    totals.count += 1
    totals.total += body.value
    totals.users.add(body.userId)
    return {"status": "ok"}


@app.get("/stats")
async def stats() -> dict[str, object]:
    avg = totals.total / totals.count if totals.count else 0.0
    return {
        "totalRequests": totals.count,
        "uniqueUsers": len(totals.users),
        "sum": totals.total,
        "avg": avg,
    }


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(
        app, host=args.host, port=args.port, loop="uvloop", http="httptools",
        access_log=False, log_level="warning",
    )


if __name__ == "__main__":
    main()
