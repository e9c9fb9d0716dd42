"""MCP tools/call throughput: fasterapi.mcp and the official SDK, side by side, one load client.

The same `add(a, b) -> int` tool (examples/mcp/bench_fasterapi.py, examples/mcp/bench_sdk.py)
is driven by this script for both servers:

  stdio       sequential tools/call over newline-delimited JSON-RPC on the server's stdin/stdout
  http-seq    sequential tools/call over Streamable HTTP (POST /mcp, one keep-alive connection)
  http-c64    the same with 64 connections at once (one asyncio loop, raw sockets)

Each row: calls/s (wall), server CPU per call (user+sys of the server process itself, its
children not included, before/after the timed calls: /proc/PID/task/*/schedstat in ns, else
/proc/PID/stat in clock ticks), client CPU per call and the client's core
utilisation (near 100% means the client, not the server, set the pace). The server runs on core
--server-core under taskset, this client on --client-core. Every reply is checked (a+b); a row
with any error is marked invalid and no ratio is drawn from it. Ratios only pair the same row.

    python3 benchmarks/mcp/bench_mcp.py                          # markdown table + JSON
    python3 benchmarks/mcp/bench_mcp.py --servers sdk --repeat 1 --stdio-calls 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {
    "fasterapi": ROOT / "examples" / "mcp" / "bench_fasterapi.py",
    "sdk": ROOT / "examples" / "mcp" / "bench_sdk.py",
    # MCPProxy in front of bench_fasterapi.py over stdio: compare with "fasterapi" for the
    # proxy's overhead (its own CPU per forwarded call; the upstream child is not counted).
    "proxy": ROOT / "examples" / "mcp" / "bench_proxy.py",
}
TOOLS = {"proxy": "fa__add"}  # the tool's name as each server lists it (default "add")
PROTOCOL_VERSION = "2025-11-25"
CLK_TCK = os.sysconf("SC_CLK_TCK")  # /proc/PID/stat times are in these ticks (usually 100 Hz)
WARMUP_CALLS = 200  # per row, untimed: imports, caches and the JIT-less interpreter settle
START_TIMEOUT_S = 60.0
READ_LIMIT = 1 << 20  # bytes: the largest reply line or HTTP header block we accept

T = TypeVar("T")


@dataclass
class Row:
    server: str
    mode: str  # "stdio" | "http-seq" | "http-c64"
    calls: int = 0
    errors: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    note: str = ""
    runs: list[dict[str, float]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.calls > 0 and self.errors == 0 and not self.note.startswith("failed")

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.wall_s if self.wall_s else 0.0

    @property
    def server_us_per_call(self) -> float:
        return self.server_cpu_s / self.calls * 1e6 if self.calls else 0.0

    @property
    def client_us_per_call(self) -> float:
        return self.client_cpu_s / self.calls * 1e6 if self.calls else 0.0

    @property
    def client_util(self) -> float:
        return self.client_cpu_s / self.wall_s if self.wall_s else 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            valid=self.valid,
            calls_per_s=round(self.calls_per_s, 1),
            server_cpu_us_per_call=round(self.server_us_per_call, 1),
            client_cpu_us_per_call=round(self.client_us_per_call, 1),
            client_core_util=round(self.client_util, 3),
        )
        return d


# ---- processes -----------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    """CPU time (user+sys) of one process, in seconds, its children not included.

    The sum over its threads of /proc/PID/task/TID/schedstat's first field (time on a CPU, in
    ns): the process's own CPU at nanosecond resolution, where /proc/PID/stat's utime+stime
    advance by clock ticks (10 ms: a 30 µs-per-call figure over 2,000 calls is 6 ticks). Falls
    back to the ticks where schedstat is missing. Threads that already exited are not counted
    (the servers measured here keep theirs).
    """
    try:
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in (...) may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu_s() -> float:
    """CPU of this script's children that have exited and been waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def unavailable(server: str) -> str:
    """Why `server` cannot run here ("" when it can): its package must import and build a server."""
    probe = {
        "fasterapi": "from fasterapi.mcp import MCPServer; MCPServer(name='probe')",
        "sdk": "from mcp.server.mcpserver import MCPServer; MCPServer(name='probe')",
        "proxy": "from fasterapi.mcp import MCPProxy",
    }[server]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    run = subprocess.run([python_for(server), "-c", probe], capture_output=True, text=True, env=env)
    if run.returncode == 0:
        return ""
    lines = run.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit {run.returncode}"


def python_for(server: str) -> str:
    return sys.executable


