"""PostgreSQL driver benchmark: FasterAPI's driver vs asyncpg vs psycopg 3 (async, binary).

Same server, same number of connections, uvloop for all. Reports qps and client CPU per query
(process CPU time / queries). Usage:
    python3 benchmarks/pg/bench_drivers.py [--dsn DSN] [--conns 8] [--seconds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import uvloop

ROWS = 10_000
PK_SQL = "SELECT id, name, email FROM bench_users WHERE id = $1"
FETCH100_SQL = "SELECT id, name, email FROM bench_users WHERE id > $1 ORDER BY id LIMIT 100"
INSERTS = 10_000


# -- drivers: each returns an object with pk(i), fetch100(i), executemany(rows), copy(rows), close()
class _PoolDriver:
    """Both pools speak asyncpg's API: the work is the same calls on either."""

    pool: Any

    async def pk(self, i: int) -> Any:
        return await self.pool.fetchrow(PK_SQL, i)

    async def fetch100(self, i: int) -> Any:
        return await self.pool.fetch(FETCH100_SQL, i)

    async def executemany(self, rows: list[tuple[Any, ...]]) -> None:
        await self.pool.executemany("INSERT INTO bench_ins VALUES ($1, $2, $3)", rows)

    async def copy(self, rows: list[tuple[Any, ...]]) -> None:
        await self.pool.copy_records_to_table("bench_ins", records=rows)

    async def close(self) -> None:
        await self.pool.close()


class FasterAPIDriver(_PoolDriver):
    name = "fasterapi"

    async def open(self, dsn: str, conns: int) -> None:
        from fasterapi.pg import PgPool

        self.pool = PgPool(dsn, min_size=conns, max_size=conns)
        await self.pool.open()


class AsyncpgDriver(_PoolDriver):
    name = "asyncpg"

    async def open(self, dsn: str, conns: int) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(dsn, min_size=conns, max_size=conns)


class AsyncpgNoResetDriver(AsyncpgDriver):
    """asyncpg tuned: the pool's per-release reset query (one extra round trip per pool.fetch*)
    replaced by a no-op, the fairest match for FasterAPI's pool-level queries."""

    name = "asyncpg_noreset"

    async def open(self, dsn: str, conns: int) -> None:
        import asyncpg

        async def no_reset(conn: Any) -> None:
            return None

        self.pool = await asyncpg.create_pool(dsn, min_size=conns, max_size=conns, reset=no_reset)


class PsycopgDriver:
    name = "psycopg3"

    async def open(self, dsn: str, conns: int) -> None:
        import psycopg

        self.conns: asyncio.Queue[Any] = asyncio.Queue()
        self.all = [
            await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(conns)
        ]
        for c in self.all:
            self.conns.put_nowait(c)

    async def _run(self, sql: str, args: tuple[Any, ...], many: bool = False) -> Any:
        c = await self.conns.get()
        try:
            cur = c.cursor(binary=True)
            await cur.execute(sql.replace("$1", "%s"), args, prepare=True)
            return await cur.fetchall() if many else await cur.fetchone()
        finally:
            self.conns.put_nowait(c)

    async def pk(self, i: int) -> Any:
        return await self._run(PK_SQL, (i,))

    async def fetch100(self, i: int) -> Any:
        return await self._run(FETCH100_SQL, (i,), many=True)

    async def executemany(self, rows: list[tuple[Any, ...]]) -> None:
        c = await self.conns.get()
        try:
            await c.cursor(binary=True).executemany(
                "INSERT INTO bench_ins VALUES (%s, %s, %s)", rows
            )
        finally:
            self.conns.put_nowait(c)

    async def copy(self, rows: list[tuple[Any, ...]]) -> None:
        c = await self.conns.get()
        try:
            async with c.cursor().copy("COPY bench_ins FROM STDIN") as cp:
                for r in rows:
                    await cp.write_row(r)
        finally:
            self.conns.put_nowait(c)

    async def close(self) -> None:
        for c in self.all:
            await c.close()


async def setup(dsn: str) -> None:
    import asyncpg

    c = await asyncpg.connect(dsn)
    await c.execute(
        "DROP TABLE IF EXISTS bench_users; DROP TABLE IF EXISTS bench_ins;"
        "CREATE TABLE bench_users (id int PRIMARY KEY, name text, email text);"
        "CREATE UNLOGGED TABLE bench_ins (a int, b text, c float8);"
        f"INSERT INTO bench_users SELECT g, 'user ' || g, 'user' || g || '@example.com' "
        f"FROM generate_series(1, {ROWS}) g; ANALYZE bench_users;"
    )
    await c.close()


