#!/usr/bin/env bash
# Runs every benchmark behind docs/performance.md on this machine, one after another (never
# two at once: they share 2 cores), and keeps the raw output in benchmarks/results/.
# Needs the package installed (pip install -e .[dev]) and PostgreSQL at 127.0.0.1:5432.
# Usage: bash benchmarks/run_all.sh [runs]        (takes ~30 minutes with runs=3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
out=benchmarks/results
mkdir -p "$out"
say() { printf '\n=== %s (%s, load %s)\n' "$*" "$(date +%T)" "$(cut -d' ' -f1-3 /proc/loadavg)"; }

say "build (release, benchmarks on)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_BENCH=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
micro=build/release/benchmarks/micro
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench --target hello_server -j"$(nproc)" >/dev/null

say "HTTP/1.1 parser vs picohttpparser, ISA for ISA (scalar/scalar, SSE4.2/SSE4.2)"
python3 benchmarks/micro/parser_vs_pico.py --bench "$micro/h1_parser_bench" --core 0 \
  --repetitions 15 --min-time 0.05 --json "$out/h1_parser.json" | tee "$out/h1_parser.txt"

say "router (GitHub API table)"
taskset -c 0 "$micro/router_bench" --benchmark_repetitions=10 \
  --benchmark_report_aggregates_only=true | tee "$out/router.txt"

say "futures vs std::future"
taskset -c 0 "$micro/future_bench" --benchmark_min_time=0.5 | tee "$out/future.txt"

say "JSON vs json and orjson"
taskset -c 0 python3 benchmarks/json/bench_json.py --repeat 7 | tee "$out/json.txt"

say "C++ engine: hello_server vs nginx"
python3 benchmarks/e2e/run_http.py --suite cpp --runs "$runs" --hello-server build-bench/examples/cpp/hello_server \
  | tee "$out/e2e_cpp.txt"

say "Python App vs FastAPI, granian, socketify, nginx; 1MRC"
python3 benchmarks/e2e/run_http.py --runs "$runs" --hello-server build-bench/examples/cpp/hello_server \
  --out docs/e2e_http.png | tee "$out/e2e_python.txt"

say "PostgreSQL drivers"
python3 benchmarks/pg/bench_drivers.py --seconds 3 --conns 8 --json "$out/pg.json" | tee "$out/pg.txt"

say "PostgreSQL behind HTTP"
bash benchmarks/pg/http_bench.sh 5 64 | tee "$out/pg_http.txt"

say "Server-Sent Events: events/s to 100 clients from one worker"
python3 benchmarks/sse/sse_bench.py --clients 100 --events 10000 --runs "$runs" | tee "$out/sse.txt"

say "Compression per codec vs FastAPI + Starlette GZipMiddleware (100 KB JSON)"
python3 benchmarks/compress/compress_bench.py --seconds 5 | tee "$out/compress.txt"
say "done"
