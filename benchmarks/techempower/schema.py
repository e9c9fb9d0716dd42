"""Loads the TechEmpower schema into PostgreSQL: `world` (10,000 rows, randomNumber in
1..10,000) and `fortune` (the 12 messages of TFB's create-postgres.sql), as TFB's toolset does.

    python3 benchmarks/techempower/schema.py [--dsn postgresql://postgres@127.0.0.1:5432/test]
    python3 benchmarks/techempower/schema.py --reset     # drop and load again

Idempotent: tables that already hold the right rows are left alone (the random numbers of
`world` change under the updates test; that is expected)."""

from __future__ import annotations

import argparse
import os
import sys

import psycopg

DEFAULT_DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
WORLD_ROWS = 10_000

# TFB's Fortune rows (the data of the test, not code): id 11 checks HTML escaping, id 12 UTF-8.
FORTUNES: list[tuple[int, str]] = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
]
ADDED_FORTUNE = (0, "Additional fortune added at request time.")


def load(dsn: str = DEFAULT_DSN, reset: bool = False) -> None:
    """Create and fill `world` and `fortune` in the database at `dsn` (see the module doc)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if reset:
            conn.execute("DROP TABLE IF EXISTS world, fortune")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS world ("
            " id integer NOT NULL PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS fortune ("
            " id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL)"
        )
        row = conn.execute("SELECT count(*), min(id), max(id) FROM world").fetchone()
        if row != (WORLD_ROWS, 1, WORLD_ROWS):
            conn.execute("TRUNCATE world")
            conn.execute(
                "INSERT INTO world (id, randomnumber) SELECT x, least(floor(random() * 10000 + 1),"
                " 10000) FROM generate_series(1, %s) AS x",
                (WORLD_ROWS,),
            )
        have = conn.execute("SELECT id, message FROM fortune ORDER BY id").fetchall()
        if have != FORTUNES:
            conn.execute("TRUNCATE fortune")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", FORTUNES)
        conn.execute("ANALYZE world")
        conn.execute("ANALYZE fortune")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--reset", action="store_true", help="drop the tables first")
    args = parser.parse_args(argv)
    load(args.dsn, args.reset)
    print(f"world: {WORLD_ROWS} rows, fortune: {len(FORTUNES)} rows in {args.dsn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
