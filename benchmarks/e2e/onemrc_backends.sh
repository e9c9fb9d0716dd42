#!/bin/bash
# The 1MRC C++ entry (examples/cpp/onemrc_server) timed on each loop backend, alternating them:
# server pinned to core 0, loadgen --1mrc (EXACT or MISMATCH) to core 1, and for the server:
# CPU per request (utime+stime, /proc/PID/stat) and where its wall time went, from
# /proc/PID/schedstat: running, runnable but waiting for its core (another process had it: a
# busy machine) and asleep (waiting for I/O: the client, or delays of the backend itself).
# Only "asleep" says the server waits; a server at half a core with a large "waiting for its
# core" share is a busy machine, not a slow backend. Timed figures: compare within one run.
#
# usage: benchmarks/e2e/onemrc_backends.sh [REQUESTS] [ROUNDS]   (defaults 500000 3)
#   env SERVER (another onemrc_server binary), BACKENDS ("uring epoll")
# needs: cmake --build build/dev --target onemrc_server loadgen
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-500000}
rounds=${2:-3}
server=${SERVER:-build/dev/examples/cpp/onemrc_server}
loadgen=build/dev/benchmarks/loadgen/loadgen
for b in "$server" "$loadgen"; do
  [ -x "$b" ] || { echo "$b is missing: cmake --build build/dev --target onemrc_server loadgen" >&2; exit 2; }
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

one() {
  local backend=$1 port pid t0 t1 r0 q0 r1 q1 w0 w1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  taskset -c 0 "$server" --host 127.0.0.1 --port "$port" --loop "$backend" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  t0=$(cpu_ticks "$pid"); read -r r0 q0 _ <"/proc/$pid/schedstat"; w0=$(date +%s%N)
  taskset -c 1 "$loadgen" --1mrc -n "$n" "http://127.0.0.1:$port/event" >"$log" 2>&1 || true
  t1=$(cpu_ticks "$pid"); read -r r1 q1 _ <"/proc/$pid/schedstat"; w1=$(date +%s%N)
  kill -INT "$pid"
  wait "$pid" || true
  local wall=$((w1 - w0)) tck
  tck=$(getconf CLK_TCK)
  printf '%-6s %10s req/s  %-8s %6.2f µs CPU/req  running %3d%%  waiting for its core %3d%%  asleep %3d%%  (load %s)\n' \
    "$backend" "$(grep -oE 'Requests/sec: [0-9.]+' "$log" | grep -oE '[0-9]+' | head -1)" \
    "$(grep -oE 'EXACT|MISMATCH' "$log" | head -1)" \
    "$(echo "scale=3; ($t1 - $t0) * 1000000 / $tck / $n" | bc)" \
    $(((r1 - r0) * 100 / wall)) $(((q1 - q0) * 100 / wall)) \
    $((100 - (r1 - r0 + q1 - q0) * 100 / wall)) "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "1MRC: $n requests over 1000 connections per run; server on core 0, loadgen on core 1"
for _ in $(seq "$rounds"); do
  for backend in ${BACKENDS:-uring epoll}; do one "$backend"; done
done
