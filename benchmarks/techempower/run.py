"""TechEmpower test types, every entry in one run: load the schema, start each server pinned to
core 0, validate it (validate.py) and time each type that passed with wrk on core 1.

    python3 benchmarks/techempower/run.py                          # all servers, all types
    python3 benchmarks/techempower/run.py --types fortunes         # one type
    python3 benchmarks/techempower/run.py --servers fasterapi,fastapi --types db,queries
    python3 benchmarks/techempower/run.py --connections 16,64,256 --plots /tmp/tfb-plots
    python3 benchmarks/techempower/run.py --list

Peers are installed from PyPI when missing (pip install); one that will not install or start
is skipped with the reason. nginx serves json and plaintext only (the ceiling). fasterapi-cpp
is the C++ engine's entry (cpp/tfb_server, built with -DFA_BUILD_BENCH=ON). Results: a
Markdown table on stdout and in benchmarks/results/tfb.md, the runs in tfb.json, and with
--plots DIR one PNG per type (plot.py; needs matplotlib)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "benchmarks" / "e2e"))

import schema  # noqa: E402
import validate  # noqa: E402
from harness.procs import Server, free_port, ticks_to_us  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

PIPELINE_LUA = ROOT / "benchmarks" / "e2e" / "pipeline16.lua"
# Where CMake puts the C++ entry: scripts/test.sh's build, then the development build.
CPP_SERVER_BUILDS = [ROOT / "build" / b / "benchmarks" / "techempower" / "cpp" / "tfb_server"
                     for b in ("release", "dev")]


def cpp_server_path() -> Path:
    """The C++ entry's binary: FASTERAPI_TFB_SERVER, else the first build that has it."""
    env = os.environ.get("FASTERAPI_TFB_SERVER")
    if env:
        return Path(env)
    return next((p for p in CPP_SERVER_BUILDS if p.exists()), CPP_SERVER_BUILDS[0])


@dataclass
class Entry:
    name: str
    argv: list[str]  # {port} is filled in
    modules: list[str]  # import names that must be present
    packages: list[str]  # what pip installs when they are not
    cwd: Path = HERE / "peers"
    types: tuple[str, ...] = validate.TYPES
    tools: list[str] = field(default_factory=list)


PY = sys.executable
UVICORN = [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop",
           "--http", "httptools", "--log-level", "warning", "--no-access-log"]
ENTRIES = {
    "fasterapi": Entry("fasterapi", [PY, str(HERE / "app_fasterapi.py")], ["fasterapi"], [],
                       cwd=HERE),
    # argv and tools are set from --cpp-server in main()
    "fasterapi-cpp": Entry("fasterapi-cpp", [], [], [], cwd=HERE),
    "fastapi": Entry("fastapi", [*UVICORN, "fastapi_app:app"], ["fastapi", "uvicorn", "asyncpg",
                     "httptools", "uvloop"], ["fastapi", "uvicorn[standard]", "asyncpg"]),
    "granian": Entry("granian", ["granian", "--interface", "rsgi", "--host", "127.0.0.1",
                                 "--port", "{port}", "--workers", "1", "--loop", "uvloop",
                                 "--no-ws", "granian_rsgi:app"],
                     ["granian", "asyncpg", "orjson"], ["granian", "asyncpg", "orjson"]),
    "socketify": Entry("socketify", [PY, "socketify_app.py"], ["socketify", "asyncpg", "orjson"],
                       ["socketify", "asyncpg", "orjson"]),
    "blacksheep": Entry("blacksheep", [*UVICORN, "blacksheep_app:app"],
                        ["blacksheep", "uvicorn", "asyncpg", "orjson"],
                        ["blacksheep", "uvicorn[standard]", "asyncpg", "orjson"]),
    "robyn": Entry("robyn", [PY, "robyn_app.py", "--processes", "1", "--workers", "1"],
                   ["robyn", "asyncpg", "orjson"], ["robyn", "asyncpg", "orjson"]),
    "nginx": Entry("nginx", [], [], [], types=("json", "plaintext"), tools=["nginx"]),
}

NGINX_CONF = """{user}
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000000;
    client_body_temp_path {prefix}/cb; proxy_temp_path {prefix}/px; fastcgi_temp_path {prefix}/fc;
    uwsgi_temp_path {prefix}/uw; scgi_temp_path {prefix}/sc;
    server {{
        listen 127.0.0.1:{port};
        location = /json {{ default_type application/json;
                           return 200 '{{"message":"Hello, World!"}}'; }}
        location = /plaintext {{ default_type text/plain; return 200 'Hello, World!'; }}
    }}
}}
"""


