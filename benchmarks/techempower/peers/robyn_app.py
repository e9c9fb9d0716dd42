"""Robyn with asyncpg, as TFB's robyn entry is built.

    python3 robyn_app.py --processes 1 --workers 1      # PORT (8080)
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import asyncpg
import orjson
from common import (
    DSN,
    POOL_SIZE,
    PORT,
    SELECT_ALL_WORLDS,
    SELECT_FORTUNES,
    SELECT_WORLD,
    UPDATE_WORLD,
    WORLD_ROWS,
    fortunes_html,
    query_count,
)
from robyn import Headers, Request, Response, Robyn

app = Robyn(__file__)
state: dict[str, asyncpg.Pool] = {}
cache: dict[int, dict[str, int]] = {}


def _resp(body: bytes | str, ctype: str) -> Response:
    return Response(
        status_code=200,
        headers=Headers({"content-type": ctype, "server": "robyn"}),
        description=body,
    )


@app.startup_handler
async def startup() -> None:
    p = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    for r in await p.fetch(SELECT_ALL_WORLDS):
        cache[r[0]] = {"id": r[0], "randomNumber": r[1]}
    state["pool"] = p


@app.get("/json")
async def json_(request: Request) -> Response:
    return _resp(orjson.dumps({"message": "Hello, World!"}), "application/json")


@app.get("/plaintext")
async def plaintext(request: Request) -> Response:
    return _resp(b"Hello, World!", "text/plain")


@app.get("/db")
async def db(request: Request) -> Response:
    async with state["pool"].acquire() as conn:
        r = await conn.fetchrow(SELECT_WORLD, random.randint(1, WORLD_ROWS))
    return _resp(orjson.dumps({"id": r[0], "randomNumber": r[1]}), "application/json")


async def _worlds(n: int) -> list[dict[str, int]]:
    async with state["pool"].acquire() as conn:
        st = await conn.prepare(SELECT_WORLD)
        out = []
        for _ in range(n):
            r = await st.fetchrow(random.randint(1, WORLD_ROWS))
            out.append({"id": r[0], "randomNumber": r[1]})
    return out


def _count(request: Request, name: str) -> int:
    return query_count(request.query_params.get(name, None))


@app.get("/queries")
async def queries(request: Request) -> Response:
    return _resp(orjson.dumps(await _worlds(_count(request, "queries"))), "application/json")


@app.get("/fortunes")
async def fortunes(request: Request) -> Response:
    async with state["pool"].acquire() as conn:
        rows = await conn.fetch(SELECT_FORTUNES)
    return _resp(fortunes_html([(r[0], r[1]) for r in rows]), "text/html; charset=utf-8")


@app.get("/updates")
async def updates(request: Request) -> Response:
    worlds = await _worlds(_count(request, "queries"))
    for w in worlds:
        w["randomNumber"] = random.randint(1, WORLD_ROWS)
    ordered = sorted(worlds, key=lambda w: w["id"])
    async with state["pool"].acquire() as conn:
        await conn.executemany(UPDATE_WORLD, [(w["randomNumber"], w["id"]) for w in ordered])
    return _resp(orjson.dumps(worlds), "application/json")


@app.get("/cached-queries")
async def cached_queries(request: Request) -> Response:
    n = _count(request, "count")
    body = orjson.dumps([cache[random.randint(1, WORLD_ROWS)] for _ in range(n)])
    return _resp(body, "application/json")


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=PORT)
