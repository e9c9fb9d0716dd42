#!/usr/bin/env bash
# One PK lookup per HTTP request: FasterAPI + its driver vs FastAPI + asyncpg (uvicorn, uvloop,
# httptools), both single-process with BENCH_PG_CONNS connections, under wrk.
# Every server gets the same work: GET /user/<random id 1..10000> (random_user.lua, same seed),
# wrk -t2 -c$WRK_CONNS -d$SECS, no pipelining; each must answer GET /user/1 with the same JSON
# as the first one. A run with any wrk error (a "Non-2xx or 3xx responses" line, or a non-zero
# "Socket errors" count) is INVALID: it is printed as such and gets no ratio.
# Needs bench_users (run bench_drivers.py once). Usage: benchmarks/pg/http_bench.sh [seconds] [conns]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-5}
WRK_CONNS=${2:-64}
export PYTHONPATH=${PYTHONPATH:-$PWD}
declare -A RPS=()    # name -> req/s of a valid run
REF_BODY=""          # GET /user/1 from the first server, compared as JSON with every other's
wait_port() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/user/1" >/dev/null && return 0; sleep 0.1; done; return 1; }
same_json() { python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$1" "$2"; }
# wrk_errors FILE: prints the total of wrk's non-2xx/3xx responses and socket errors.
wrk_errors() {
  awk '/Non-2xx or 3xx responses:/ {n += $NF}
       /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
       END {print n + 0}' "$1"
}
run() {  # name port cmd...
  local name=$1 port=$2; shift 2
  "$@" >/tmp/pg_http_$name.log 2>&1 &
  local pid=$!
  wait_port "$port" || { echo "$name did not start"; cat /tmp/pg_http_$name.log; kill $pid; return 1; }
  local body
  body=$(curl -sf "http://127.0.0.1:$port/user/1")
  if [[ -z $REF_BODY ]]; then
    REF_BODY=$body
  elif ! same_json "$REF_BODY" "$body"; then
    echo "== $name: GET /user/1 answered $body, not $REF_BODY: different work, not measured"
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    return 0
  fi
  wrk -t2 -c"$WRK_CONNS" -d1s -s benchmarks/pg/random_user.lua "http://127.0.0.1:$port" >/dev/null
  echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  local out=/tmp/pg_http_$name.wrk
  wrk -t2 -c"$WRK_CONNS" -d"${SECS}s" -s benchmarks/pg/random_user.lua "http://127.0.0.1:$port" >"$out"
  grep -E "Requests/sec|Latency|requests in|Non-2xx|Socket errors" "$out" || true
  local errors rps
  errors=$(wrk_errors "$out")
  rps=$(awk '/Requests\/sec:/ {print $2}' "$out")
  if [[ $errors -ne 0 || -z $rps ]]; then
    echo "INVALID: $name had $errors wrk errors (non-2xx/3xx or socket): excluded from the ratios"
  else
    RPS[$name]=$rps
  fi
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

echo
echo "== ratios (valid runs only; all: GET /user/<id>, wrk -t2 -c$WRK_CONNS -d${SECS}s)"
for ours in fasterapi fasterapi_sync; do
  for base in fastapi_asyncpg_noreset fastapi_asyncpg; do
    if [[ -n ${RPS[$ours]:-} && -n ${RPS[$base]:-} ]]; then
      awk -v a="${RPS[$ours]}" -v b="${RPS[$base]}" -v o="$ours" -v n="$base" \
        'BEGIN {printf "%s / %s: %.2fx\n", o, n, a / b}'
    else
      echo "$ours / $base: — (a run is missing or invalid)"
    fi
  done
done