def _missing(entry: Entry) -> str | None:
    """Why `entry` cannot run (after trying pip for missing modules), or None."""
    for tool in entry.tools:
        if "/" in tool and not os.access(tool, os.X_OK):
            return (f"{tool} is not built (cmake -DFA_BUILD_BENCH=ON, target tfb_server; or "
                    "--cpp-server PATH)")
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed"
    absent = [m for m in entry.modules if importlib.util.find_spec(m) is None]
    if absent and entry.packages:
        print(f"[{entry.name}] pip install {' '.join(entry.packages)}", flush=True)
        out = subprocess.run([PY, "-m", "pip", "install", "-q", *entry.packages],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            return f"pip install failed: {out.stderr.strip().splitlines()[-1:]}"
        importlib.invalidate_caches()
        absent = [m for m in entry.modules if importlib.util.find_spec(m) is None]
    return f"missing modules {absent}" if absent else None


def _postgres_ticks() -> int:
    """CPU ticks (utime+stime) of every PostgreSQL server process on the machine."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        if "(postgres)" in text[: text.rindex(")") + 1] or "(postmaster)" in text:
            rest = text[text.rindex(")") + 2 :].split()
            total += int(rest[11]) + int(rest[12])
    return total


def _url(port: int, kind: str, args: argparse.Namespace) -> str:
    path = validate.PATHS[kind]
    if kind in ("queries", "updates"):
        path += str(args.queries)
    elif kind == "cached-queries":
        path += str(args.cached_count)
    return f"http://127.0.0.1:{port}{path}"


def _start(entry: Entry, port: int, tmp: Path, args: argparse.Namespace) -> Server:
    env = {"PORT": str(port), "FASTERAPI_PG_DSN": args.dsn, "TFB_POOL_SIZE": str(args.pool)}
    if entry.name == "nginx":
        prefix = tmp / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(NGINX_CONF.format(user=user, prefix=prefix, port=port))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
    else:
        argv = [a.replace("{port}", str(port)) for a in entry.argv]
    server = Server(entry.name, argv, port, core=args.server_core, cwd=str(entry.cwd), env=env,
                    log_path=tmp / f"{entry.name}.log")
    server.start()
    server.wait_ready("/json")
    return server


def run_entry(entry: Entry, types: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    types = [t for t in types if t in entry.types]
    if not types:
        return rows
    reason = _missing(entry)
    if reason:
        print(f"[{entry.name}] skipped: {reason}", flush=True)
        return [{"server": entry.name, "type": t, "skipped": reason} for t in types]
    with tempfile.TemporaryDirectory(prefix=f"tfb-{entry.name}-") as tmpdir:
        port = free_port()
        try:
            server = _start(entry, port, Path(tmpdir), args)
        except RuntimeError as e:
            print(f"[{entry.name}] skipped: did not start: {e}", flush=True)
            return [{"server": entry.name, "type": t, "skipped": f"did not start: {e}"}
                    for t in types]
        try:
            for kind in types:
                if server.proc is not None and server.proc.poll() is not None:
                    why = f"server exited with {server.proc.returncode}{server._log_tail()}"
                    rows.append({"server": entry.name, "type": kind, "failures": [why]})
                    continue
                try:
                    rows += _time_type(entry, server, kind, args)
                except RuntimeError as e:  # wrk failed: the server died or refused
                    print(f"[{entry.name}] {kind}: INVALID: {e}", flush=True)
                    rows.append({"server": entry.name, "type": kind, "failures": [str(e)]})
        finally:
            server.stop()
    return rows


def _time_type(
    entry: Entry, server: Server, kind: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Validates `kind` on the server, then times it at each --connections level (one row
    each); one row with the failures when it is invalid."""
    base = f"http://127.0.0.1:{server.port}"
    failures = validate.validate(base, (kind,), args.dsn if entry.name != "nginx" else None)
    if failures:
        print(f"[{entry.name}] {kind}: INVALID ({len(failures)} failures): {failures[:3]}",
              flush=True)
        return [{"server": entry.name, "type": kind, "failures": failures}]
    url = _url(server.port, kind, args)
    script = PIPELINE_LUA if kind == "plaintext" else None
    rows = []
    for conns in args.levels:
        run_wrk(url, duration_s=args.warmup, connections=conns, core=args.client_core,
                script=script)
        cpu0, pg0 = server.cpu_ticks(), _postgres_ticks()
        result = run_wrk(url, duration_s=args.duration, connections=conns,
                         core=args.client_core, script=script)
        cpu1, pg1 = server.cpu_ticks(), _postgres_ticks()
        n = max(result.requests, 1)
        row: dict[str, Any] = dict(
            server=entry.name, type=kind, failures=[], connections=conns,
            rps=result.rps, requests=result.requests, errors=result.errors,
            server_cpu_us=ticks_to_us(cpu1 - cpu0) / n,
            pg_cpu_us=ticks_to_us(pg1 - pg0) / n if kind not in ("json", "plaintext") else None,
            latency_p99_ms=result.latency_p99_ms, url=url,
        )
        print(f"[{entry.name}] {kind} c{conns}: {result.rps:,.0f} req/s, server "
              f"{row['server_cpu_us']:.1f} us/req, errors {result.errors}", flush=True)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| type | connections | server | req/s | vs fastapi | server CPU µs/req "
             "| PostgreSQL CPU µs/req | errors | note |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    base = {(r["type"], r.get("connections")): r.get("rps")
            for r in rows if r["server"] == "fastapi" and r.get("rps")}

    def order(r: dict[str, Any]) -> tuple[int, int, float]:
        return (validate.TYPES.index(r["type"]), r.get("connections") or 0, -(r.get("rps") or 0))

    for r in sorted(rows, key=order):
        if "skipped" in r or r.get("failures"):
            note = r.get("skipped") or f"INVALID: {r['failures'][0]}"
            lines.append(f"| {r['type']} | | {r['server']} | | | | | | {note} |")
            continue
        fastapi = base.get((r["type"], r["connections"]))
        ratio = f"{r['rps'] / fastapi:.2f}x" if fastapi else ""
        pg = f"{r['pg_cpu_us']:.1f}" if r.get("pg_cpu_us") is not None else ""
        note = "pipelined x16" if r["type"] == "plaintext" else ""
        lines.append(f"| {r['type']} | {r['connections']} | {r['server']} | {r['rps']:,.0f} | "
                     f"{ratio} | {r['server_cpu_us']:.1f} | {pg} | {r['errors']} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--types", default=",".join(validate.TYPES))
    p.add_argument("--servers", default=",".join(ENTRIES))
    p.add_argument("--dsn", default=schema.DEFAULT_DSN)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", default="64",
                   help="wrk connections; a list (16,64,256) times each type at every level")
    p.add_argument("--queries", type=int, default=20, help="?queries= for queries and updates")
    p.add_argument("--cached-count", type=int, default=100)
    p.add_argument("--pool", type=int, default=8, help="PostgreSQL connections per server")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tfb"))
    p.add_argument("--plots", default=None, metavar="DIR",
                   help="write one PNG per type here (plot.py; needs matplotlib)")
    p.add_argument("--cpp-server", default=str(cpp_server_path()),
                   help="the C++ entry's binary (FASTERAPI_TFB_SERVER; default: build/release "
                        "or build/dev's benchmarks/techempower/cpp/tfb_server)")
    p.add_argument("--list", action="store_true")
    args = p.parse_args(argv)
    if args.list:
        for name, e in ENTRIES.items():
            print(f"{name}: {', '.join(e.types)}")
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (scripts/install-deps.sh)")
        return 2
    ENTRIES["fasterapi-cpp"].argv = [args.cpp_server]
    ENTRIES["fasterapi-cpp"].tools = [args.cpp_server]
    try:
        args.levels = [int(c) for c in args.connections.split(",")]
    except ValueError:
        p.error(f"--connections: not a list of integers: {args.connections!r}")
    if args.plots:  # fail now, not after the run, when matplotlib is missing
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("--plots needs matplotlib (pip install matplotlib, or the dev extras)")
    types = args.types.split(",")
    unknown = [t for t in types if t not in validate.TYPES] + [
        s for s in args.servers.split(",") if s not in ENTRIES]
    if unknown:
        p.error(f"unknown types or servers: {unknown}")
    schema.load(args.dsn)
    rows: list[dict[str, Any]] = []
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    for name in args.servers.split(","):
        rows += run_entry(ENTRIES[name], types, args)
    md = table(rows)
    print(md)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(md + "\n")
    result = {"started": started, "argv": sys.argv, "loadavg": os.getloadavg(),
              "args": {k: v for k, v in vars(args).items() if k != "list"}, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    if args.plots:
        import plot

        for path in plot.write_plots(result, Path(args.plots)):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
