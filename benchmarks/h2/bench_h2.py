"""HTTP/2 cleartext (h2c, prior knowledge) throughput and server CPU per request.

    python3 benchmarks/h2/bench_h2.py [--duration 10] [--hello-server PATH] [--only ROW,...]

Rows (each server pinned to core 0, h2load to core 1, `h2load -c64 -m16 -t1`, path /):
  hello_server (C++ handler), the Python App (benchmarks/e2e/apps/fasterapi_app.py), nginx
  (http2, one worker, `return 200`), granian --http 2 serving the FastAPI app
  (benchmarks/e2e/apps/fastapi_app.py) when granian is installed.
Server CPU µs per request comes from /proc/PID/stat (utime+stime of the server tree) before
and after each run. Prints one table; figures from a loaded machine are provisional.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "e2e"))

from harness.nginx import nginx_binary  # noqa: E402
from harness.procs import CLK_TCK, free_port, tree_cpu_ticks  # noqa: E402

HERE = Path(__file__).resolve().parent
APPS = ROOT / "benchmarks" / "e2e" / "apps"


def servers(hello: Path, prefix: Path) -> dict[str, list[str]]:
    rows = {
        "hello_server": [str(hello), "--port", "{port}"],
        "app (Python App)": [sys.executable, str(APPS / "fasterapi_app.py"), "--port", "{port}"],
    }
    nginx = nginx_binary()
    if nginx:
        user = "user root;" if os.geteuid() == 0 else ""
        text = (HERE / "nginx_h2c.conf.template").read_text()
        conf = prefix / "nginx.conf"
        conf.write_text(text.format(user=user, prefix=prefix, port="{port}"))
        rows["nginx"] = [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
    if shutil.which("granian"):
        rows["granian FastAPI (--http 2)"] = [
            "granian", "--interface", "asgi", "--http", "2", "--workers", "1", "--host",
            "127.0.0.1", "--port", "{port}", "--working-dir", str(APPS), "fastapi_app:app",
        ]  # fmt: skip
    return rows


def wait_h2(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = subprocess.run(
            ["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
             f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
        )  # fmt: skip
        if p.stdout == "200":
            return
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not answer 200 over h2c")


def h2load(url: str, duration: float) -> tuple[int, float, int]:
    """(succeeded requests, req/s, failed+errored)."""
    seconds = str(max(1, int(duration)))  # h2load -D takes whole seconds
    out = subprocess.run(
        ["taskset", "-c", "1", "h2load", "-c64", "-m16", "-t1", "-D", seconds, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    r = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored", out)  # fmt: skip
    if not m or not r:
        raise RuntimeError("unexpected h2load output:\n" + out)
    return int(r.group(1)), float(m.group(1)), int(r.group(2)) + int(r.group(3))


def measure(argv: list[str], duration: float, prefix: Path) -> dict[str, float]:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    if "-c" in argv and argv[argv.index("-c") + 1].endswith("nginx.conf"):  # port in the conf
        conf = Path(argv[argv.index("-c") + 1])
        live = prefix / f"nginx-{port}.conf"
        live.write_text(conf.read_text().replace("{port}", str(port)))
        argv[argv.index("-c") + 1] = str(live)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(["taskset", "-c", "0", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        wait_h2(port)
        url = f"http://127.0.0.1:{port}/"
        h2load(url, 2)  # warm-up
        before = tree_cpu_ticks(proc.pid)
        done, rps, errors = h2load(url, duration)
        ticks = tree_cpu_ticks(proc.pid) - before
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # granian can take longer to drain: the run counts
            os.killpg(proc.pid, 9)
            proc.wait()
    us = ticks / CLK_TCK * 1e6 / done if done else float("nan")
    return {"rps": rps, "cpu_us": us, "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--hello-server", default=str(ROOT / "build/dev/examples/cpp/hello_server"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    if not shutil.which("h2load"):
        raise SystemExit("h2load is not installed (scripts/install-deps.sh: nghttp2-client)")
    only = set(filter(None, args.only.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        rows = servers(Path(args.hello_server), Path(tmp))
        print(f"{'row (h2c, h2load -c64 -m16)':34} {'req/s':>10} {'CPU µs/req':>11} {'errors':>7}")
        for name, argv in rows.items():
            if only and name not in only:
                continue
            m = measure(argv, args.duration, Path(tmp))
            print(f"{name:34} {m['rps']:>10.0f} {m['cpu_us']:>11.1f} {m['errors']:>7.0f}",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
