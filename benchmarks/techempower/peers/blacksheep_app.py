"""BlackSheep on uvicorn with asyncpg, as TFB's blacksheep entry is built.

    uvicorn blacksheep_app:app --port 8080 --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import asyncpg
import orjson
from blacksheep import Application, Content, Request, Response
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

app = Application()
state: dict[str, asyncpg.Pool] = {}
cache: dict[int, dict[str, int]] = {}
SERVER = (b"server", b"blacksheep")  # a fresh header list per response: blacksheep appends


async def startup(application: Application) -> None:
    p = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    for r in await p.fetch(SELECT_ALL_WORLDS):
        cache[r[0]] = {"id": r[0], "randomNumber": r[1]}
    state["pool"] = p


app.on_start += startup


def _json(value: object) -> Response:
    return Response(200, [SERVER], Content(b"application/json", orjson.dumps(value)))


@app.router.get("/json")
async def json_(request: Request) -> Response:
    return _json({"message": "Hello, World!"})


@app.router.get("/plaintext")
async def plaintext(request: Request) -> Response:
    return Response(200, [SERVER], Content(b"text/plain", b"Hello, World!"))


@app.router.get("/db")
async def db(request: Request) -> Response:
    async with state["pool"].acquire() as conn:
        r = await conn.fetchrow(SELECT_WORLD, random.randint(1, WORLD_ROWS))
    return _json({"id": r[0], "randomNumber": r[1]})


def _count(request: Request, name: str) -> int:
    values = request.query.get(name)
    return query_count(values[0] if values else None)


async def _worlds(n: int) -> list[dict[str, int]]:
    async with state["pool"].acquire() as conn:
        st = await conn.prepare(SELECT_WORLD)
        out = []
        for _ in range(n):
            r = await st.fetchrow(random.randint(1, WORLD_ROWS))
            out.append({"id": r[0], "randomNumber": r[1]})
    return out


@app.router.get("/queries")
async def queries(request: Request) -> Response:
    return _json(await _worlds(_count(request, "queries")))


@app.router.get("/fortunes")
async def fortunes(request: Request) -> Response:
    async with state["pool"].acquire() as conn:
        rows = await conn.fetch(SELECT_FORTUNES)
    page = fortunes_html([(r[0], r[1]) for r in rows]).encode()
    return Response(200, [SERVER], Content(b"text/html; charset=utf-8", page))


@app.router.get("/updates")
async def updates(request: Request) -> Response:
    worlds = await _worlds(_count(request, "queries"))
    for w in worlds:
        w["randomNumber"] = random.randint(1, WORLD_ROWS)
    ordered = sorted(worlds, key=lambda w: w["id"])
    async with state["pool"].acquire() as conn:
        await conn.executemany(UPDATE_WORLD, [(w["randomNumber"], w["id"]) for w in ordered])
    return _json(worlds)


@app.router.get("/cached-queries")
async def cached_queries(request: Request) -> Response:
    n = _count(request, "count")
    return _json([cache[random.randint(1, WORLD_ROWS)] for _ in range(n)])
