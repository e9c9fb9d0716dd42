"""HTTPS vs HTTP on the same engine, and TLS handshakes per second vs nginx.

    python3 benchmarks/tls/bench_tls.py [--duration 10] [--hello-server PATH] [--only ROW,...]

Rows (each server pinned to core 0, wrk to core 1, `wrk -t1 -c64`):
  keep-alive: hello_server http/https, the Python App (fasterapi run) http/https, nginx https.
  handshakes: the same HTTPS servers with `Connection: close` on every request, so each
  request is a new TCP connection and a full TLS handshake (no resumption: wrk's OpenSSL
  client does not reuse sessions), reported as handshakes (= requests) per second.
Server CPU µs per request comes from /proc/PID/stat (utime+stime of the server tree) before
and after each run. The certificate is a throwaway P-256 one made with openssl. Prints one
table and whether kTLS is available on this kernel (/sys/module/tls, /proc/net/tls_stat).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "e2e"))
sys.path.insert(0, str(ROOT / "tests" / "python"))

from harness.nginx import nginx_binary  # noqa: E402
from harness.procs import CLK_TCK, free_port, tree_cpu_ticks  # noqa: E402
from harness.wrk import run_wrk  # noqa: E402
from tls_certs import make_pki  # noqa: E402

HERE = Path(__file__).resolve().parent
APP = ROOT / "tests" / "python" / "tls" / "tls_app.py"  # GET / → a small JSON object


def ktls_status() -> str:
    if not Path("/sys/module/tls").exists():
        return "kTLS: not available (no 'tls' kernel module loaded: /sys/module/tls absent)"
    stat = Path("/proc/net/tls_stat")
    return "kTLS: kernel module loaded\n" + (stat.read_text() if stat.exists() else "")


def wait_https(port: int, tls: bool, timeout: float = 30) -> None:
    scheme = "https" if tls else "http"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = subprocess.run(
            ["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
             f"{scheme}://127.0.0.1:{port}/"],
            capture_output=True, text=True,
        )  # fmt: skip
        if p.stdout == "200":
            return
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not answer 200")


def servers(hello: Path, pki_dir: Path, prefix: Path) -> dict[str, tuple[list[str], bool]]:
    cert, key = pki_dir / "localhost.pem", pki_dir / "localhost.key"
    tls = ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    py_app = ["-m", "fasterapi", "run", "tls_app:app", "--app-dir", str(APP.parent),
              "--log-level", "warning"]  # fmt: skip
    rows: dict[str, tuple[list[str], bool]] = {
        "hello_server-http": ([str(hello), "--port", "{port}"], False),
        "hello_server-https": ([str(hello), "--port", "{port}", *tls], True),
        "app-http": ([sys.executable, *py_app, "--port", "{port}"], False),
        "app-https": ([sys.executable, *py_app, "--port", "{port}", *tls], True),
    }
    nginx = nginx_binary()
    if nginx:
        user = "user root;" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        text = (HERE / "nginx_tls.conf.template").read_text()
        conf.write_text(text.format(user=user, prefix=prefix, port="{port}", cert=cert, key=key))
        rows["nginx-https"] = ([nginx, "-p", str(prefix), "-e", str(prefix / "error.log"),
                                "-c", str(conf)], True)  # fmt: skip
    return rows


def measure(argv: list[str], tls: bool, duration: float, close: bool, prefix: Path) -> dict:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    if "-c" in argv and argv[argv.index("-c") + 1].endswith("nginx.conf"):  # nginx: port in conf
        conf = Path(argv[argv.index("-c") + 1])
        live = prefix / f"nginx-{port}.conf"
        live.write_text(conf.read_text().replace("{port}", str(port)))
        argv[argv.index("-c") + 1] = str(live)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(["taskset", "-c", "0", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        wait_https(port, tls)
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/"
        script = HERE / "close.lua" if close else None
        run_wrk(url, duration_s=2, connections=64, script=script)  # warm-up
        before = tree_cpu_ticks(proc.pid)
        r = run_wrk(url, duration_s=duration, connections=64, script=script)
        ticks = tree_cpu_ticks(proc.pid) - before
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
    us = ticks / CLK_TCK * 1e6 / r.requests if r.requests else float("nan")
    return {"rps": r.rps, "cpu_us": us, "errors": r.errors, "requests": r.requests}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--hello-server", default=str(ROOT / "build/dev/examples/cpp/hello_server"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/install-deps.sh)")
    print(ktls_status())
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        pki = make_pki(tmpd / "pki")
        rows = servers(Path(args.hello_server), pki.dir, tmpd)
        only = set(filter(None, args.only.split(",")))
        print(f"{'row':34} {'req/s':>10} {'CPU µs/req':>11} {'errors':>7}")
        for name, (argv, tls) in rows.items():
            for close in (False, True) if tls else (False,):
                label = f"{name}{' new-conn (handshakes)' if close else ' keep-alive'}"
                if only and name not in only:
                    continue
                m = measure(argv, tls, args.duration, close, tmpd)
                print(f"{label:34} {m['rps']:>10.0f} {m['cpu_us']:>11.1f} {m['errors']:>7}",
                      flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
