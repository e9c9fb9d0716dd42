"""No protocol desync after a client-side error: an argument error queues nothing; COPY streams
its source and always ends (CopyDone/CopyFail) before another request reaches the server; a COPY
FROM STDIN sent through execute()/fetch() is refused without eating pipelined requests; COPY
options are validated, never interpolated raw."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .conftest import run

pytestmark = pytest.mark.pg


def with_conn(dsn: str, body: Any, **kw: Any) -> Any:
    async def go() -> Any:
        conn = await pg.connect(dsn, **kw)
        try:
            return await asyncio.wait_for(body(conn), 60)
        finally:
            conn.terminate()

    return run(go())


async def quick(aw: Any) -> Any:
    """A follow-up query: a desynced connection would hang or fail it."""
    return await asyncio.wait_for(aw, 10)


# -- argument errors queue nothing ----------------------------------------------------------------
def test_executemany_bad_row_inserts_nothing_and_leaves_nothing_queued(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE em_bad (k int)")
        with pytest.raises(TypeError):
            await c.executemany("INSERT INTO em_bad VALUES ($1)", [(1,), (2,), 3])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            await c.executemany("INSERT INTO em_bad VALUES ($1)", [(1,), (2,), ("x", "y")])

        def rows() -> Iterator[tuple[int]]:
            yield (1,)
            yield (2,)
            raise RuntimeError("source failed")

        with pytest.raises(RuntimeError):
            await c.executemany("INSERT INTO em_bad VALUES ($1)", rows())
        assert not c._core.has_out and c._core.pending == 0
        assert await quick(c.fetchval("SELECT count(*) FROM em_bad")) == 0
        # an insert that follows is not joined by the rejected rows
        await c.execute("INSERT INTO em_bad VALUES ($1)", 9)
        assert await quick(c.fetch("SELECT k FROM em_bad")) == [(9,)]

    with_conn(pg_dsn, body)


def test_bad_arguments_queue_nothing_for_every_request_api(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE ba (k int)")
        stmt = await c.prepare("INSERT INTO ba VALUES ($1)")
        with pytest.raises(TypeError):
            await stmt.fetch("not an int", 2)
        with pytest.raises((TypeError, ValueError)):
            await c.execute("INSERT INTO ba VALUES ($1)", object())
        with pytest.raises(ValueError):
            await c.execute("SELECT 1\0; INSERT INTO ba VALUES (1)")
        with pytest.raises(TypeError):
            await c.copy_records_to_table("ba", records=[(1,), ("x",)])
        with pytest.raises(TypeError):
            await c.copy_records_to_table("ba", records=5)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await c.copy_out("COPY ba TO STDOUT", output=5)
        assert not c._core.has_out and c._core.pending == 0
        assert await quick(c.fetchval("SELECT count(*) FROM ba")) == 0

    with_conn(pg_dsn, body)


def test_sync_executemany_and_copy_errors_leave_the_connection_clean(pg_dsn: str) -> None:
    pool = pg.PgPool(pg_dsn, min_size=0, max_size=1)
    try:
        with pool.connection() as c:
            c.execute("CREATE TEMP TABLE sem (k int)")
            with pytest.raises(TypeError):
                c.executemany("INSERT INTO sem VALUES ($1)", [(1,), (2,), 3])  # type: ignore[list-item]
            with pytest.raises(TypeError):
                c.copy_in("COPY sem FROM STDIN", [b"1\n", "2\n"])  # type: ignore[list-item]
            with pytest.raises(TypeError):
                c.copy_in("COPY sem FROM STDIN", "1\n")  # type: ignore[arg-type]
            assert c.exec("SELECT count(*) FROM sem").scalar() == 0
            with pytest.raises(TypeError):
                c.copy_records_to_table("sem", records=[(1,), ("x",)])
            assert c.exec("SELECT count(*) FROM sem").scalar() == 0
            with pytest.raises(pg.PostgresError):  # refused: copy_in is the way
                c.exec("COPY sem FROM STDIN")
            with pytest.raises(pg.PostgresError):
                c.execute("COPY sem FROM STDIN")
            assert c.copy_in("COPY sem FROM STDIN", io.BytesIO(b"1\n2\n")) == "COPY 2"
            assert c.copy_records_to_table("sem", records=[(3,)]) == "COPY 1"
            assert c.exec("SELECT sum(k) FROM sem").scalar() == 6
            assert not c.broken
    finally:
        pool.close_sync()


# -- COPY ---------------------------------------------------------------------------------------
def test_copy_with_a_str_chunk_fails_cleanly_for_the_next_user(pg_dsn: str) -> None:
    async def go() -> None:
        pool = pg.PgPool(pg_dsn, min_size=1, max_size=1)
        async with pool:
            await pool.execute("DROP TABLE IF EXISTS cs_t; CREATE TABLE cs_t (a int)")
            try:
                async with pool.acquire() as c:
                    with pytest.raises(TypeError):
                        await c.copy_in("COPY cs_t FROM STDIN", [b"1\n", "2\n"])
                    with pytest.raises(TypeError):
                        await c.copy_in("COPY cs_t FROM STDIN", "1\n")
                    with pytest.raises(TypeError):
                        await c.copy_to_table("cs_t", source=io.StringIO("1\n"))
                # the next pool user gets a clean connection
                assert await quick(pool.fetchval("SELECT count(*) FROM cs_t")) == 0
                with pytest.raises(TypeError):
                    await pool.copy_to_table("cs_t", source=iter([b"5\n", "6\n"]))
                assert await quick(pool.copy_to_table("cs_t", source=iter([b"5\n"]))) == "COPY 1"
                assert await quick(pool.copy_from_query("SELECT a FROM cs_t")) == b"5\n"
                await pool.execute("TRUNCATE cs_t")
                assert await quick(pool.fetchval("SELECT 41 + $1::int", 1)) == 42
            finally:
                await pool.execute("DROP TABLE cs_t")

    run(go())


def test_copy_source_error_aborts_the_copy_with_pipelined_queries_around(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE cp (a int)")

        async def failing() -> AsyncIterator[bytes]:
            yield b"1\n"
            await asyncio.sleep(0.05)
            yield b"2\n"
            raise RuntimeError("source broke")

        before = asyncio.ensure_future(c.fetchval("SELECT pg_sleep(0.1)::text || 'a'"))
        copy = asyncio.ensure_future(c.copy_in("COPY cp FROM STDIN", failing()))
        await asyncio.sleep(0)
        after = [asyncio.ensure_future(c.fetchval("SELECT $1::int", i)) for i in range(5)]
        assert await quick(before) == "a"
        with pytest.raises(RuntimeError, match="source broke"):
            await quick(copy)
        assert await quick(asyncio.gather(*after)) == list(range(5))
        assert await quick(c.fetchval("SELECT count(*) FROM cp")) == 0

    with_conn(pg_dsn, body)


def test_copy_streams_its_source_with_flow_control(pg_dsn: str) -> None:
    chunk = b"".join(b"%d\n" % i for i in range(100_000))  # ~590 KB
    n_chunks = 60  # ~35 MB in all

    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE big_in (a int)")
        channel = c._proto.channel  # the native channel: what it has sent, what it holds
        max_backlog = 0
        max_buffered = 0
        produced = 0
        start = channel.bytes_written

        def source() -> Iterator[bytes]:
            nonlocal produced, max_backlog, max_buffered
            for _ in range(n_chunks):
                max_backlog = max(max_backlog, produced - (channel.bytes_written - start))
                max_buffered = max(max_buffered, channel.write_buffer_size)
                produced += len(chunk)
                yield chunk

        assert await c.copy_in("COPY big_in FROM STDIN", source()) == f"COPY {n_chunks * 100_000}"
        # streamed: the driver never ran more than a few chunks ahead of the socket
        assert max_backlog < 4 * len(chunk), max_backlog
        assert max_buffered < 4 * len(chunk), max_buffered  # flow control
        assert channel.write_buffer_size == 0
        assert channel.bytes_written - start > n_chunks * len(chunk)  # all of it went out

        class AsyncReader:  # an async file-like source
            def __init__(self, data: bytes) -> None:
                self._f = io.BytesIO(data)

            async def read(self, n: int) -> bytes:
                await asyncio.sleep(0)
                return self._f.read(n)

        async def agen() -> AsyncIterator[bytes]:
            yield b"7\n"
            yield memoryview(b"8\n")

        await c.execute("TRUNCATE big_in")
        assert await c.copy_in("COPY big_in FROM STDIN", AsyncReader(b"1\n2\n" * 1000)) == (
            "COPY 2000"
        )
        assert await c.copy_in("COPY big_in FROM STDIN", io.BytesIO(b"3\n")) == "COPY 1"
        assert await c.copy_in("COPY big_in FROM STDIN", agen()) == "COPY 2"
        assert await c.copy_to_table("big_in", source=[b"4\n", bytearray(b"5\n")]) == "COPY 2"
        assert await c.fetchval("SELECT count(*) FROM big_in") == 2005

    with_conn(pg_dsn, body)


def test_copy_rejected_by_the_server_mid_stream_stops_reading(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE rj (a int)")
        pulled = 0

        async def source() -> AsyncIterator[bytes]:
            nonlocal pulled
            yield b"not a number\n"
            for _ in range(100_000):
                pulled += 1
                await asyncio.sleep(0.001)
                yield b"1\n" * 1000

        with pytest.raises(exc.InvalidTextRepresentationError):
            await quick(c.copy_in("COPY rj FROM STDIN", source()))
        assert pulled < 100_000
        assert await quick(c.fetchval("SELECT count(*) FROM rj")) == 0

    with_conn(pg_dsn, body)


def test_copy_timeout_ends_the_copy_and_keeps_the_connection(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE ct (a int)")

        async def slow() -> AsyncIterator[bytes]:
            yield b"1\n"
            await asyncio.sleep(30)
            yield b"2\n"

        with pytest.raises(TimeoutError):
            await c.copy_in("COPY ct FROM STDIN", slow(), timeout=0.3)
        assert await quick(c.fetchval("SELECT count(*) FROM ct")) == 0

    with_conn(pg_dsn, body)


def test_copy_from_stdin_through_execute_is_refused_without_eating_pipelined_queries(
    pg_dsn: str,
) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE cx (a int)")
        calls = [
            lambda: c.execute("COPY cx FROM STDIN"),  # simple query
            lambda: c.fetch("COPY cx FROM STDIN"),  # extended: one Execute
            lambda: c.executemany("COPY cx FROM STDIN", [()]),
            lambda: c.executemany("COPY cx FROM STDIN", [(), (), ()]),
            lambda: c.copy_out("COPY cx FROM STDIN"),
        ]
        for call in calls:
            results = await quick(
                asyncio.gather(
                    c.fetchval("SELECT 1"),
                    call(),
                    c.fetchval("SELECT 2"),
                    c.fetchval("SELECT $1::text", "stdin is just a word here"),
                    return_exceptions=True,
                )
            )
            assert results[0] == 1 and results[2] == 2, results
            assert results[3] == "stdin is just a word here"
            # the server's refusal, or (executemany of several rows) the driver's
            assert isinstance(results[1], (pg.PostgresError, ValueError)), results
        assert await quick(c.fetchval("SELECT count(*) FROM cx")) == 0

    with_conn(pg_dsn, body)


# -- COPY options are never interpolated raw ----------------------------------------------------
def test_copy_format_is_validated(pg_dsn: str) -> None:
    async def body(c: pg.Connection) -> None:
        await c.execute("CREATE TEMP TABLE cf (a int)")
        evil = "csv); DROP TABLE cf; --"
        with pytest.raises(pg.InterfaceError):
            await c.copy_to_table("cf", source=b"1\n", format=evil)
        with pytest.raises(pg.InterfaceError):
            await c.copy_from_query("SELECT 1", format=evil)
        assert not c._core.has_out and c._core.pending == 0
        assert await c.copy_to_table("cf", source=b"1\n", format="CSV") == "COPY 1"
        assert await c.copy_from_query("SELECT a FROM cf", format="csv") == b"1\n"
        assert await c.fetchval("SELECT count(*) FROM cf") == 1

    with_conn(pg_dsn, body)