def spawn(server: str, args: list[str], core: int, **kw: Any) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [python_for(server), str(SERVERS[server]), *args]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(core), *cmd]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, **kw)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- JSON-RPC messages ---------------------------------------------------------------------


def initialize_msg() -> dict[str, Any]:
    params = {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "fasterapi-bench", "version": "1.0"},
    }
    return {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call_msg(i: int, tool: str = "add") -> bytes:
    args = {"a": i, "b": 7}
    params = {"name": tool, "arguments": args}
    msg = {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params}
    return json.dumps(msg, separators=(",", ":")).encode()


def call_ok(reply: dict[str, Any], i: int) -> bool:
    """The reply to call i says i + 7 (as text content; structuredContent too when present)."""
    res = reply.get("result")
    if reply.get("id") != i or not isinstance(res, dict) or res.get("isError"):
        return False
    content = res.get("content") or []
    text_ok = any(c.get("type") == "text" and c.get("text") == str(i + 7) for c in content)
    structured = res.get("structuredContent")
    return text_ok and (structured is None or structured.get("result") == i + 7)


# ---- stdio ---------------------------------------------------------------------------------


def stdio_caller() -> Path | None:
    """benchmarks/mcp/stdio_caller.c built into build/ (None without a C compiler)."""
    cc = shutil.which("cc")
    if cc is None:
        return None
    exe = ROOT / "build" / "mcp-bench" / "stdio_caller"
    exe.parent.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).with_name("stdio_caller.c")
    if not exe.exists() or exe.stat().st_mtime < source.stat().st_mtime:
        subprocess.run([cc, "-O2", "-o", str(exe), str(source)], check=True)
    return exe


def bench_stdio(server: str, calls: int, core: int, caller: Path | None) -> Row:
    """Sequential calls over the server's stdio. The timed calls are made by `caller` (the C
    client, on the server's pipes) when given, else by this script; warm-up is ours either way."""
    row = Row(server, "stdio")
    proc = spawn(
        server, ["--transport", "stdio"], core,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
    )  # fmt: skip
    assert proc.stdin and proc.stdout
    w, r = proc.stdin, proc.stdout

    def send(msg: bytes) -> None:
        w.write(msg + b"\n")

    def reply_to(i: int) -> dict[str, Any]:
        while True:  # skip notifications and log lines the server may interleave
            line = r.readline(READ_LIMIT)
            if not line:
                raise RuntimeError(f"server closed stdout (exit {proc.poll()})")
            msg = json.loads(line)
            if msg.get("id") == i:
                return dict(msg)

    try:
        send(json.dumps(initialize_msg()).encode())
        if "result" not in reply_to(0):
            raise RuntimeError("initialize failed")
        send(json.dumps(INITIALIZED).encode())
        for i in range(1, WARMUP_CALLS + 1):
            send(call_msg(i, TOOLS.get(server, "add")))
            row.errors += not call_ok(reply_to(i), i)
        first = WARMUP_CALLS + 1
        tool = TOOLS.get(server, "add")
        if caller is not None:
            # Our reads above were unbuffered (bufsize=0): nothing of the server's output is
            # held here, so the C client can take over the pipes.
            kids0 = children_cpu_s()
            cpu0, t0 = proc_cpu_s(proc.pid), time.perf_counter()
            done = subprocess.run([str(caller), str(first), str(calls), tool], stdin=r, stdout=w,
                                  stderr=subprocess.PIPE, check=False)  # fmt: skip
            row.wall_s = time.perf_counter() - t0
            row.server_cpu_s = proc_cpu_s(proc.pid) - cpu0
            row.client_cpu_s = children_cpu_s() - kids0
            if done.returncode != 0:
                raise RuntimeError(f"stdio_caller exited {done.returncode}")
            row.errors += int(done.stderr.decode().split()[-1])
            row.note = "C client"
        else:
            cpu0, me0, t0 = proc_cpu_s(proc.pid), self_cpu_s(), time.perf_counter()
            for i in range(first, first + calls):
                send(call_msg(i, tool))
                row.errors += not call_ok(reply_to(i), i)
            row.wall_s = time.perf_counter() - t0
            row.server_cpu_s = proc_cpu_s(proc.pid) - cpu0
            row.client_cpu_s = self_cpu_s() - me0
        row.calls = calls
    except (RuntimeError, ValueError, OSError) as e:
        row.note = f"failed: {e}"
    finally:
        w.close()
        stop(proc)
    return row


# ---- Streamable HTTP (raw HTTP/1.1 over asyncio sockets) ------------------------------------


