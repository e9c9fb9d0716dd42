"""FastAPI on uvicorn with asyncpg, as TFB's FastAPI entry is built (ORJSON-free default
JSONResponse, one asyncpg pool, Jinja-free fortunes rendered by the shared helper).

    uvicorn fastapi_app:app --port 8080 --loop uvloop --http httptools
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from contextlib import asynccontextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import asyncpg
from common import (
    DSN,
    POOL_SIZE,
    SELECT_ALL_WORLDS,
    SELECT_FORTUNES,
    SELECT_WORLD,
    UPDATE_WORLD,
    WORLD_ROWS,
    fortunes_html,
    query_count,
)
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse

pool: asyncpg.Pool | None = None
cache: dict[int, dict[str, int]] = {}


@asynccontextmanager
async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    for r in await pool.fetch(SELECT_ALL_WORLDS):
        cache[r[0]] = {"id": r[0], "randomNumber": r[1]}
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)
HEADERS = {"server": "uvicorn"}  # uvicorn adds its own; kept explicit for the validator


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(b"Hello, World!")


@app.get("/db")
async def db() -> dict[str, int]:
    assert pool is not None
    async with pool.acquire() as conn:
        r = await conn.fetchrow(SELECT_WORLD, random.randint(1, WORLD_ROWS))
    return {"id": r[0], "randomNumber": r[1]}


async def _worlds(n: int) -> list[dict[str, int]]:
    assert pool is not None
    async with pool.acquire() as conn:
        st = await conn.prepare(SELECT_WORLD)
        out = []
        for _ in range(n):
            r = await st.fetchrow(random.randint(1, WORLD_ROWS))
            out.append({"id": r[0], "randomNumber": r[1]})
    return out


@app.get("/queries")
async def queries(queries: str | None = None) -> list[dict[str, int]]:
    return await _worlds(query_count(queries))


@app.get("/fortunes")
async def fortunes() -> HTMLResponse:
    assert pool is not None
    async with pool.acquire() as conn:
        rows = await conn.fetch(SELECT_FORTUNES)
    return HTMLResponse(fortunes_html([(r[0], r[1]) for r in rows]))


@app.get("/updates")
async def updates(queries: str | None = None) -> list[dict[str, int]]:
    worlds = await _worlds(query_count(queries))
    for w in worlds:
        w["randomNumber"] = random.randint(1, WORLD_ROWS)
    assert pool is not None
    ordered = sorted(worlds, key=lambda w: w["id"])
    async with pool.acquire() as conn:
        await conn.executemany(UPDATE_WORLD, [(w["randomNumber"], w["id"]) for w in ordered])
    return worlds


@app.get("/cached-queries")
async def cached_queries(count: str | None = None) -> list[dict[str, int]]:
    return [cache[random.randint(1, WORLD_ROWS)] for _ in range(query_count(count))]


_ = asyncio  # the event loop is uvicorn's (uvloop)
