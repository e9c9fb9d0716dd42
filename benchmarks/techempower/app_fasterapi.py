"""The TechEmpower test types on FasterAPI's Python App (the seed's style: `@app.get`,
`req`/`res`, PgPool with asyncpg's names).

    python3 benchmarks/techempower/app_fasterapi.py          # PORT (8080), FASTERAPI_PG_DSN
"""

from __future__ import annotations

import os
import random
import sys
from math import floor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    DSN,
    POOL_SIZE,
    PORT,
    SELECT_ALL_WORLDS,
    SELECT_FORTUNES,
    SELECT_WORLD,
    UPDATE_WORLDS,
    WORLD_ROWS,
    fortunes_html,
    query_count,
)

from fasterapi import App, PgPool

app = App()
pool = PgPool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
SERVER = (b"server", b"FasterAPI")  # TFB requires a Server header
HTML = "text/html; charset=utf-8"
cache: list[dict[str, int]] = []  # the cached-queries test's Worlds, in id order
# random.choices over a list, and floor(random() * n) for one number, cost a third of
# random.randint per number (randint runs randrange's checks and _randbelow in Python).
IDS = list(range(1, WORLD_ROWS + 1))
choices = random.choices
_random = random.random


@app.on_event("startup")
async def fill_cache() -> None:
    rows = sorted(await pool.fetch(SELECT_ALL_WORLDS), key=lambda r: r[0])
    cache[:] = [{"id": r[0], "randomNumber": r[1]} for r in rows]


@app.get("/json")
def json(req, res):
    res.raw_headers = [SERVER]
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext(req, res):
    res.raw_headers = [SERVER]
    res.media_type = "text/plain"
    return b"Hello, World!"


@app.get("/db")
async def db(req, res):
    res.raw_headers = [SERVER]
    row = await pool.fetchrow(SELECT_WORLD, floor(_random() * WORLD_ROWS) + 1)
    return {"id": row[0], "randomNumber": row[1]}


async def _worlds(n: int) -> list[dict[str, int]]:
    # n queries (each its own Bind/Execute/Sync, as TFB requires) pipelined on the pool's
    # connections and awaited as one batch: one future each and one wake-up of this handler,
    # where asyncio.gather over pool.fetchrow would make a Task per query.
    rows = await pool.fetchrow_each(SELECT_WORLD, [(i,) for i in choices(IDS, k=n)])
    return [{"id": r[0], "randomNumber": r[1]} for r in rows]


@app.get("/queries")
async def queries(req, res):
    res.raw_headers = [SERVER]
    return await _worlds(query_count(req.query_params.get("queries")))


@app.get("/fortunes")
async def fortunes(req, res):
    res.raw_headers = [SERVER]
    res.media_type = HTML
    rows = await pool.fetch(SELECT_FORTUNES)
    return fortunes_html(rows)  # Records unpack and index as (id, message) tuples do


@app.get("/updates")
async def updates(req, res):
    res.raw_headers = [SERVER]
    worlds = await _worlds(query_count(req.query_params.get("queries")))
    # One number per id (a repeated id shows the number PostgreSQL keeps), written by one
    # statement with the ids sorted, so concurrent batches lock rows in the same order.
    numbers = dict(zip([w["id"] for w in worlds], choices(IDS, k=len(worlds)), strict=True))
    for w in worlds:
        w["randomNumber"] = numbers[w["id"]]
    ids = sorted(numbers)
    await pool.execute(UPDATE_WORLDS, ids, [numbers[i] for i in ids])
    return worlds


@app.get("/cached-queries")
def cached_queries(req, res):
    res.raw_headers = [SERVER]
    n = query_count(req.query_params.get("count"))
    return choices(cache, k=n)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=PORT, log_level="warning")