class HttpConn:
    """One keep-alive connection that POSTs JSON-RPC to /mcp and reads JSON or SSE replies."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=READ_LIMIT
        )

    def close(self) -> None:
        self.writer.close()

    async def post(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        head = [
            "POST /mcp HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            "Accept: application/json, text/event-stream",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        pairs = (x.partition(":") for x in lines[1:] if x)
        hdrs = {k.strip().lower(): v.strip() for k, _, v in pairs}
        if "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")  # no trailers expected
                    break
                parts.append(await self.reader.readexactly(size + 2))
            data = b"".join(p[:-2] for p in parts)
        else:
            data = b""
        return status, hdrs, data


def jsonrpc_replies(hdrs: dict[str, str], data: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC messages in a reply body: one JSON document, or SSE `data:` events."""
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        out = []
        for event in data.replace(b"\r\n", b"\n").split(b"\n\n"):
            payload = b"\n".join(
                line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")
            )
            if payload.strip():
                out.append(json.loads(payload))
        return out
    return [json.loads(data)] if data.strip() else []


async def http_session(port: int) -> tuple[dict[str, str], str]:
    """initialize + notifications/initialized; the headers every later request carries."""
    conn = HttpConn("127.0.0.1", port, {})
    await conn.open()
    try:
        status, hdrs, data = await conn.post(json.dumps(initialize_msg()).encode())
        replies = jsonrpc_replies(hdrs, data)
        if status != 200 or not replies or "result" not in replies[0]:
            raise RuntimeError(f"initialize: HTTP {status} {data[:200]!r}")
        headers = {"MCP-Protocol-Version": replies[0]["result"]["protocolVersion"]}
        if "mcp-session-id" in hdrs:
            headers["Mcp-Session-Id"] = hdrs["mcp-session-id"]
        conn.headers = headers
        status, _, _ = await conn.post(json.dumps(INITIALIZED).encode())
        if status not in (200, 202):
            raise RuntimeError(f"notifications/initialized: HTTP {status}")
        return headers, hdrs.get("content-type", "")
    finally:
        conn.close()


async def http_load(
    port: int, headers: dict[str, str], ids: range, conns: int, tool: str = "add"
) -> int:
    """Calls tools/call for every id, `conns` connections at once; returns the error count."""
    errors = 0
    next_id = iter(ids)

    async def worker() -> None:
        nonlocal errors
        conn = HttpConn("127.0.0.1", port, headers)
        await conn.open()
        try:
            for i in next_id:
                status, hdrs, data = await conn.post(call_msg(i, tool))
                replies = [m for m in jsonrpc_replies(hdrs, data) if m.get("id") == i]
                errors += status != 200 or len(replies) != 1 or not call_ok(replies[0], i)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return errors


def run_loop(coro_fn: Callable[[], Any]) -> Any:
    try:
        import uvloop  # the client's loop must not be what limits the rate

        return uvloop.run(coro_fn())
    except ImportError:
        return asyncio.run(coro_fn())


def bench_http(server: str, calls: int, conns: int, core: int, extra: list[str]) -> Row:
    row = Row(server, "http-seq" if conns == 1 else f"http-c{conns}")
    port = free_port()
    log = ROOT / "build" / "mcp-bench" / f"{server}-http.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = spawn(server, ["--transport", "http", "--port", str(port), *extra], core,
                     stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} (log {log})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nothing listening on {port}") from None
                time.sleep(0.1)

        async def go() -> None:
            headers, ctype = await http_session(port)
            row.note = f"replies {ctype.split(';')[0] or '?'}"
            tool = TOOLS.get(server, "add")
            row.errors += await http_load(port, headers, range(1, WARMUP_CALLS + 1), conns, tool)
            first = WARMUP_CALLS + 1
            cpu0, me0, t0 = proc_cpu_s(proc.pid), self_cpu_s(), time.perf_counter()
            row.errors += await http_load(port, headers, range(first, first + calls), conns, tool)
            row.wall_s = time.perf_counter() - t0
            row.server_cpu_s = proc_cpu_s(proc.pid) - cpu0
            row.client_cpu_s = self_cpu_s() - me0
            row.calls = calls

        run_loop(go)
    except (RuntimeError, ValueError, OSError, asyncio.IncompleteReadError) as e:
        row.note = f"failed: {e}"
    finally:
        stop(proc)
    return row


# ---- the run -------------------------------------------------------------------------------


