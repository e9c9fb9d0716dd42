"""granian's RSGI interface with asyncpg and orjson, as TFB's granian (RSGI) entry is built.

    granian --interface rsgi granian_rsgi:app --port 8080 --workers 1
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import asyncpg
import orjson
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

JSON_H = [("content-type", "application/json"), ("server", "granian")]
TEXT_H = [("content-type", "text/plain"), ("server", "granian")]
HTML_H = [("content-type", "text/html; charset=utf-8"), ("server", "granian")]

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


def _count(scope: Any, name: str) -> int:
    return query_count(parse_qs(scope.query_string).get(name, [""])[0])


async def _worlds(n: int) -> list[dict[str, int]]:
    async with (await pool()).acquire() as conn:
        st = await conn.prepare(SELECT_WORLD)
        out = []
        for _ in range(n):
            r = await st.fetchrow(random.randint(1, WORLD_ROWS))
            out.append({"id": r[0], "randomNumber": r[1]})
    return out


async def app(scope: Any, proto: Any) -> None:
    path = scope.path
    if path == "/json":
        proto.response_bytes(200, JSON_H, orjson.dumps({"message": "Hello, World!"}))
    elif path == "/plaintext":
        proto.response_bytes(200, TEXT_H, b"Hello, World!")
    elif path == "/db":
        async with (await pool()).acquire() as conn:
            r = await conn.fetchrow(SELECT_WORLD, random.randint(1, WORLD_ROWS))
        proto.response_bytes(200, JSON_H, orjson.dumps({"id": r[0], "randomNumber": r[1]}))
    elif path == "/queries":
        proto.response_bytes(200, JSON_H, orjson.dumps(await _worlds(_count(scope, "queries"))))
    elif path == "/fortunes":
        async with (await pool()).acquire() as conn:
            rows = await conn.fetch(SELECT_FORTUNES)
        proto.response_str(200, HTML_H, fortunes_html([(r[0], r[1]) for r in rows]))
    elif path == "/updates":
        worlds = await _worlds(_count(scope, "queries"))
        for w in worlds:
            w["randomNumber"] = random.randint(1, WORLD_ROWS)
        ordered = sorted(worlds, key=lambda w: w["id"])
        async with (await pool()).acquire() as conn:
            await conn.executemany(UPDATE_WORLD, [(w["randomNumber"], w["id"]) for w in ordered])
        proto.response_bytes(200, JSON_H, orjson.dumps(worlds))
    elif path == "/cached-queries":
        await pool()
        n = _count(scope, "count")
        proto.response_bytes(
            200, JSON_H, orjson.dumps([cache[random.randint(1, WORLD_ROWS)] for _ in range(n)])
        )
    else:
        proto.response_bytes(404, TEXT_H, b"Not Found")
