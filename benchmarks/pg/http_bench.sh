#!/usr/bin/env bash
# One PK lookup per HTTP request: FasterAPI + its driver vs FastAPI + asyncpg (uvicorn, uvloop,
# httptools), both single-process with BENCH_PG_CONNS connections, under wrk.
# Needs bench_users (run bench_drivers.py once). Usage: benchmarks/pg/http_bench.sh [seconds] [conns]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-5}
WRK_CONNS=${2:-64}
export PYTHONPATH=${PYTHONPATH:-$PWD}
wait_port() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/user/1" >/dev/null && return 0; sleep 0.1; done; return 1; }
run() {  # name port cmd...
  local name=$1 port=$2; shift 2
  "$@" >/tmp/pg_http_$name.log 2>&1 &
  local pid=$!
  wait_port "$port" || { echo "$name did not start"; cat /tmp/pg_http_$name.log; kill $pid; return 1; }
  wrk -t2 -c"$WRK_CONNS" -d1s -s benchmarks/pg/random_user.lua "http://127.0.0.1:$port" >/dev/null
  echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  wrk -t2 -c"$WRK_CONNS" -d"${SECS}s" -s benchmarks/pg/random_user.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|requests in"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}
PORT=8001 run fasterapi 8001 python3 benchmarks/pg/http_fasterapi_app.py
PORT=8003 run fasterapi_sync 8003 python3 benchmarks/pg/http_fasterapi_sync_app.py
BENCH_ASYNCPG_NORESET=1 run fastapi_asyncpg_noreset 8004 python3 -m uvicorn --app-dir benchmarks/pg \
  http_fastapi_app:app --port 8004 --loop uvloop --http httptools --no-access-log --log-level warning
run fastapi_asyncpg 8002 python3 -m uvicorn --app-dir benchmarks/pg http_fastapi_app:app --port 8002 \
  --loop uvloop --http httptools --no-access-log --log-level warning
