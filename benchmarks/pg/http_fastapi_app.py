"""HTTP endpoint benchmark app: the same PK lookup with FastAPI + asyncpg (run under uvicorn)."""

import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
CONNS = int(os.environ.get("BENCH_PG_CONNS", "8"))
state = {}


@asynccontextmanager
async def lifespan(app):
    kw = {}
    if os.environ.get("BENCH_ASYNCPG_NORESET") == "1":  # skip the reset round trip per release

        async def no_reset(conn):
            return None

        kw["reset"] = no_reset
    state["pool"] = await asyncpg.create_pool(DSN, min_size=CONNS, max_size=CONNS, **kw)
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.get("/user/{user_id}")
async def get_user(user_id: int):
    row = await state["pool"].fetchrow(
        "SELECT id, name, email FROM bench_users WHERE id = $1", user_id
    )
    return dict(row)