async def measure(
    fn: Callable[[int], Awaitable[Any]], concurrency: int, seconds: float
) -> dict[str, float]:
    count = 0
    stop = False

    async def worker(w: int) -> None:
        nonlocal count
        i = w
        while not stop:
            await fn(i % ROWS + 1)
            i += concurrency
            count += 1

    for k in range(200):  # warm up: prepares statements, fills caches
        await fn(k % ROWS + 1)
    t0, c0 = time.perf_counter(), time.process_time()
    tasks = [asyncio.ensure_future(worker(w)) for w in range(concurrency)]
    await asyncio.sleep(seconds)
    stop = True
    await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"qps": count / wall, "cpu_us_per_query": cpu / count * 1e6, "queries": count}


async def bulk(fn: Callable[[list[tuple[Any, ...]]], Awaitable[Any]]) -> dict[str, float]:
    rows = [(i, f"row {i}", i * 0.25) for i in range(INSERTS)]
    await fn(rows[:100])
    t0, c0 = time.perf_counter(), time.process_time()
    await fn(rows)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"rows_per_s": INSERTS / wall, "seconds": wall, "cpu_us_per_row": cpu / INSERTS * 1e6}


async def run_driver(driver: Any, dsn: str, conns: int, seconds: float) -> dict[str, Any]:
    await driver.open(dsn, conns)
    out: dict[str, Any] = {}
    try:
        for conc in (1, 8, 64):
            out[f"pk_c{conc}"] = await measure(driver.pk, conc, seconds)
        out["fetch100_c8"] = await measure(driver.fetch100, 8, seconds)
        out["executemany_10k"] = await bulk(driver.executemany)
        out["copy_10k"] = await bulk(driver.copy)
    finally:
        await driver.close()
    return out


def pgbench(dsn: str, conns: int, seconds: int) -> float | None:
    exe = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not os.path.exists(exe):
        return None
    u = urlsplit(dsn)
    base = [
        exe,
        "-h",
        u.hostname or "127.0.0.1",
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "postgres",
    ]
    db = u.path.lstrip("/") or "postgres"
    subprocess.run([*base, "-i", "-q", "-s", "1", db], check=True, capture_output=True)
    r = subprocess.run(
        [*base, "-S", "-M", "prepared", "-c", str(conns), "-j", "2", "-T", str(seconds), db],
        check=True,
        capture_output=True,
        text=True,
    )
    for line in r.stdout.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--dsn",
        default=os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--drivers", default="fasterapi,asyncpg,asyncpg_noreset,psycopg3")
    ap.add_argument("--json")
    a = ap.parse_args()
    uvloop.run(setup(a.dsn))
    results: dict[str, Any] = {
        "conns": a.conns,
        "seconds": a.seconds,
        "load_before": os.getloadavg(),
    }
    drivers = {
        d.name: d for d in (FasterAPIDriver, AsyncpgDriver, AsyncpgNoResetDriver, PsycopgDriver)
    }
    for name in a.drivers.split(","):
        results[name] = uvloop.run(run_driver(drivers[name](), a.dsn, a.conns, a.seconds))
        print(name, json.dumps(results[name]), flush=True)
    results["pgbench_S_tps"] = pgbench(a.dsn, a.conns, int(a.seconds) + 2)
    results["load_after"] = os.getloadavg()
    print(table(results, a.drivers.split(",")))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


def table(r: dict[str, Any], names: list[str]) -> str:
    head = "| test | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    rows = []
    for key in ("pk_c1", "pk_c8", "pk_c64", "fetch100_c8"):
        cells = [
            f"{r[n][key]['qps']:,.0f} qps, {r[n][key]['cpu_us_per_query']:.1f} µs CPU/q"
            for n in names
        ]
        rows.append(f"| {key} | " + " | ".join(cells) + " |")
    for key in ("executemany_10k", "copy_10k"):
        cells = [
            f"{r[n][key]['rows_per_s']:,.0f} rows/s, {r[n][key]['cpu_us_per_row']:.1f} µs CPU/row"
            for n in names
        ]
        rows.append(f"| {key} | " + " | ".join(cells) + " |")
    rows.append(f"| pgbench -S -M prepared (server ceiling) | {r['pgbench_S_tps']} tps |")
    return head + "\n".join(rows)


if __name__ == "__main__":
    main()
