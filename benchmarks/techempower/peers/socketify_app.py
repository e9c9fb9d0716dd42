"""socketify's native API with asyncpg, as TFB's socketify (Python) entry is built.

    python3 socketify_app.py      # PORT (8080)
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any

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
from socketify import App, AppListenOptions

SERVER = ((b"Server", b"socketify"),)
JSON = b"application/json"
_pool: asyncpg.Pool | None = None
_lock = asyncio.Lock()
cache: dict[int, dict[str, int]] = {}


async def pool() -> asyncpg.Pool:
    global _pool
    if _pool is None:
        async with _lock:
            if _pool is None:
                p = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
                for r in await p.fetch(SELECT_ALL_WORLDS):
                    cache[r[0]] = {"id": r[0], "randomNumber": r[1]}
                _pool = p
    return _pool


def json_(res: Any, req: Any) -> None:
    res.send(orjson.dumps({"message": "Hello, World!"}), content_type=JSON, headers=SERVER)


def plaintext(res: Any, req: Any) -> None:
    res.send(b"Hello, World!", content_type=b"text/plain", headers=SERVER)


async def db(res: Any, req: Any) -> None:
    async with (await pool()).acquire() as conn:
        r = await conn.fetchrow(SELECT_WORLD, random.randint(1, WORLD_ROWS))
    res.send(orjson.dumps({"id": r[0], "randomNumber": r[1]}), content_type=JSON, headers=SERVER)


async def _worlds(n: int) -> list[dict[str, int]]:
    async with (await pool()).acquire() as conn:
        st = await conn.prepare(SELECT_WORLD)
        out = []
        for _ in range(n):
            r = await st.fetchrow(random.randint(1, WORLD_ROWS))
            out.append({"id": r[0], "randomNumber": r[1]})
    return out


async def queries(res: Any, req: Any) -> None:
    n = query_count(req.get_query("queries"))  # before any await: req is only valid until then
    res.send(orjson.dumps(await _worlds(n)), content_type=JSON, headers=SERVER)


async def fortunes(res: Any, req: Any) -> None:
    async with (await pool()).acquire() as conn:
        rows = await conn.fetch(SELECT_FORTUNES)
    page = fortunes_html([(r[0], r[1]) for r in rows]).encode()
    res.send(page, content_type=b"text/html; charset=utf-8", headers=SERVER)


async def updates(res: Any, req: Any) -> None:
    n = query_count(req.get_query("queries"))
    worlds = await _worlds(n)
    for w in worlds:
        w["randomNumber"] = random.randint(1, WORLD_ROWS)
    ordered = sorted(worlds, key=lambda w: w["id"])
    async with (await pool()).acquire() as conn:
        await conn.executemany(UPDATE_WORLD, [(w["randomNumber"], w["id"]) for w in ordered])
    res.send(orjson.dumps(worlds), content_type=JSON, headers=SERVER)


async def cached_queries(res: Any, req: Any) -> None:
    n = query_count(req.get_query("count"))
    await pool()
    body = orjson.dumps([cache[random.randint(1, WORLD_ROWS)] for _ in range(n)])
    res.send(body, content_type=JSON, headers=SERVER)


def main() -> None:
    app = App()
    app.get("/json", json_)
    app.get("/plaintext", plaintext)
    app.get("/db", db)
    app.get("/queries", queries)
    app.get("/fortunes", fortunes)
    app.get("/updates", updates)
    app.get("/cached-queries", cached_queries)
    app.listen(AppListenOptions(port=PORT, host="127.0.0.1"))
    app.run()


if __name__ == "__main__":
    main()
