"""The TechEmpower test types on FasterAPI's Python App (the seed's style: `@app.get`,
`req`/`res`, PgPool with asyncpg's names).

    python3 benchmarks/techempower/app_fasterapi.py          # PORT (8080), FASTERAPI_PG_DSN
"""

from __future__ import annotations

import gc
import os
import random
import sys
from math import floor
from operator import itemgetter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (
    ADDED_FORTUNE,
    DSN,
    POOL_SIZE,
    PORT,
    SELECT_ALL_WORLDS,
    SELECT_FORTUNES,
    SELECT_WORLD,
    UPDATE_WORLDS,
    WORLD_ROWS,
    query_count,
)

from fasterapi import App, PgPool
from fasterapi.html import render_rows

app = App()
pool = PgPool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
SERVER = (b"server", b"FasterAPI")  # TFB requires a Server header
HTML = "text/html; charset=utf-8"
cache: list[dict[str, int]] = []  # the cached-queries test's Worlds, in id order
# random.choices over a list, and floor(random() * n) for one number, cost a third of
# random.randint per number (randint runs randrange's checks and _randbelow in Python).
IDS = list(range(1, WORLD_ROWS + 1))
ID_ARGS = [(i,) for i in IDS]  # the argument tuple of each id, built once
choices = random.choices
_random = random.random
_first = itemgetter(0)


@app.on_event("startup")
async def fill_cache() -> None:
    rows = sorted(await pool.fetch(SELECT_ALL_WORLDS), key=lambda r: r[0])
    cache[:] = [{"id": r[0], "randomNumber": r[1]} for r in rows]
    # Everything loaded so far (modules, routes, the cache) lives as long as the process:
    # moved out of the collector's generations, a full collection no longer walks it.
    gc.freeze()


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
    # where asyncio.gather over pool.fetchrow would make a Task per query. Not pool.fetchmany
    # (one Sync for all: half the instructions and half PostgreSQL's CPU per request here):
    # TFB's General Requirement #7 says "each query must be separated by a Sync message".
    rows = await pool.fetchrow_each(SELECT_WORLD, choices(ID_ARGS, k=n))
    return [{"id": r[0], "randomNumber": r[1]} for r in rows]


@app.get("/queries")
async def queries(req, res):
    res.raw_headers = [SERVER]
    return await _worlds(query_count(req.query_params.get("queries")))


_by_message = itemgetter(1)
_PAGE_HEAD = (
    b"<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    b"<tr><th>id</th><th>message</th></tr>"
)
_ROW = "<tr><td>{}</td><td>{}</td></tr>"
_PAGE_TAIL = b"</table></body></html>"


def fortunes_page(rows: list) -> bytes:
    """The fortunes page as UTF-8 bytes: the rows plus the added one, sorted by message, each
    row through fasterapi.html.render_rows (every message escaped as html.escape does, the
    page encoded in the same C++ pass)."""
    page = [*rows, (0, ADDED_FORTUNE)]
    page.sort(key=_by_message)
    return b"".join([_PAGE_HEAD, render_rows(_ROW, page), _PAGE_TAIL])


@app.get("/fortunes")
async def fortunes(req, res):
    res.raw_headers = [SERVER]
    res.media_type = HTML
    # Records index as (id, message) tuples do
    return fortunes_page(await pool.fetch(SELECT_FORTUNES))


@app.get("/updates")
async def updates(req, res):
    res.raw_headers = [SERVER]
    n = query_count(req.query_params.get("queries"))
    rows = await pool.fetchrow_each(SELECT_WORLD, choices(ID_ARGS, k=n))
    # One new number per id read (a repeated id keeps the last one drawn, shown in every
    # World naming it), written by one statement with the ids sorted, so concurrent batches
    # lock rows in the same order.
    numbers = dict(zip(map(_first, rows), choices(IDS, k=n), strict=True))
    ids = sorted(numbers)
    await pool.execute(UPDATE_WORLDS, ids, list(map(numbers.__getitem__, ids)))
    return [{"id": i, "randomNumber": numbers[i]} for i, _ in rows]


@app.get("/cached-queries")
def cached_queries(req, res):
    res.raw_headers = [SERVER]
    n = query_count(req.query_params.get("count"))
    return choices(cache, k=n)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=PORT, log_level="warning")
