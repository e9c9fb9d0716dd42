"""The soak test's server: one FasterAPI worker with an endpoint per traffic kind.

Run by benchmarks/soak/soak.py as `python app.py --port N`; settings come from the command
line (`--keep-alive`) and the environment (SOAK_DSN, SOAK_PG_CONNS). Every body it sends is a
slice of soak_data.PATTERN, so the clients can verify each byte."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from soak_data import MAX_BODY, PATTERN

if _root := os.environ.get("SOAK_FASTERAPI_ROOT"):
    # Serve another tree's fasterapi (e.g. a snapshot of a commit) instead of the editable
    # install: drop scikit-build-core's redirecting finder, put that tree first. Its
    # extension comes from FASTERAPI_NATIVE_DIR.
    sys.meta_path[:] = [f for f in sys.meta_path
                        if type(f).__name__ != "ScikitBuildRedirectingFinder"]
    sys.path.insert(0, _root)

from fasterapi import App, HTTPException, PgPool, Request, Response, StreamingResponse

DSN = os.environ.get("SOAK_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_CONNS = int(os.environ.get("SOAK_PG_CONNS", "4"))
# min_size == max_size: the pool never grows or shrinks, so the server's fd count after the
# clients stop is comparable with the one measured once the pool was primed.
pool = PgPool(DSN, min_size=PG_CONNS, max_size=PG_CONNS)
app = App()

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS soak_writes (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    token text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


@app.on_event("startup")
async def create_table() -> None:
    import fasterapi
    import fasterapi._native as native

    mtime = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(native.__file__)))
    print(f"soak-app: fasterapi {os.path.dirname(fasterapi.__file__)}, extension "
          f"{native.__file__} (built {mtime})", file=sys.stderr, flush=True)
    async with pool.acquire() as conn:
        await conn.execute(TABLE_SQL)
        await conn.execute("CREATE INDEX IF NOT EXISTS soak_writes_run ON soak_writes (run_id)")


def _int_param(req: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = req.query_params.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise HTTPException(400, f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise HTTPException(400, f"{name} out of range")
    return value


@app.get("/json")
def small_json(req: Request, res: Response) -> dict[str, Any]:
    seq = _int_param(req, "seq", 0, 0, 2**62)
    return {"message": "Hello, World!", "seq": seq, "tags": ["soak", "json"], "ok": True}


@app.get("/items/{item_id}")
def item(req: Request, res: Response) -> dict[str, Any]:
    item_id = req.path_params["item_id"]
    return {"item_id": item_id, "length": len(item_id)}


@app.post("/echo")
def echo(req: Request, res: Response) -> Response:
    return Response(req.body, media_type="application/octet-stream")


@app.get("/download/{size}")
def download(req: Request, res: Response) -> Response:
    size = int(req.path_params["size"])
    if not 0 <= size <= MAX_BODY:
        raise HTTPException(400, "size out of range")
    return Response(PATTERN[:size], media_type="application/octet-stream")


def _chunks(n: int, size: int) -> Iterator[bytes]:
    for i in range(n):
        yield PATTERN[i * size : (i + 1) * size]


async def _achunks(n: int, size: int) -> AsyncIterator[bytes]:
    for i in range(n):
        if i % 8 == 7:
            await asyncio.sleep(0)  # suspend now and then: the async path, not just a loop
        yield PATTERN[i * size : (i + 1) * size]


@app.get("/stream")
def stream(req: Request, res: Response) -> StreamingResponse:
    """`n` chunks of `size` bytes (a sync generator): PATTERN[:n * size], chunked."""
    n = _int_param(req, "n", 64, 1, 100_000)
    size = _int_param(req, "size", 4096, 1, MAX_BODY)
    if n * size > MAX_BODY:
        raise HTTPException(400, "n * size too large")
    return StreamingResponse(_chunks(n, size), media_type="application/octet-stream")


@app.get("/astream")
async def astream(req: Request, res: Response) -> StreamingResponse:
    """As /stream, from an async generator, after an await in the handler itself."""
    n = _int_param(req, "n", 64, 1, 100_000)
    size = _int_param(req, "size", 4096, 1, MAX_BODY)
    if n * size > MAX_BODY:
        raise HTTPException(400, "n * size too large")
    await asyncio.sleep(0.001)
    return StreamingResponse(_achunks(n, size), media_type="application/octet-stream")


@app.get("/async")
async def sleeper(req: Request, res: Response) -> dict[str, Any]:
    ms = _int_param(req, "ms", 5, 0, 10_000)
    seq = _int_param(req, "seq", 0, 0, 2**62)
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms, "seq": seq}


@app.get("/pg/read/{row_id}")
async def pg_read(req: Request, res: Response) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT id, run_id, token, payload FROM soak_writes WHERE id = $1",
        int(req.path_params["row_id"]),
    )
    if row is None:
        raise HTTPException(404, "no such row")
    return {"id": row["id"], "run_id": row["run_id"], "token": row["token"],
            "payload": row["payload"]}


@app.post("/pg/write")
async def pg_write(req: Request, res: Response) -> dict[str, Any]:
    data = req.json()
    async with pool.acquire() as conn, conn.transaction():
        row_id = await conn.fetchval(
            "INSERT INTO soak_writes (run_id, token, payload) VALUES ($1, $2, $3) RETURNING id",
            data["run_id"], data["token"], data["payload"],
        )
        # A second statement in the same transaction: the row must be visible to it.
        seen = await conn.fetchval("SELECT count(*) FROM soak_writes WHERE id = $1", row_id)
    if seen != 1:
        raise HTTPException(500, f"row {row_id} not visible inside its own transaction")
    return {"id": row_id, "token": data["token"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--keep-alive", type=float, default=5.0,
                        help="timeout_keep_alive in seconds (FasterAPI's default: 5)")
    args = parser.parse_args()
    app.run(host="127.0.0.1", port=args.port, workers=1, timeout_keep_alive=args.keep_alive)


if __name__ == "__main__":
    main()
