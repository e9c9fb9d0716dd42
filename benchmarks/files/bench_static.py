"""A 1 MB static file: FasterAPI (StaticFiles through sendfile(2)) vs nginx (sendfile on) vs
uvicorn + Starlette's StaticFiles. Per server: MB/s and server CPU per byte, server on core 0,
wrk on core 1, keep-alive.

    python3 benchmarks/files/bench_static.py [--size-kib 1024] [--duration 10] [--connections 16]
        [--only fasterapi,nginx,starlette] [--runs 3]

Each server's body is checked against the file before timing. Results on stdout (Markdown) and
in benchmarks/results/files.json (git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "e2e"))

from harness.procs import Server, free_port, ticks_to_us  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402

NGINX_CONF = """{user}
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    client_body_temp_path {prefix}/cb; proxy_temp_path {prefix}/px; fastcgi_temp_path {prefix}/fc;
    uwsgi_temp_path {prefix}/uw; scgi_temp_path {prefix}/sc;
    server {{
        listen 127.0.0.1:{port};
        location /static/ {{ alias {root}/; }}
    }}
}}
"""


def _argv(name: str, port: int, prefix: Path, root: Path) -> list[str]:
    py = sys.executable
    if name == "fasterapi":
        return [py, str(HERE / "static_apps.py")]
    if name == "starlette":
        return [py, "-m", "uvicorn", "--factory", "static_apps:starlette_app", "--host",
                "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
                "--log-level", "warning", "--no-access-log"]
    conf = prefix / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, prefix=prefix, port=port, root=root))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]


def bench(name: str, root: Path, data: bytes, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"files-{name}-") as tmp:
        port = free_port()
        env = {"PORT": str(port), "STATIC_DIR": str(root)}
        server = Server(name, _argv(name, port, Path(tmp), root), port, core=args.server_core,
                        cwd=str(HERE), env=env, log_path=Path(tmp) / "server.log")
        server.start()
        try:
            server.wait_ready("/static/file.bin")
            url = f"http://127.0.0.1:{port}/static/file.bin"
            with urllib.request.urlopen(url, timeout=10) as r:  # the body, checked
                if r.read() != data:
                    return {"server": name, "invalid": "body differs from the file"}
            run_wrk(url, duration_s=args.warmup, connections=args.connections,
                    core=args.client_core)
            runs = []
            for _ in range(args.runs):
                cpu0 = server.cpu_ticks()
                res = run_wrk(url, duration_s=args.duration, connections=args.connections,
                              core=args.client_core)
                cpu1 = server.cpu_ticks()
                nbytes = res.requests * len(data)
                runs.append({
                    "rps": res.rps, "errors": res.errors,
                    "mb_s": res.rps * len(data) / 1e6,
                    "cpu_us_per_mb": ticks_to_us(cpu1 - cpu0) / max(nbytes / 1e6, 1e-9),
                })
        finally:
            server.stop()
    return {
        "server": name,
        "runs": runs,
        "mb_s": statistics.median(r["mb_s"] for r in runs),
        "cpu_us_per_mb": statistics.median(r["cpu_us_per_mb"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-kib", type=int, default=1024)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--only", default="fasterapi,nginx,starlette")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", default="1")
    p.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "files.json"))
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="files-root-") as d:
        root = Path(d)
        data = os.urandom(args.size_kib * 1024)
        (root / "file.bin").write_bytes(data)
        for name in args.only.split(","):
            try:
                results.append(bench(name, root, data, args))
            except RuntimeError as e:
                results.append({"server": name, "invalid": str(e)})
            print(json.dumps(results[-1] | {"runs": None}), flush=True)
    print(f"\n| server ({args.size_kib} KiB file) | MB/s | server CPU µs per MB | errors |")
    print("|---|---:|---:|---:|")
    for r in results:
        if "invalid" in r:
            print(f"| {r['server']} | INVALID: {r['invalid']} | | |")
        else:
            mb_s, cpu = f"{r['mb_s']:,.0f}", f"{r['cpu_us_per_mb']:.1f}"
            print(f"| {r['server']} | {mb_s} | {cpu} | {r['errors']} |")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"argv": sys.argv, "loadavg": os.getloadavg(), "results": results},
                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
