"""The native Core driven with byte fixtures (no server): FIFO results, decoding, errors."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from fasterapi.pg import exceptions as exc
from fasterapi.pg._native_pg import MODE_FETCH, MODE_STATUS, Core, Record


def msg(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


READY = msg(b"Z", b"I")
AUTH_OK = msg(b"R", struct.pack("!i", 0))
BIND = msg(b"2", b"")  # BindComplete
DONE = msg(b"C", b"SELECT 1\0")  # CommandComplete


def message_types(out: bytes) -> list[bytes]:
    """The message types of a frontend byte stream (§55.7: type byte, int32 length)."""
    kinds, i = [], 0
    while i < len(out):
        kinds.append(out[i : i + 1])
        i += 1 + struct.unpack("!i", out[i + 1 : i + 5])[0]
    return kinds


def started() -> Core:
    core = Core("u", "", "db", [])
    core.start()
    startup = core.take_out()
    assert struct.unpack("!ii", startup[:8]) == (len(startup), 196608) and b"user\0u\0" in startup
    assert core.feed(AUTH_OK + msg(b"K", struct.pack("!ii", 7, 9)) + READY) == [None]
    return core


def row_description(*cols: tuple[str, int]) -> bytes:
    body = struct.pack("!h", len(cols))
    for name, oid in cols:
        body += name.encode() + b"\0" + struct.pack("!ihihih", 0, 0, oid, 4, -1, 0)
    return msg(b"T", body)


def data_row(*vals: bytes | None) -> bytes:
    body = struct.pack("!h", len(vals))
    for v in vals:
        body += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    return msg(b"D", body)


def prepared(core: Core) -> object:
    st = core.prepare("s1", "SELECT $1::int AS n, $2::text AS t")
    out = core.take_out()
    assert out[:1] == b"P" and b"SELECT $1::int" in out
    res = core.feed(
        msg(b"1", b"")
        + msg(b"t", struct.pack("!hII", 2, 23, 25))
        + row_description(("n", 23), ("t", 25))
        + READY
    )
    assert res == [st]
    return st


def test_startup_and_key_data() -> None:
    core = started()
    assert core.backend_pid == 7 and core.secret_key == 9 and core.tx_status == "I"


def test_execute_decodes_binary_rows_into_records() -> None:
    core = started()
    st = prepared(core)
    core.execute(st, (5, "x"), MODE_FETCH)
    bind = core.take_out()
    assert bind[:1] == b"B" and struct.pack("!i", 5) in bind
    rows = core.feed(
        msg(b"2", b"")
        + data_row(struct.pack("!i", 1), b"a")
        + data_row(None, "é".encode())
        + msg(b"C", b"SELECT 2\0")
        + READY
    )[0]
    assert [tuple(r) for r in rows] == [(1, "a"), (None, "é")]
    assert isinstance(rows[0], Record) and rows[1]["t"] == "é"
    assert rows[0] == rows[0] and hash(rows[0]) == hash((1, "a"))


def test_pipelined_results_come_back_in_order_with_errors_in_place() -> None:
    core = started()
    st = prepared(core)
    core.execute(st, (1, "a"), MODE_STATUS)
    core.execute(st, (2, "b"), MODE_STATUS)
    core.execute(st, (3, "c"), MODE_STATUS)
    assert core.pending == 3
    err = msg(b"E", b"SERROR\0C22012\0Mdivision by zero\0P8\0\0")
    stream = (
        msg(b"2", b"")
        + msg(b"C", b"SELECT 1\0")
        + READY
        + msg(b"2", b"")
        + err
        + READY
        + msg(b"2", b"")
        + msg(b"C", b"SELECT 3\0")
        + READY
    )
    # split the stream at every byte boundary: results must not depend on packet edges
    res: list[object] = []
    for i in range(len(stream)):
        res += core.feed(stream[i : i + 1])
    assert res[0] == "SELECT 1" and res[2] == "SELECT 3"
    assert isinstance(res[1], exc.DivisionByZeroError) and res[1].position == "8"
    assert core.pending == 0 and not core.broken


def test_wrong_argument_count_writes_nothing() -> None:
    core = started()
    st = prepared(core)
    with pytest.raises(TypeError, match="expects 2 arguments"):
        core.execute(st, (1,), MODE_FETCH)
    assert not core.has_out and core.pending == 0


def test_unexpected_message_breaks_the_connection() -> None:
    core = started()
    core.feed(msg(b"C", b"SELECT 1\0"))  # nothing pending
    assert core.broken
    assert "unexpected" in core.error


def test_abort_returns_pending_errors() -> None:
    core = started()
    core.simple_query("SELECT 1", MODE_STATUS)
    core.simple_query("SELECT 2", MODE_STATUS)
    core.feed(msg(b"E", b"SFATAL\0C57P01\0Mterminating connection\0\0"))
    out = core.abort()
    assert isinstance(out[0], exc.AdminShutdownError) and out[1] is None


COPY_IN_RESPONSE = msg(b"G", b"\x00" + struct.pack("!h", 0))


def test_copy_from_stdin_in_a_query_holds_later_requests_until_refused() -> None:
    core = started()
    core.simple_query("COPY t FROM STDIN", MODE_STATUS)
    core.simple_query("SELECT 1", MODE_STATUS)
    out = core.take_out()
    assert out.startswith(b"Q") and b"SELECT 1" not in out  # held: it would be read as copy data
    assert core.held == 1
    assert core.feed(COPY_IN_RESPONSE) == []
    assert core.take_out()[:1] == b"f"  # CopyFail, and nothing else
    err = msg(b"E", b"SERROR\0C57014\0MCOPY from stdin failed\0\0")
    res = core.feed(err + READY)
    assert isinstance(res[0], exc.QueryCanceledError)
    assert b"SELECT 1" in core.take_out() and core.held == 0  # released once refused


def test_streaming_copy_holds_later_requests_until_it_completes() -> None:
    core = started()
    ready: list[bool] = []
    core.copy_in_start("COPY t FROM STDIN", lambda: ready.append(True))
    core.simple_query("SELECT 1", MODE_STATUS)
    assert b"SELECT 1" not in core.take_out()
    core.feed(COPY_IN_RESPONSE)
    assert ready == [True]
    with pytest.raises(TypeError):
        core.copy_data("1\n")  # a str: nothing written
    assert not core.has_out
    core.copy_data(b"1\n")
    core.copy_end(None)
    assert core.take_out() == msg(b"d", b"1\n") + msg(b"c", b"")
    assert core.feed(msg(b"C", b"COPY 1\0") + READY) == ["COPY 1"]
    assert b"SELECT 1" in core.take_out()


def test_pause_holds_only_requests_queued_after_it() -> None:
    core = started()
    core.simple_query("SELECT 1", MODE_STATUS)
    assert core.pause_after(0)
    core.simple_query("SELECT 2", MODE_STATUS)
    assert b"SELECT 1" in core.take_out() and not core.has_out
    core.resume()
    assert b"SELECT 2" in core.take_out()
    core.simple_query("SELECT 3", MODE_STATUS)
    assert not core.pause_after(1)  # SELECT 3 is already out behind SELECT 2: too late


def test_bad_executemany_row_queues_nothing() -> None:
    core = started()
    st = prepared(core)
    with pytest.raises(TypeError):
        core.execute_many(st, [(1, "a"), (2, "b"), 3])

    def rows() -> Any:
        yield (1, "a")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        core.execute_many(st, rows())
    assert not core.has_out and core.pending == 0
