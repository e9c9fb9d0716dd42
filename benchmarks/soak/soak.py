#!/usr/bin/env python3
"""Soak test: one FasterAPI worker (benchmarks/soak/app.py) under mixed, checked traffic.

Starts the app as a subprocess on a loopback port, runs client processes for `--duration`
seconds (keep-alive, pipelined, large upload/download, streamed, slow-reading, vanishing and
PostgreSQL traffic), checks every response (status, framing, Content-Length against the bytes
received, every body byte), samples the server's RSS and open fds, verifies afterwards that
every acknowledged PostgreSQL write is in the table, stops the server with SIGTERM and prints
a summary. Exits 0 when nothing was violated, 1 otherwise (2: could not start).

    python3 benchmarks/soak/soak.py --duration 600          # the 10-minute run
    python3 benchmarks/soak/soak.py --duration 60           # a short run

Loopback only; the run is bounded by a watchdog (duration + grace) and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from queue import Empty
from typing import Any
from urllib.parse import urlsplit

from soak_data import MAX_BODY, PATTERN

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
MiB = 1024 * 1024

# The kinds of traffic each client role must have attempted (coverage check).
REQUIRED_KINDS: dict[str, tuple[str, ...]] = {
    "keepalive": ("json", "item", "async", "echo_small", "stream", "astream"),
    "pipeline": ("pipe_batch",),
    "bigio": ("upload", "download", "big_stream", "big_astream"),
    "slow": ("slow_download", "slow_stream", "slow_followup"),
    "vanish": ("vanish", "vanish_probe"),
    "pg": ("pg_write", "pg_read", "pg_read_missing"),
}


# --------------------------------------------------------------------------------------------
# Raw HTTP/1.1 client: keep-alive, pipelining, throttled reads, byte-exact checks.
# --------------------------------------------------------------------------------------------


# Client port -> what the connection was used for; lets a leaked server-side socket be traced
# back to the traffic that left it (ports are reused over a long run: last use wins).
CONN_LOG: dict[int, str] = {}
CONN_LOG_ROLE = "?"


class SoakError(Exception):
    """A response that is wrong, incomplete, late, or a connection that broke."""


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool
    chunks: int = 0

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


class RawConn:
    """One TCP connection with a receive buffer; reads may be throttled to `rate` bytes/s."""

    def __init__(
        self, port: int, timeout: float, rcvbuf: int | None = None, rate: float | None = None
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
        except OSError as e:
            self.sock.close()
            raise SoakError(f"connect failed: {e!r}") from e
        self.buf = bytearray()
        self.rate = rate
        self.rate_t0 = 0.0
        self.rate_bytes = 0
        self.last_used = time.monotonic()
        self.received = 0
        self.local_port = int(self.sock.getsockname()[1])
        self.last = "nothing sent"  # what the connection was last used for (diagnostics)

    def send(self, data: bytes | memoryview) -> None:
        if data[:4] in (b"GET ", b"POST"):
            self.last = bytes(data[:120]).split(b"\r\n")[0].decode("latin-1")
        try:
            self.sock.sendall(data)
        except TimeoutError as e:
            raise SoakError("timeout while sending the request") from e
        except OSError as e:
            raise SoakError(f"send failed: {e!r}") from e
        self.last_used = time.monotonic()

    def _fill(self, what: str) -> None:
        """Receive more bytes into the buffer; EOF or an error raises SoakError(what ...)."""
        if self.sock.fileno() < 0:
            raise SoakError(f"connection already closed during {what}")
        size = 256 * 1024
        if self.rate:
            size = 16 * 1024
            ahead = self.rate_bytes / self.rate - (time.monotonic() - self.rate_t0)
            if ahead > 0:
                time.sleep(ahead)
        try:
            data = self.sock.recv(size)
        except TimeoutError as e:
            raise SoakError(f"timeout waiting for {what}") from e
        except OSError as e:
            raise SoakError(f"recv failed during {what}: {e!r}") from e
        if not data:
            raise SoakError(f"connection closed by the server during {what}")
        self.rate_bytes += len(data)
        self.received += len(data)
        self.buf += data

    def _take(self, n: int, what: str) -> bytes:
        while len(self.buf) < n:
            self._fill(what)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _line(self, what: str) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            if len(self.buf) > 64 * 1024:
                raise SoakError(f"line longer than 64 KiB in {what}")
            self._fill(what)

    def read_response(self, method: str = "GET") -> HttpResponse:
        self.rate_t0 = time.monotonic()
        self.rate_bytes = 0
        head_start = self.received
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > 64 * 1024:
                raise SoakError("response head longer than 64 KiB")
            try:
                self._fill("the response head")
            except SoakError as e:
                if not self.buf and self.received == head_start:
                    idle = time.monotonic() - self.last_used
                    raise SoakError(f"{e} (no byte of it received; {idle:.1f}s after send)") from e
                raise
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[: end + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
            raise SoakError(f"bad status line {lines[0][:80]!r}")
        status = int(parts[1])
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise SoakError(f"bad header line {line[:80]!r}")
            headers.append((name.strip().lower(), value.strip()))
        resp = HttpResponse(status, parts[2] if len(parts) > 2 else "", headers, b"", False)
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return resp
        if te is not None:
            if cl is not None:
                raise SoakError("both Transfer-Encoding and Content-Length")
            if te.lower() != "chunked":
                raise SoakError(f"unexpected Transfer-Encoding {te!r}")
            resp.chunked = True
            resp.body, resp.chunks = self._chunked_body()
        elif cl is not None:
            if not cl.isdigit():
                raise SoakError(f"bad Content-Length {cl!r}")
            n = int(cl)
            try:
                resp.body = self._take(n, f"a {n}-byte body")
            except SoakError as e:
                raise SoakError(
                    f"{e}: got {len(self.buf)} of Content-Length {n} bytes (status {status})"
                ) from e
        else:
            raise SoakError(f"status {status} response without Content-Length or chunking")
        self.last_used = time.monotonic()
        return resp

    def _chunked_body(self) -> tuple[bytes, int]:
        body = bytearray()
        chunks = 0
        while True:
            try:
                line = self._line("a chunk size line")
                size_txt = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_txt, 16)
                except ValueError:
                    raise SoakError(f"bad chunk size line {line[:40]!r}") from None
                if size == 0:
                    while self._line("the chunked trailer"):
                        pass
                    return bytes(body), chunks
                body += self._take(size, "a chunk")
                if self._take(2, "a chunk's CRLF") != b"\r\n":
                    raise SoakError("chunk not followed by CRLF")
                chunks += 1
            except SoakError as e:
                raise SoakError(f"{e}: chunked body cut after {len(body)} bytes") from e

    def expect_eof(self, timeout: float) -> None:
        """The server must close the connection (after `Connection: close`)."""
        if self.buf:
            raise SoakError(f"{len(self.buf)} unexpected bytes after the last response")
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1024)
        except TimeoutError as e:
            raise SoakError("server kept the connection open after Connection: close") from e
        except OSError:
            return  # a reset is a close too
        if data:
            raise SoakError(f"unexpected bytes after Connection: close: {data[:60]!r}")

    def close(self, reset: bool = False) -> None:
        if self.sock.fileno() >= 0:
            CONN_LOG[self.local_port] = f"{CONN_LOG_ROLE}: {self.last}, closed by the client " \
                f"with {'RST' if reset else 'FIN'} at {time.strftime('%H:%M:%S')}"
        with contextlib.suppress(OSError):
            if reset:  # RST instead of FIN
                self.sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            self.sock.close()


def build_request(
    method: str, path: str, body: bytes | memoryview = b"", *, close: bool = False,
    content_type: str = "application/octet-stream", content_length: int | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: fasterapi-soak"]
    if method == "POST":
        n = len(body) if content_length is None else content_length
        lines += [f"Content-Type: {content_type}", f"Content-Length: {n}"]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def first_difference(got: bytes, want: bytes | memoryview) -> str:
    want = bytes(want)
    n = min(len(got), len(want))
    for start in range(0, n, 65536):  # find the first differing block, then the byte
        if got[start : start + 65536] != want[start : start + 65536]:
            for i in range(start, min(start + 65536, n)):
                if got[i] != want[i]:
                    return f"first difference at byte {i} of {len(want)} (got {len(got)} bytes)"
    return f"length {len(got)}, expected {len(want)}"


# --------------------------------------------------------------------------------------------
# Requests and their checks.
# --------------------------------------------------------------------------------------------


@dataclass
class Req:
    kind: str
    method: str
    path: str
    check: Callable[[HttpResponse], Any]
    body: bytes | memoryview = b""
    streamed: bool = False  # answered with a StreamingResponse
    content_type: str = "application/octet-stream"

    def wire(self, close: bool = False) -> bytes:
        head = build_request(
            self.method, self.path, self.body, close=close, content_type=self.content_type
        )
        return head + bytes(self.body) if len(self.body) < 65536 else head


def _status(resp: HttpResponse, want: int) -> None:
    if resp.status != want:
        raise SoakError(f"status {resp.status}, expected {want}: {resp.body[:200]!r}")


def check_json(expected: dict[str, Any], status: int = 200) -> Callable[[HttpResponse], Any]:
    def check(resp: HttpResponse) -> Any:
        _status(resp, status)
        if resp.chunked or resp.header("content-length") is None:
            raise SoakError("JSON response without Content-Length")
        ctype = resp.header("content-type") or ""
        if not ctype.startswith("application/json"):
            raise SoakError(f"content-type {ctype!r}")
        try:
            got = json.loads(resp.body)
        except ValueError as e:
            raise SoakError(f"invalid JSON body {resp.body[:200]!r}") from e
        if got != expected:
            raise SoakError(f"JSON body {got!r} != expected {expected!r}")
        return got

    return check


def check_bytes(expected: bytes | memoryview, streamed: bool) -> Callable[[HttpResponse], Any]:
    def check(resp: HttpResponse) -> Any:
        _status(resp, 200)
        if streamed and not resp.chunked:
            raise SoakError("streamed response not chunked")
        if not streamed and resp.chunked:
            raise SoakError("expected Content-Length framing, got chunked")
        if resp.body != expected:
            raise SoakError("body mismatch: " + first_difference(resp.body, expected))
        return len(resp.body)

    return check


def rand_token(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits + "-_.~", k=n))


def req_json(rng: random.Random) -> Req:
    seq = rng.randrange(2**40)
    body = {"message": "Hello, World!", "seq": seq, "tags": ["soak", "json"], "ok": True}
    return Req("json", "GET", f"/json?seq={seq}", check_json(body))


def req_item(rng: random.Random) -> Req:
    item_id = rand_token(rng, rng.randint(1, 40))
    return Req("item", "GET", f"/items/{item_id}",
               check_json({"item_id": item_id, "length": len(item_id)}))


def req_async(rng: random.Random, max_ms: int = 50) -> Req:
    ms, seq = rng.randint(0, max_ms), rng.randrange(2**40)
    return Req("async", "GET", f"/async?ms={ms}&seq={seq}",
               check_json({"slept_ms": ms, "seq": seq}))


def req_echo(rng: random.Random, size: int, kind: str) -> Req:
    off = rng.randrange(len(PATTERN) - size + 1)
    body = memoryview(PATTERN)[off : off + size]
    return Req(kind, "POST", "/echo", check_bytes(body, False), body=body)


def req_download(size: int, kind: str = "download") -> Req:
    return Req(kind, "GET", f"/download/{size}", check_bytes(memoryview(PATTERN)[:size], False))


def req_stream(n: int, size: int, kind: str, asynchronous: bool) -> Req:
    route = "/astream" if asynchronous else "/stream"
    want = memoryview(PATTERN)[: n * size]
    return Req(kind, "GET", f"{route}?n={n}&size={size}", check_bytes(want, True), streamed=True)


def req_pg_missing() -> Req:
    return Req("pg_read_missing", "GET", f"/pg/read/-{random.randint(1, 10**9)}",
               check_json({"detail": "no such row"}, 404))


# --------------------------------------------------------------------------------------------
# Per-process statistics.
# --------------------------------------------------------------------------------------------


@dataclass
class Stats:
    ok: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    latency_sum: dict[str, float] = field(default_factory=dict)
    latency_max: dict[str, float] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    writes: list[tuple[int, str, int]] = field(default_factory=list)  # acked (id, token, len)
    conn_log: dict[int, str] = field(default_factory=dict)

    def success(self, kind: str, seconds: float) -> None:
        self.ok[kind] = self.ok.get(kind, 0) + 1
        self.latency_sum[kind] = self.latency_sum.get(kind, 0.0) + seconds
        self.latency_max[kind] = max(self.latency_max.get(kind, 0.0), seconds)

    def error(self, kind: str, message: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        lst = self.samples.setdefault(kind, [])
        if len(lst) < 5:
            lst.append(f"{time.strftime('%H:%M:%S')} {message}"[:600])

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def merge(self, other: dict[str, Any]) -> None:
        for name in ("ok", "errors", "notes", "latency_sum"):
            mine = getattr(self, name)
            for k, v in other[name].items():
                mine[k] = mine.get(k, 0) + v
        for k, v in other["latency_max"].items():
            self.latency_max[k] = max(self.latency_max.get(k, 0.0), v)
        for k, v in other["samples"].items():
            lst = self.samples.setdefault(k, [])
            lst.extend(v[: max(0, 5 - len(lst))])
        self.writes.extend(tuple(w) for w in other["writes"])  # type: ignore[misc]
        self.conn_log.update({int(k): v for k, v in other.get("conn_log", {}).items()})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "errors": self.errors, "samples": self.samples, "notes": self.notes,
            "latency_sum": self.latency_sum, "latency_max": self.latency_max,
            "writes": self.writes, "conn_log": CONN_LOG,
        }


# --------------------------------------------------------------------------------------------
# Client roles. Each runs in its own process until the deadline.
# --------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    role: str
    index: int
    port: int
    timeout: float
    keep_alive: float
    slow_rate: float
    slow_bytes: int
    run_id: str
    stats: Stats
    rng: random.Random
    shared: Shared
    on_pause: list[Callable[[], None]] = field(default_factory=list)

    def running(self) -> bool:
        """False once the deadline has passed. While the parent holds a checkpoint, close
        every connection (on_pause) and wait here until it is over."""
        sh = self.shared
        if sh.pause.is_set():
            for close in self.on_pause:
                close()
            with sh.paused.get_lock():
                sh.paused.value += 1
            while sh.pause.is_set() and time.time() < sh.deadline.value + 600:
                time.sleep(0.05)
            with sh.paused.get_lock():
                sh.paused.value -= 1
        return time.time() < sh.deadline.value


@dataclass
class Shared:
    """State shared between the parent and one client process."""

    deadline: Synchronized[float]  # time.time() based; pushed back by checkpoint pauses
    pause: Any  # multiprocessing Event: set while the parent takes an idle checkpoint
    paused: Synchronized[int]  # clients currently waiting in a checkpoint
    ok: Synchronized[int]  # progress counters of this process
    err: Synchronized[int]


class ConnHolder:
    """A keep-alive connection that is reopened after errors or a server-side close."""

    def __init__(self, ctx: Ctx, register: bool = True, **kw: Any) -> None:
        self.ctx, self.kw = ctx, kw
        self.conn: RawConn | None = None
        self.uses = 0
        if register:  # closed when a checkpoint pauses the clients
            ctx.on_pause.append(self.drop)

    def get(self) -> RawConn:
        c = self.conn
        # Never reuse a connection idle for close to the server's keep-alive timeout: the
        # server may legitimately close it just as the next request is sent.
        if c is not None and time.monotonic() - c.last_used > self.ctx.keep_alive * 0.6:
            self.drop()
            c = None
        if c is None:
            c = self.conn = RawConn(self.ctx.port, self.ctx.timeout, **self.kw)
            self.uses = 0
        self.uses += 1
        return c

    def drop(self, reset: bool = False) -> None:
        if self.conn is not None:
            self.conn.close(reset)
            self.conn = None


def op(ctx: Ctx, kind: str, fn: Callable[[], Any]) -> Any:
    """Run one checked operation; count success or record the error under `kind`."""
    t0 = time.monotonic()
    try:
        result = fn()
    except SoakError as e:
        ctx.stats.error(kind, str(e))
        ctx.shared.err.value += 1
        return None
    except Exception as e:  # a bug in the soak client or an unexpected failure: loud
        ctx.stats.error(kind, f"unexpected {e!r}: {traceback.format_exc(limit=4)}")
        ctx.shared.err.value += 1
        return None
    ctx.stats.success(kind, time.monotonic() - t0)
    ctx.shared.ok.value += 1
    return result


def exchange(holder: ConnHolder, req: Req, close: bool = False) -> Any:
    """Send one request on the held connection, read and check its response."""
    conn = holder.get()
    try:
        conn.send(req.wire(close))
        if len(req.body) >= 65536:
            conn.send(req.body)
        resp = conn.read_response(req.method)
        result = req.check(resp)
    except BaseException:
        holder.drop()
        raise
    if close:
        conn.expect_eof(ctx_timeout(holder))
        holder.drop()
    elif (resp.header("connection") or "").lower() == "close":
        holder.ctx.stats.note(f"server sent Connection: close ({req.kind})")
        holder.drop()
    return result


def ctx_timeout(holder: ConnHolder) -> float:
    return holder.ctx.timeout


def role_keepalive(ctx: Ctx) -> None:
    """Small requests on one keep-alive connection; every ~100th asks for Connection: close."""
    rng = ctx.rng
    holder = ConnHolder(ctx)
    makers: list[tuple[float, Callable[[], Req]]] = [
        (30, lambda: req_json(rng)),
        (20, lambda: req_item(rng)),
        (15, lambda: req_async(rng)),
        (15, lambda: req_echo(rng, rng.randint(0, 64 * 1024), "echo_small")),
        (10, lambda: req_stream(rng.randint(1, 64), rng.randint(1, 8192), "stream", False)),
        (10, lambda: req_stream(rng.randint(1, 64), rng.randint(1, 8192), "astream", True)),
    ]
    weights = [w for w, _ in makers]
    while ctx.running():
        req = rng.choices(makers, weights)[0][1]()
        close = rng.random() < 0.01
        kind = req.kind + ("_close" if close else "")
        op(ctx, kind, partial(exchange, holder, req, close))
    holder.drop()


def role_pipeline(ctx: Ctx) -> None:
    """Batches of 2-10 requests written at once (streams among them); responses checked in
    order. The batch is small enough (< 64 KiB) to sit in the socket buffers."""
    rng = ctx.rng
    holder = ConnHolder(ctx)
    makers: list[Callable[[], Req]] = [
        lambda: req_json(rng),
        lambda: req_item(rng),
        lambda: req_async(rng, 20),
        lambda: req_echo(rng, rng.randint(0, 2048), "echo_small"),
        lambda: req_stream(rng.randint(1, 200), rng.randint(1, 16384), "stream", False),
        lambda: req_stream(rng.randint(1, 200), rng.randint(1, 16384), "astream", True),
        req_pg_missing,
    ]
    while ctx.running():
        k = rng.randint(2, 10)
        batch = [rng.choice(makers)() for _ in range(k)]
        if rng.random() < 0.5:  # make sure plenty of requests queue behind a stream
            batch.insert(rng.randrange(len(batch)), req_stream(
                rng.randint(20, 400), rng.randint(512, 16384), "stream", rng.random() < 0.5))
        close_last = rng.random() < 0.05
        op(ctx, "pipe_batch", partial(pipelined, ctx, holder, batch, close_last))
    holder.drop()


def pipelined(ctx: Ctx, holder: ConnHolder, batch: list[Req], close_last: bool) -> None:
    conn = holder.get()
    wire = b"".join(r.wire(close_last and i == len(batch) - 1) for i, r in enumerate(batch))
    try:
        conn.send(wire)
    except SoakError:
        holder.drop()
        raise
    conn.last = "pipelined " + ", ".join(f"{r.method} {r.path[:40]}" for r in batch)
    behind_stream = -1
    for i, req in enumerate(batch):
        t0 = time.monotonic()
        where = f"pipelined request {i + 1}/{len(batch)} {req.method} {req.path[:60]}"
        if behind_stream >= 0:
            where += f" (behind the streamed response #{behind_stream + 1})"
        try:
            req.check(conn.read_response(req.method))
        except SoakError as e:
            holder.drop()
            ctx.stats.error("pipe_" + req.kind, f"{where}: {e}")
            ctx.shared.err.value += 1
            raise SoakError(f"batch aborted at {where}: {e}") from e
        ctx.stats.success("pipe_" + req.kind, time.monotonic() - t0)
        if req.streamed and behind_stream < 0:
            behind_stream = i
    if close_last:
        try:
            conn.expect_eof(ctx.timeout)
        finally:
            holder.drop()


def role_bigio(ctx: Ctx) -> None:
    """1-8 MB uploads echoed back, 1-8 MB downloads, streams of many chunks (up to 8 MB)."""
    rng = ctx.rng
    holder = ConnHolder(ctx)
    first = True
    while ctx.running():
        size = MAX_BODY if first else rng.randint(MiB, MAX_BODY)  # start with the largest
        choice = rng.randrange(4)
        if choice == 0:
            req = req_echo(rng, size, "upload")
        elif choice == 1:
            req = req_download(size)
        elif choice == 2:
            req = req_stream(rng.randint(64, 2048), 4096, "big_stream", False)
        else:
            req = req_stream(size // 16384, 16384, "big_astream", True)
        if first:
            for r in (req_echo(rng, size, "upload"), req_download(size)):
                op(ctx, r.kind, partial(exchange, holder, r))
            first = False
            continue
        op(ctx, req.kind, partial(exchange, holder, req))
    holder.drop()


def role_slow(ctx: Ctx) -> None:
    """Reads big responses at `slow_rate` bytes/s with a small receive buffer, so the server
    has to hold most of the body for longer than its keep-alive timeout; every byte must
    arrive, and the connection must then serve another request."""
    rng = ctx.rng
    holder = ConnHolder(ctx, rcvbuf=32 * 1024, rate=ctx.slow_rate)
    turn = 0
    while ctx.running():
        turn += 1
        if turn % 2:
            req = req_download(ctx.slow_bytes, "slow_download")
        else:
            size = 16384
            req = req_stream(max(1, ctx.slow_bytes // 2 // size), size, "slow_stream",
                             turn % 4 == 0)
        if op(ctx, req.kind, partial(exchange, holder, req)) is not None:
            # The same connection must still serve a request right after the slow response.
            op(ctx, "slow_followup", lambda: exchange(holder, req_json(rng)))
    holder.drop()


def role_vanish(ctx: Ctx) -> None:
    """Clients that go away mid-request or mid-response; after each, a fresh connection must
    still be answered correctly (vanish_probe)."""
    global CONN_LOG_ROLE
    rng = ctx.rng
    scenarios = [half_head, half_body, abandon_download, abandon_stream, abandon_async,
                 abandon_pg_write, abandon_pipeline, idle_connection]
    weights = [3, 3, 3, 3, 2, 1, 2, 0.3]
    while ctx.running():
        scenario = rng.choices(scenarios, weights)[0]
        CONN_LOG_ROLE = f"vanish-{ctx.index} {scenario.__name__}"
        op(ctx, "vanish", partial(scenario, ctx))
        CONN_LOG_ROLE = f"vanish-{ctx.index}"
        ctx.stats.note(f"vanish: {scenario.__name__}")
        probe = ConnHolder(ctx, register=False)
        op(ctx, "vanish_probe", partial(exchange, probe, req_json(rng), True))
        probe.drop()


def _tolerant_send(conn: RawConn, data: bytes | memoryview) -> None:
    """Send, ignoring a server that closed first (it may answer a half request with 400)."""
    with contextlib.suppress(SoakError):
        conn.send(data)


def half_head(ctx: Ctx) -> None:
    head = build_request("GET", f"/json?seq={ctx.rng.randrange(10**9)}")
    conn = RawConn(ctx.port, ctx.timeout)
    _tolerant_send(conn, head[: ctx.rng.randint(1, len(head) - 3)])
    time.sleep(ctx.rng.random() * 0.2)
    conn.close(reset=ctx.rng.random() < 0.3)


def half_body(ctx: Ctx) -> None:
    size = ctx.rng.randint(MiB, MAX_BODY)
    conn = RawConn(ctx.port, ctx.timeout)
    _tolerant_send(conn, build_request("POST", "/echo", content_length=size))
    _tolerant_send(conn, memoryview(PATTERN)[: ctx.rng.randint(0, size - 1)])
    time.sleep(ctx.rng.random() * 0.2)
    conn.close(reset=ctx.rng.random() < 0.3)


def abandon_download(ctx: Ctx) -> None:
    conn = RawConn(ctx.port, ctx.timeout, rcvbuf=64 * 1024)
    conn.send(build_request("GET", f"/download/{MAX_BODY}"))
    want = ctx.rng.randint(0, 2 * MiB)
    with contextlib.suppress(SoakError):
        while conn.received < want:
            conn._fill("an abandoned download")
    conn.close(reset=ctx.rng.random() < 0.5)


def abandon_stream(ctx: Ctx) -> None:
    conn = RawConn(ctx.port, ctx.timeout, rcvbuf=64 * 1024)
    route = ctx.rng.choice(["/stream", "/astream"])
    conn.send(build_request("GET", f"{route}?n=2048&size=4096"))
    want = ctx.rng.randint(0, 2 * MiB)
    with contextlib.suppress(SoakError):
        while conn.received < want:
            conn._fill("an abandoned stream")
    conn.close(reset=ctx.rng.random() < 0.5)


def abandon_async(ctx: Ctx) -> None:
    conn = RawConn(ctx.port, ctx.timeout)
    conn.send(build_request("GET", f"/async?ms={ctx.rng.randint(50, 500)}"))
    time.sleep(ctx.rng.random() * 0.05)
    conn.close(reset=ctx.rng.random() < 0.5)


def abandon_pg_write(ctx: Ctx) -> None:
    # The row may or may not be committed; it is never acknowledged, so it is not counted.
    body = json.dumps({"run_id": ctx.run_id, "token": "vanished-" + uuid.uuid4().hex,
                       "payload": "x"}).encode()
    conn = RawConn(ctx.port, ctx.timeout)
    conn.send(build_request("POST", "/pg/write", body, content_type="application/json") + body)
    conn.close(reset=ctx.rng.random() < 0.5)


def abandon_pipeline(ctx: Ctx) -> None:
    rng = ctx.rng
    batch = [req_json(rng), req_stream(500, 8192, "stream", rng.random() < 0.5),
             req_json(rng), req_async(rng), req_item(rng)]
    conn = RawConn(ctx.port, ctx.timeout, rcvbuf=64 * 1024)
    conn.send(b"".join(r.wire() for r in batch))
    with contextlib.suppress(SoakError):
        batch[0].check(conn.read_response())
        want = conn.received + rng.randint(0, MiB)
        while conn.received < want:
            conn._fill("an abandoned pipeline")
    conn.close(reset=rng.random() < 0.5)


def idle_connection(ctx: Ctx) -> None:
    """Connect and send nothing: the server must close the connection by itself."""
    conn = RawConn(ctx.port, ctx.timeout)
    t0 = time.monotonic()
    try:
        conn.expect_eof(ctx.keep_alive + 15)
    finally:
        conn.close()
    ctx.stats.note(f"idle connection closed by server after ~{round(time.monotonic() - t0)}s")


def role_pg(ctx: Ctx) -> None:
    """PostgreSQL writes (insert in a transaction, id returned) and reads of acknowledged
    rows, through httpx on a keep-alive connection pool."""
    import httpx

    acked: list[tuple[int, str, str]] = []

    def new_client() -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{ctx.port}", timeout=ctx.timeout)

    clients = [new_client()]

    def reopen() -> None:  # a checkpoint: close every connection, start afresh
        clients[0].close()
        clients[0] = new_client()

    ctx.on_pause.append(reopen)
    try:
        pg_loop(ctx, clients, acked)
    finally:
        clients[0].close()


def pg_loop(ctx: Ctx, clients: list[Any], acked: list[tuple[int, str, str]]) -> None:
    import httpx

    rng = ctx.rng

    def checked(r: httpx.Response, status: int) -> Any:
        cl = r.headers.get("content-length")
        if cl is None or int(cl) != len(r.content):
            raise SoakError(f"Content-Length {cl} but {len(r.content)} bytes")
        if r.status_code != status:
            raise SoakError(f"status {r.status_code}, expected {status}: {r.text[:200]}")
        return r.json()

    def write() -> None:
        token = f"{ctx.role}{ctx.index}-{uuid.uuid4().hex}"
        payload = rand_token(rng, rng.randint(1, 4000))
        try:
            r = clients[0].post("/pg/write", json={"run_id": ctx.run_id, "token": token,
                                               "payload": payload})
        except httpx.HTTPError as e:
            raise SoakError(f"pg write: {e!r}") from e
        got = checked(r, 200)
        if got.get("token") != token or not isinstance(got.get("id"), int):
            raise SoakError(f"pg write answered {got!r} for token {token}")
        acked.append((got["id"], token, payload))
        ctx.stats.writes.append((got["id"], token, len(payload)))

    def read() -> None:
        row_id, token, payload = rng.choice(acked)
        try:
            r = clients[0].get(f"/pg/read/{row_id}")
        except httpx.HTTPError as e:
            raise SoakError(f"pg read: {e!r}") from e
        got = checked(r, 200)
        want = {"id": row_id, "run_id": ctx.run_id, "token": token, "payload": payload}
        if got != want:
            raise SoakError(f"pg read of acknowledged row {row_id}: {got!r}")

    def missing() -> None:
        try:
            r = clients[0].get(f"/pg/read/-{rng.randint(1, 10**9)}")
        except httpx.HTTPError as e:
            raise SoakError(f"pg read: {e!r}") from e
        if checked(r, 404) != {"detail": "no such row"}:
            raise SoakError(f"404 body {r.text[:200]}")

    while ctx.running():
        x = rng.random()
        if not acked or x < 0.45:
            op(ctx, "pg_write", write)
        elif x < 0.95:
            op(ctx, "pg_read", read)
        else:
            op(ctx, "pg_read_missing", missing)


ROLES: dict[str, Callable[[Ctx], None]] = {
    "keepalive": role_keepalive,
    "pipeline": role_pipeline,
    "bigio": role_bigio,
    "slow": role_slow,
    "vanish": role_vanish,
    "pg": role_pg,
}


def client_main(role: str, index: int, params: dict[str, Any], queue: Any, shared: Shared) -> None:
    global CONN_LOG_ROLE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops us
    CONN_LOG_ROLE = f"{role}-{index}"
    stats = Stats()
    ctx = Ctx(role=role, index=index, stats=stats, shared=shared,
              rng=random.Random(f"{params['seed']}-{role}-{index}"),
              **{k: v for k, v in params.items() if k != "seed"})
    try:
        ROLES[role](ctx)
    except Exception as e:  # a crashed role must fail the run, not disappear
        stats.error(f"{role}_crashed", f"{e!r}: {traceback.format_exc(limit=6)}")
    queue.put((role, index, stats.as_dict()))


# --------------------------------------------------------------------------------------------
# Server process: start, sample, stop.
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not listening on {port} after {timeout}s")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def annotate_fd(line: str, conn_log: dict[int, str], server_port: int) -> str:
    """Add what the client did with the connection to a describe_fds line, when known."""
    if f"tcp :{server_port} -> :" not in line:
        return line
    try:
        port = int(line.split(" -> :")[1].split()[0])
    except (IndexError, ValueError):
        return line
    return f"{line}  [client port {port}: {conn_log.get(port, 'unknown (httpx or wrk)')}]"


def describe_fds(pid: int) -> list[str]:
    """Every open fd of the server with, for TCP sockets, its ports and state."""
    states = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
              "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
              "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}
    inodes: dict[str, str] = {}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as f:
            for line in list(f)[1:]:
                cols = line.split()
                local, remote, st, inode = cols[1], cols[2], cols[3], cols[9]
                inodes[inode] = (f"tcp :{int(local.split(':')[1], 16)} -> "
                                 f":{int(remote.split(':')[1], 16)} {states.get(st, st)}")
    out = []
    for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            target += " " + inodes.get(target[8:-1], "")
        out.append(f"{fd}: {target}")
    return out


class Sampler(threading.Thread):
    """Samples the server's RSS and fd count every `interval` seconds."""

    def __init__(self, pid: int, interval: float, t0: float,
                 progress: Callable[[], tuple[int, int]]) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.t0, self.progress = pid, interval, t0, progress
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, KiB, fds)
        self.stop_event = threading.Event()
        self.last_print = 0.0

    def sample(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            t = time.monotonic() - self.t0
            self.samples.append((t, rss_kib(self.pid), fd_count(self.pid)))
            if t - self.last_print >= 15:
                self.last_print = t
                ok, err = self.progress()
                print(f"  [{t:6.0f}s] rss {self.samples[-1][1] / 1024:7.1f} MiB  "
                      f"fds {self.samples[-1][2]:4d}  checked ok {ok}  errors {err}", flush=True)

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)