def median_row(rows: list[Row]) -> Row:
    """One row per (server, mode): the median run by calls/s, every run kept in .runs."""
    ranked = sorted(rows, key=lambda r: r.calls_per_s)
    mid = ranked[len(ranked) // 2]
    out = Row(mid.server, mid.mode, mid.calls, sum(r.errors for r in rows), mid.wall_s,
              mid.server_cpu_s, mid.client_cpu_s, mid.note)  # fmt: skip
    if any(not r.valid for r in rows):
        out.note = next(r.note for r in rows if not r.valid) or out.note
    out.runs = [
        {"calls_per_s": round(r.calls_per_s, 1), "server_us": round(r.server_us_per_call, 1),
         "client_us": round(r.client_us_per_call, 1), "errors": r.errors}
        for r in rows
    ]  # fmt: skip
    return out


def markdown(rows: list[Row]) -> str:
    by_key = {(r.server, r.mode): r for r in rows}
    lines = [
        "| server | mode | calls | errors | calls/s | server CPU µs/call | client CPU µs/call "
        "| client core | valid | calls/s vs sdk | server CPU/call vs sdk |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        ratio = cpu_ratio = ""
        sdk = by_key.get(("sdk", r.mode))
        if r.server == "fasterapi" and sdk and r.valid and sdk.valid:
            ratio = f"{r.calls_per_s / sdk.calls_per_s:.2f}x"
            if r.server_cpu_s > 0:  # below one clock tick the ratio means nothing
                cpu_ratio = f"1/{sdk.server_us_per_call / r.server_us_per_call:.1f}"
        lines.append(
            f"| {r.server} | {r.mode} | {r.calls} | {r.errors} | {r.calls_per_s:,.0f} "
            f"| {r.server_us_per_call:,.0f} | {r.client_us_per_call:,.0f} | {r.client_util:.0%} "
            f"| {'yes' if r.valid else 'INVALID'} | {ratio} | {cpu_ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", default="fasterapi,sdk",
                   help="comma-separated: fasterapi,sdk,proxy")  # fmt: skip
    p.add_argument("--modes", default="stdio,http-seq,http-c64")
    p.add_argument("--stdio-calls", type=int, default=5000)
    p.add_argument("--http-calls", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3, help="runs per row, interleaved; median")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--client-core", type=int, default=1)
    p.add_argument("--sdk-json-response", action="store_true",
                   help="the SDK answers with JSON instead of its default SSE")  # fmt: skip
    p.add_argument("--stdio-client", choices=["c", "python"], default="c",
                   help="who makes the timed stdio calls: stdio_caller.c (default; this "
                        "script if no C compiler) or this script")  # fmt: skip
    p.add_argument("--json", type=Path, default=ROOT / "build" / "mcp-bench" / "bench_mcp.json")
    args = p.parse_args(argv)
    caller = stdio_caller() if args.stdio_client == "c" else None

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.client_core})
    servers = []
    for s in args.servers.split(","):
        if why := unavailable(s):
            print(f"{s}: not available ({why})")
        else:
            servers.append(s)
    modes = args.modes.split(",")
    runs: dict[tuple[str, str], list[Row]] = {}
    for rep in range(args.repeat):
        for mode in modes:
            for s in servers:  # interleaved: both servers see the same stretch of a shared box
                if mode == "stdio":
                    row = bench_stdio(s, args.stdio_calls, args.server_core, caller)
                else:
                    conns = 1 if mode == "http-seq" else args.concurrency
                    extra = ["--json-response"] if s == "sdk" and args.sdk_json_response else []
                    row = bench_http(s, args.http_calls, conns, args.server_core, extra)
                runs.setdefault((s, row.mode), []).append(row)
                print(f"run {rep + 1}/{args.repeat} {s:9} {row.mode:8} "
                      f"{row.calls_per_s:8,.0f} calls/s  {row.server_us_per_call:6,.0f} µs "
                      f"server CPU/call  errors {row.errors} {row.note}", flush=True)  # fmt: skip
    rows = [median_row(v) for v in runs.values()]
    table = markdown(rows)
    load = os.getloadavg()
    print(f"\n{table}\n\nmedian of {args.repeat} interleaved runs; server on core "
          f"{args.server_core}, client on core {args.client_core}; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    doc = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "loadavg": load},
        "args": {k: str(v) for k, v in vars(args).items()},
        "unavailable": [s for s in args.servers.split(",") if s not in servers],
        "rows": [r.to_json() for r in rows],
        "markdown": table,
    }  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=1))
    for r in rows:  # the proxy's own CPU per call is what forwarding costs (the target: 20 µs)
        if r.server == "proxy" and r.valid:
            print(f"proxy overhead {r.mode}: {r.server_us_per_call:,.1f} µs proxy CPU per "
                  "forwarded call")  # fmt: skip
    print(f"json: {args.json}")
    return 0 if rows and all(r.valid for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
