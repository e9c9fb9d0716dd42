"""Client instructions per pooled query, deterministic under callgrind (noise-free where a
busy machine makes CPU-time figures useless).

Runs N single-row PK selects (bench_drivers.py's table bench_users; run that once to create it)
from C concurrent tasks on uvloop, through PgPool.fetchrow (one query per call), or in batches
of 20 (TFB's queries=20) through PgPool.fetchrow_each (a Sync per query) or PgPool.fetchmany
(one Sync per batch), or through a checkout per query (acquire: ``async with pool.acquire() as
conn: await conn.fetchrow(...)``; run it at C <= 8, the pool's size, to count the path where a
connection is free rather than the waiters queue). The per-query figure is the difference
between two runs divided by the difference in N, which cancels start-up:

    # the interpreter's binary, not a pyenv shim (valgrind does not follow the shim's exec)
    PY=$(python3 -c 'import sys; print(sys.executable)')
    B=benchmarks/pg/pg_instructions.py
    valgrind --tool=callgrind --callgrind-out-file=/tmp/a.out $PY $B 3000 64 [MODE]
    valgrind --tool=callgrind --callgrind-out-file=/tmp/b.out $PY $B 20000 64 [MODE]
    # (summary of b - summary of a) / 17000; the summary is the file's "summary:" line
    # MODE: fetchrow (the default), fetchrow_each, fetchmany or acquire (with C = 8)

It also prints the process CPU time per query and the PostgreSQL backends' CPU time per query
(their /proc/<pid>/schedstat run time, the server on this machine): what the server spends is
not in callgrind's count, and one Sync per batch instead of one per query saves it a
ReadyForQuery and a send() per query.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import uvloop

from fasterapi.pg import PgPool

SQL = "SELECT id, name, email FROM bench_users WHERE id = $1"
BATCH = 20  # queries per fetchrow_each / fetchmany call
MODES = ("fetchrow", "fetchrow_each", "fetchmany", "acquire")


def backend_ns(pids: list[int]) -> int:
    """Run time (ns) of the PostgreSQL backends so far: /proc/<pid>/schedstat's first field."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


async def main(n: int, c: int, mode: str, dsn: str) -> None:
    pool = PgPool(dsn, min_size=8, max_size=8)
    await pool.open()
    held = [await pool.acquire() for _ in range(pool.max_size)]
    pids = [h.get_server_pid() for h in held]
    for h in held:  # warm-up: statements prepared on every connection
        await h.fetchrow(SQL, 1)
        await h.fetchmany(SQL, [(1,)])
    for h in held:
        await pool.release(h)
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            if mode == "fetchrow":
                left -= 1
                await pool.fetchrow(SQL, (left % 9000) + 1)
                continue
            if mode == "acquire":
                left -= 1
                async with pool.acquire() as conn:
                    await conn.fetchrow(SQL, (left % 9000) + 1)
                continue
            k = min(BATCH, left)
            left -= k
            args = [((left + i) % 9000 + 1,) for i in range(k)]
            if mode == "fetchmany":
                await pool.fetchmany(SQL, args)
            else:
                await pool.fetchrow_each(SQL, args)

    pg0 = backend_ns(pids) if os.path.exists(f"/proc/{pids[0]}/schedstat") else None
    c0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(c)))
    cpu = time.process_time() - c0
    per = f"{cpu / max(n, 1) * 1e6:.1f} µs CPU per query"
    if pg0 is not None:
        server = (backend_ns(pids) - pg0) / max(n, 1) / 1e3
        per += f", PostgreSQL backends {server:.2f} µs CPU per query"
    print(f"{n} queries by {mode} at concurrency {c}: {per}")
    await pool.close()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    mode = sys.argv[3] if len(sys.argv) > 3 else "fetchrow"
    if mode not in MODES:
        raise SystemExit(f"MODE must be one of {', '.join(MODES)}")
    dsn = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
    uvloop.run(main(n, c, mode, dsn))