def start_wrk(port: int, connections: int, seconds: int) -> subprocess.Popen[str] | None:
    wrk = shutil.which("wrk")
    if connections <= 0:
        return None
    if wrk is None:
        print("wrk not installed: no background load")
        return None
    return subprocess.Popen(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
         f"http://127.0.0.1:{port}/json?seq=1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wrk_result(proc: subprocess.Popen[str], stats: Stats) -> None:
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        stats.error("wrk", "wrk did not finish")
    requests = 0
    for line in out.splitlines():
        line = line.strip()
        if "requests in" in line:
            requests = int(line.split()[0])
        if line.startswith(("Non-2xx", "Socket errors")):  # bad statuses, broken connections
            stats.error("wrk", line)
    stats.ok["wrk"] = requests


# --------------------------------------------------------------------------------------------
# PostgreSQL verification: every acknowledged write must be in the table.
# --------------------------------------------------------------------------------------------


def pg_rows(dsn: str, run_id: str) -> dict[int, tuple[str, int]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(
            "SELECT id, token, length(payload) FROM soak_writes WHERE run_id = %s", (run_id,))
        return {int(r[0]): (r[1], int(r[2])) for r in cur.fetchall()}


def pg_cleanup(dsn: str, run_id: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM soak_writes WHERE run_id = %s", (run_id,))


def verify_writes(
    dsn: str, run_id: str, writes: Iterable[tuple[int, str, int]]
) -> tuple[dict[str, int], list[str]]:
    rows = pg_rows(dsn, run_id)
    acked = list(writes)
    missing = [w for w in acked if w[0] not in rows]
    wrong = [w for w in acked if w[0] in rows and rows[w[0]] != (w[1], w[2])]
    dup_ids = len(acked) - len({w[0] for w in acked})
    acked_ids = {w[0] for w in acked}
    unacked = [i for i, (tok, _) in rows.items() if i not in acked_ids]
    vanished = sum(1 for i in unacked if rows[i][0].startswith("vanished-"))
    figures = {"acknowledged": len(acked), "rows_in_table": len(rows), "missing": len(missing),
               "wrong_content": len(wrong), "duplicate_ids": dup_ids,
               "unacknowledged_rows": len(unacked), "of_which_from_vanished_clients": vanished}
    problems = []
    if missing:
        problems.append(f"{len(missing)} acknowledged writes missing from soak_writes "
                        f"(lost commits), e.g. ids {[w[0] for w in missing[:10]]}")
    if wrong:
        problems.append(f"{len(wrong)} acknowledged rows with other content, e.g. {wrong[:3]}")
    if dup_ids:
        problems.append(f"{dup_ids} ids acknowledged twice")
    return figures, problems


# --------------------------------------------------------------------------------------------
# The run.
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=600, help="seconds of traffic (600)")
    p.add_argument("--warmup", type=float, default=0.2,
                   help="fraction of the run before the RSS baseline is taken (0.2)")
    p.add_argument("--keepalive-clients", type=int, default=2)
    p.add_argument("--pipeline-clients", type=int, default=2)
    p.add_argument("--bigio-clients", type=int, default=1)
    p.add_argument("--slow-clients", type=int, default=1)
    p.add_argument("--vanish-clients", type=int, default=1)
    p.add_argument("--pg-clients", type=int, default=2)
    p.add_argument("--wrk-connections", type=int, default=0,
                   help="background wrk load on /json with this many connections (0: none)")
    p.add_argument("--slow-rate", type=float, default=MiB, help="slow readers' bytes/s (1 MiB)")
    p.add_argument("--slow-bytes", type=int, default=MAX_BODY,
                   help="size of the slow readers' downloads (8 MiB; streams are half)")
    p.add_argument("--timeout", type=float, default=60, help="client socket timeout, seconds")
    p.add_argument("--keep-alive", type=float, default=5.0,
                   help="the server's timeout_keep_alive (FasterAPI's default, 5 s)")
    p.add_argument("--sample-interval", type=float, default=2.0)
    p.add_argument("--malloc", choices=("fixed", "default"), default="fixed",
                   help="fixed (default): the server runs with glibc's mmap threshold fixed at "
                        "128 KiB (GLIBC_TUNABLES), so large buffers go back to the OS when "
                        "freed and idle RSS measures live memory; default: glibc's dynamic "
                        "threshold, where idle RSS also reflects heap fragmentation")
    p.add_argument("--rss-limit", type=float, default=0.05,
                   help="allowed RSS growth after warm-up, as a fraction (0.05)")
    p.add_argument("--fd-settle", type=float, default=30.0,
                   help="seconds the fd count may take to return to baseline after the clients")
    p.add_argument("--dsn", default=os.environ.get("FASTERAPI_PG_DSN", DEFAULT_DSN))
    p.add_argument("--pg-conns", type=int, default=4, help="server's PgPool size (fixed)")
    p.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    p.add_argument("--fasterapi-root", default=None,
                   help="serve the fasterapi package of this tree (e.g. a snapshot of a "
                        "commit) instead of the installed one; its extension is taken from "
                        "FASTERAPI_NATIVE_DIR")
    p.add_argument("--seed", default=None, help="client RNG seed (default: random)")
    p.add_argument("--server-log", default=None, help="file for the server's output")
    p.add_argument("--json-report", default=None, help="write the summary as JSON here")
    p.add_argument("--keep-rows", action="store_true", help="leave this run's rows in the table")
    return p.parse_args(argv)


def tested_tree(args: argparse.Namespace) -> str:
    """Which fasterapi the server runs: the tree, its commit, and whether it had changes."""
    tree = Path(args.fasterapi_root).resolve() if args.fasterapi_root else ROOT
    try:
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "src",
                                "bindings", "fasterapi"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return str(tree)
    if head.returncode != 0:
        return f"{tree} (not a git checkout)"
    changed = len(dirty.stdout.splitlines())
    state = f", {changed} uncommitted change(s) in src/bindings/fasterapi" if changed else ""
    return f"{tree} at {head.stdout.strip()}{state}"


def pg_reachable(dsn: str) -> bool:
    u = urlsplit(dsn)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def prime(port: int, timeout: float, run_id: str) -> list[str]:
    """One request of each kind, sequentially, before the clients start."""
    rng = random.Random(1)
    problems = []
    stats = Stats()
    shared = Shared(mp.Value("d", time.time() + 60), mp.Event(), mp.Value("i", 0),
                    mp.Value("q", 0), mp.Value("q", 0))
    holder = ConnHolder(Ctx("prime", 0, port, timeout, 5.0, MiB, MiB, run_id, stats, rng, shared))
    body = json.dumps({"run_id": run_id, "token": "prime", "payload": "p"}).encode()
    reqs = [req_json(rng), req_item(rng), req_async(rng), req_echo(rng, 1000, "echo"),
            req_echo(rng, MiB, "upload"), req_download(MiB), req_stream(10, 1000, "stream", False),
            req_stream(10, 1000, "astream", True), req_pg_missing(),
            Req("pg_write", "POST", "/pg/write", lambda r: _status(r, 200), body=body,
                content_type="application/json")]
    for req in reqs:
        try:
            exchange(holder, req)
        except SoakError as e:
            problems.append(f"priming {req.method} {req.path}: {e}")
    holder.drop()
    return problems


def settle_fds(pid: int, baseline: int, seconds: float) -> tuple[int, float]:
    """Wait until the fd count is back to `baseline` (or `seconds` passed): (count, waited)."""
    t0 = time.monotonic()
    n = fd_count(pid)
    while n > baseline and time.monotonic() - t0 < seconds:
        time.sleep(0.5)
        n = fd_count(pid)
    return n, time.monotonic() - t0


def stable_fd_count(pid: int, seconds: float = 10) -> int:
    """The fd count once it has not changed for a second."""
    t0 = time.monotonic()
    last, since = fd_count(pid), time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(0.2)
        n = fd_count(pid)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= 1.0:
            break
    return last


def idle_rss(pid: int) -> int:
    """The median of three RSS readings, a second after the server went idle."""
    time.sleep(1.0)
    readings = []
    for _ in range(3):
        readings.append(rss_kib(pid))
        time.sleep(0.5)
    return sorted(readings)[1]


def take_checkpoint(
    args: argparse.Namespace, pid: int, pause: Any, paused: Synchronized[int], clients: int,
    fd_target: int,
) -> dict[str, Any]:
    """Pause the clients, let the server's fds settle, measure its idle RSS, resume."""
    t = time.monotonic()
    pause.set()
    try:
        bound = t + args.timeout * 2 + args.keep_alive + 20  # the longest client operation
        while paused.value < clients and time.monotonic() < bound:
            time.sleep(0.1)
        n = paused.value
        fds, fd_wait = settle_fds(pid, fd_target, min(args.fd_settle, args.keep_alive + 10))
        rss = idle_rss(pid)
    finally:
        pause.clear()
    return {"rss_kib": rss, "fds": fds, "fd_wait_s": round(fd_wait, 1), "clients_paused": n,
            "clients": clients, "pause_s": time.monotonic() - t}


def server_log_findings(text: str) -> list[str]:
    """The exception line closing each traceback in the server's log."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            found.append(lines[j] if j < len(lines) else "(truncated traceback)")
    return found


def server_log_errors(text: str) -> dict[str, int]:
    """ERROR/WARNING lines of the server's log, numbers masked, counted."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith(("ERROR:", "WARNING:", "CRITICAL:")):
            key = re.sub(r"0x[0-9a-f]+|-?\d+", "N", line)[:200]
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def fmt_mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def run(args: argparse.Namespace) -> int:
    if not pg_reachable(args.dsn):
        print(f"PostgreSQL not reachable at {args.dsn}", file=sys.stderr)
        return 2
    run_id = f"soak-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    seed = args.seed if args.seed is not None else uuid.uuid4().hex[:8]
    port = args.port or free_port()
    log_path = Path(args.server_log or tempfile.mkstemp(prefix="soak-server-", suffix=".log")[1])
    env = dict(os.environ, SOAK_DSN=args.dsn, SOAK_PG_CONNS=str(args.pg_conns))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if args.malloc == "fixed":
        tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
        env["GLIBC_TUNABLES"] = ":".join([*tunables, "glibc.malloc.mmap_threshold=131072"])
    if args.fasterapi_root:
        env["SOAK_FASTERAPI_ROOT"] = str(Path(args.fasterapi_root).resolve())
    print(f"soak {run_id}: {args.duration:.0f}s, port {port}, seed {seed}, "
          f"server log {log_path}", flush=True)
    violations: list[str] = []
    stats = Stats()
    procs: list[BaseProcess] = []
    log_file = open(log_path, "wb")  # closed in the finally below
    server = subprocess.Popen(
        [sys.executable, str(HERE / "app.py"), "--port", str(port),
         "--keep-alive", str(args.keep_alive)],
        cwd=HERE, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    # A watchdog: the whole run is bounded even if something hangs.
    checkpoint_bound = args.timeout * 2 + args.keep_alive * 2 + 40
    bound = args.duration + 2 * checkpoint_bound + args.timeout * 2 + args.fd_settle + 180
    watchdog = threading.Timer(bound, _watchdog_fire, (server, procs, bound))
    watchdog.daemon = True
    watchdog.start()
    report: dict[str, Any] = {"run_id": run_id, "seed": seed, "duration": args.duration,
                              "tested": tested_tree(args), "malloc": args.malloc,
                              "pg_port": urlsplit(args.dsn).port or 5432}
    print(f"testing {report['tested']} (malloc: {args.malloc})", flush=True)
    try:
        try:
            wait_for_port(port, server, 60)
        except RuntimeError as e:
            print(f"{e}\n--- server log ---\n{log_path.read_text(errors='replace')}")
            return 2
        pid = server.pid
        loaded = ""  # which package and extension the server loaded (its startup prints it)
        for _ in range(100):
            loaded = next((x for x in log_path.read_text(errors="replace").splitlines()
                           if x.startswith("soak-app: ")), "")
            if loaded or server.poll() is not None:
                break
            time.sleep(0.1)
        if loaded:
            report["tested"] += "; " + loaded[len("soak-app: "):]
            print(loaded, flush=True)
        problems = prime(port, args.timeout, run_id)
        if problems:
            violations += problems
        fd_base = stable_fd_count(pid)
        rss_idle_start = rss_kib(pid)
        print(f"server pid {pid}: idle after priming rss {fmt_mib(rss_idle_start)}, "
              f"{fd_base} fds", flush=True)

        ctx_fork = mp.get_context("fork")
        queue = ctx_fork.Queue()
        pause, paused = ctx_fork.Event(), ctx_fork.Value("i", 0)
        deadline = ctx_fork.Value("d", time.time() + args.duration)
        shareds: list[Shared] = []
        params = {"port": port, "timeout": args.timeout, "keep_alive": args.keep_alive,
                  "slow_rate": args.slow_rate, "slow_bytes": args.slow_bytes,
                  "run_id": run_id, "seed": seed}
        plan = [("keepalive", args.keepalive_clients), ("pipeline", args.pipeline_clients),
                ("bigio", args.bigio_clients), ("slow", args.slow_clients),
                ("vanish", args.vanish_clients), ("pg", args.pg_clients)]
        for role, count in plan:
            for i in range(count):
                sh = Shared(deadline, pause, paused, ctx_fork.Value("q", 0),
                            ctx_fork.Value("q", 0))
                shareds.append(sh)
                proc = ctx_fork.Process(target=client_main, name=f"soak-{role}-{i}",
                                        args=(role, i, params, queue, sh))
                proc.start()
                procs.append(proc)
        wrk = start_wrk(port, args.wrk_connections, int(args.duration))
        t0 = time.monotonic()
        sampler = Sampler(pid, args.sample_interval, t0, lambda: (
            sum(x.ok.value for x in shareds), sum(x.err.value for x in shareds)))
        sampler.start()

        # Idle checkpoints: at the end of the warm-up and half-way through the rest, the
        # clients finish what they are doing, close their connections and wait; the server's
        # fds settle and its RSS is measured with nothing in flight. The same measurement
        # after the clients stop is compared with the first: transient buffers (8 MB bodies)
        # make RSS under load swing by tens of MiB, so only idle figures are comparable.
        checkpoints: list[dict[str, Any]] = []
        fd_target = fd_base + (args.wrk_connections if wrk is not None else 0)
        paused_total = 0.0
        for frac in (args.warmup, args.warmup + (1 - args.warmup) / 2):
            target = t0 + paused_total + frac * args.duration
            while time.monotonic() < target and server.poll() is None:
                time.sleep(0.2)
            if server.poll() is not None:
                break
            cp = take_checkpoint(args, pid, pause, paused, sum(p.is_alive() for p in procs),
                                 fd_target)
            cp["traffic_s"] = round(frac * args.duration)
            paused_total += cp["pause_s"]
            deadline.value += cp["pause_s"]
            checkpoints.append(cp)
            print(f"  checkpoint after {cp['traffic_s']}s of traffic: idle rss "
                  f"{fmt_mib(cp['rss_kib'])}, fds {cp['fds']} (baseline {fd_base}), "
                  f"{cp['clients_paused']} clients paused, {cp['pause_s']:.1f}s", flush=True)

        # Collect each client's result (they stop at the deadline, finishing the operation
        # under way, each bounded by the socket timeout).
        results = 0
        collect_until = time.monotonic() + max(0.0, deadline.value - time.time()) + \
            args.timeout * 2 + 30
        while results < len(procs) and time.monotonic() < collect_until:
            try:
                _role, _index, data = queue.get(timeout=1)
            except Empty:
                if server.poll() is not None and not any(p.is_alive() for p in procs):
                    break
                continue
            stats.merge(data)
            results += 1
        traffic_seconds = time.monotonic() - t0 - paused_total
        sampler.stop_event.set()
        sampler.join()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                violations.append(f"client {p.name} did not stop within its time bound")
                stats.error("client_hung", p.name)
                p.kill()
                p.join()
        if results < len(procs):
            violations.append(f"only {results} of {len(procs)} clients reported")
        if wrk is not None:
            wrk_result(wrk, stats)

        samples = sampler.samples
        if server.poll() is not None:
            violations.append(f"server died during the run (exit code {server.returncode})")
            fd_end, fd_wait, rss_idle_end = -1, 0.0, -1
        else:
            fd_end, fd_wait = settle_fds(pid, fd_base, args.fd_settle)
            rss_idle_end = idle_rss(pid)
            if fd_end > fd_base:
                violations.append(
                    f"fd count {fd_end} {fd_wait:.0f}s after the clients stopped, baseline "
                    f"{fd_base}: {fd_end - fd_base} descriptor(s) leaked")
                report["fds_at_end"] = [annotate_fd(x, stats.conn_log, port)
                                        for x in describe_fds(pid)]

        # RSS: idle after warm-up (first checkpoint) against the later idle measurements.
        rss_fig: dict[str, Any] = {
            "samples": len(samples), "idle_start_kib": rss_idle_start,
            "checkpoints": checkpoints, "idle_end_kib": rss_idle_end,
            "busy_max_kib": max((x[1] for x in samples), default=-1),
            "busy_min_kib": min((x[1] for x in samples), default=-1),
        }
        if checkpoints and rss_idle_end > 0:
            base = checkpoints[0]["rss_kib"]
            later = [c["rss_kib"] for c in checkpoints[1:]] + [rss_idle_end]
            growth = (max(later) - base) / base
            warm_s = args.duration * args.warmup
            post = [(t, kib) for t, kib, _ in samples if t > warm_s]
            rss_fig.update(warmup_idle_kib=base, later_idle_max_kib=max(later), growth=growth,
                           busy_slope_kib_per_min=_slope(post) * 60)
            if growth >= args.rss_limit:
                violations.append(
                    f"idle RSS grew {growth * 100:.1f}% after warm-up ({fmt_mib(base)} -> "
                    f"{fmt_mib(max(later))}), limit {args.rss_limit * 100:.0f}%")
        else:
            violations.append("no idle RSS measurement after warm-up: memory not judged")
        fd_fig = {"baseline": fd_base, "max_during": max((s[2] for s in samples), default=-1),
                  "end": fd_end, "settle_seconds": round(fd_wait, 1)}

        # PostgreSQL: no lost commit.
        try:
            pg_fig, pg_problems = verify_writes(args.dsn, run_id, stats.writes)
        except Exception as e:
            pg_fig, pg_problems = {}, [f"could not verify the writes: {e!r}"]
        violations += pg_problems

        # Request errors and coverage.
        for kind, n in sorted(stats.errors.items()):
            violations.append(f"{n} {kind} error(s), e.g. {stats.samples.get(kind, ['?'])[0]}")
        for role, count in plan:  # attempted at all? (failures are reported above)
            for kind in REQUIRED_KINDS[role] if count else ():
                if stats.ok.get(kind, 0) == 0 and stats.errors.get(kind, 0) == 0:
                    violations.append(f"no {kind} request was made: that traffic was untested")

        # Stop the server: it must exit cleanly within its graceful timeout.
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=45)
                if code != 0:
                    violations.append(f"server exited with {code} after SIGTERM")
            except subprocess.TimeoutExpired:
                violations.append("server did not exit within 45s of SIGTERM")
                server.kill()
                server.wait()
        log_file.flush()
        log_text = log_path.read_text(errors="replace")
        tracebacks = server_log_findings(log_text)
        report["server_log_errors"] = server_log_errors(log_text)
        if tracebacks:
            distinct = sorted({re.sub(r"0x[0-9a-f]+|\d+", "N", t)[:300] for t in tracebacks})
            violations.append(f"server logged {len(tracebacks)} traceback(s): {distinct[:5]}")
        if not args.keep_rows:
            with contextlib.suppress(Exception):
                pg_cleanup(args.dsn, run_id)

        report.update(
            traffic_seconds=round(traffic_seconds, 1), ok=stats.ok, errors=stats.errors,
            error_samples=stats.samples, notes=stats.notes, rss=rss_fig, fds=fd_fig,
            pg=pg_fig, server_tracebacks=tracebacks[:50], violations=violations,
            rss_timeline=[(round(t), kib) for t, kib, _ in samples],
            server_log=str(log_path),
        )
        print_summary(report, stats)
    finally:
        watchdog.cancel()
        for p in procs:
            if p.is_alive():
                p.kill()
        if server.poll() is None:
            server.kill()
            server.wait()
        log_file.close()
    if args.json_report:
        Path(args.json_report).write_text(json.dumps(report, indent=2, default=str))
    return 1 if violations else 0


def _watchdog_fire(
    server: subprocess.Popen[bytes], procs: list[BaseProcess], bound: float
) -> None:
    print(f"SOAK WATCHDOG: run exceeded its {bound:.0f}s bound; killing everything",
          file=sys.stderr, flush=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()
    with contextlib.suppress(Exception):
        server.kill()
    os._exit(3)


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope (KiB per second) of RSS over time."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


def print_summary(report: dict[str, Any], stats: Stats) -> None:
    print(f"\n=== soak summary ({report['run_id']}, {report['traffic_seconds']}s of traffic)")
    print(f"tested: {report['tested']}; malloc: {report['malloc']}; seed {report['seed']}")
    kinds = sorted(set(stats.ok) | set(stats.errors))
    print(f"{'kind':24} {'ok':>9} {'errors':>7} {'avg ms':>9} {'max ms':>9}")
    for k in kinds:
        ok = stats.ok.get(k, 0)
        avg = stats.latency_sum.get(k, 0.0) / ok * 1000 if ok else 0.0
        print(f"{k:24} {ok:9d} {stats.errors.get(k, 0):7d} {avg:9.1f} "
              f"{stats.latency_max.get(k, 0.0) * 1000:9.1f}")
    ok_n = sum(v for k, v in stats.ok.items() if k != "pipe_batch")
    err_n = sum(v for k, v in stats.errors.items() if k != "pipe_batch")
    print(f"{'total (w/o pipe_batch)':24} {ok_n:9d} {err_n:7d}   "
          "(pipe_batch counts batches; a failed batch is also counted under its pipe_<kind>)")
    if stats.samples:
        print("\nerror samples:")
        for k, msgs in sorted(stats.samples.items()):
            for m in msgs[:3]:
                print(f"  {k}: {m}")
    if stats.notes:
        print("\nnotes:")
        for k, n in sorted(stats.notes.items()):
            print(f"  {n:6d}  {k}")
    rss = report["rss"]
    cps = ", ".join(f"after {c['traffic_s']}s {fmt_mib(c['rss_kib'])}" for c in rss["checkpoints"])
    end = fmt_mib(rss["idle_end_kib"]) if rss["idle_end_kib"] > 0 else "n/a"
    print(f"\nRSS idle: start {fmt_mib(rss['idle_start_kib'])}; checkpoints {cps or 'none'}; "
          f"end {end}")
    if "growth" in rss:
        print(f"RSS growth after warm-up (idle, judged): {rss['growth'] * 100:+.1f}% "
              f"({fmt_mib(rss['warmup_idle_kib'])} -> {fmt_mib(rss['later_idle_max_kib'])})")
    print(f"RSS under load: min {fmt_mib(rss['busy_min_kib'])}, max "
          f"{fmt_mib(rss['busy_max_kib'])}, trend after warm-up "
          f"{rss.get('busy_slope_kib_per_min', 0) / 1024:+.2f} MiB/min ({rss['samples']} samples)")
    fds = report["fds"]
    print(f"fds: baseline {fds['baseline']}, max during run {fds['max_during']}, after clients "
          f"stopped {fds['end']} (waited {fds['settle_seconds']}s)")
    extra = [x for x in report.get("fds_at_end", []) if " -> :" in x and "LISTEN" not in x
             and f":{report['pg_port']} " not in x + " "]
    if extra:
        states: dict[str, int] = {}
        origins: dict[str, int] = {}
        for x in extra:
            sock, _, note = x.partition("  [client port ")
            state = sock.rsplit(" ", 1)[-1]
            states[state] = states.get(state, 0) + 1
            origin = note.split(": ", 1)[1].split(":", 1)[0] if ": " in note else "unknown"
            origins[origin] = origins.get(origin, 0) + 1
        print(f"  client sockets still open in the server: {states}; last used by {origins}")
        for x in extra[:5]:
            print(f"    {x[:300]}")
    if report["pg"]:
        print("PostgreSQL writes: " + ", ".join(f"{k} {v}" for k, v in report["pg"].items()))
    print(f"server log: {report['server_log']} ({len(report['server_tracebacks'])} tracebacks)")
    for line, n in list(report.get("server_log_errors", {}).items())[:8]:
        print(f"  {n:6d}  {line}")
    if report["violations"]:
        print(f"\nFAIL: {len(report['violations'])} violation(s):")
        for v in report["violations"]:
            print(f"  - {v}")
    else:
        print("\nPASS: no violation")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
