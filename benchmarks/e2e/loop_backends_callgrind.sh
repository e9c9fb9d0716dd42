#!/bin/bash
# User-space instructions per request of the C++ engine on each loop backend (epoll, io_uring),
# counted by callgrind: deterministic, so it can be compared on a busy machine where the wall
# and CPU figures of benchmarks/e2e/loop_backends.py cannot. It does not see the kernel (where
# most of a request's CPU goes: TCP, and the system calls io_uring saves), so it answers "what
# does the ring path cost in our code", not "which backend uses less CPU".
#
# tfb_server runs under valgrind --tool=callgrind; loadgen sends exactly N1 and then, in a second
# server run, N2 requests (pipelined DEPTH deep over 16 connections); the figure is
# (Ir(N2) - Ir(N1)) / (N2 - N1), which cancels start-up and shutdown.
#
# usage: benchmarks/e2e/loop_backends_callgrind.sh [PATH] [DEPTH] [N1] [N2]
#   defaults: /plaintext 16 20000 60000; env SERVER (another tfb_server binary), BACKENDS
#   ("epoll uring"), KEEP (a path prefix: keeps the N2 runs' profiles for callgrind_annotate)
# needs: cmake --build build/dev --target tfb_server loadgen; valgrind
set -euo pipefail
cd "$(dirname "$0")/../.."
path=${1:-/plaintext}
depth=${2:-16}
n1=${3:-20000}
n2=${4:-60000}
server=${SERVER:-build/dev/benchmarks/techempower/cpp/tfb_server}
loadgen=build/dev/benchmarks/loadgen/loadgen
for b in "$server" "$loadgen"; do
  [ -x "$b" ] || { echo "$b is missing: cmake --build build/dev --target tfb_server loadgen" >&2; exit 2; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# shellcheck source=benchmarks/e2e/callgrind_server.sh
. benchmarks/e2e/callgrind_server.sh

# Prints the total Ir of one server run that answered n requests.
count() {
  local backend=$1 n=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file="$out/$backend.$n" \
    "$server" --host 127.0.0.1 --port "$port" --loop "$backend" >"$out/server.log" 2>&1 &
  local pid=$!
  wait_listening "$port"
  "$loadgen" -n "$n" -c 16 -p "$depth" "http://127.0.0.1:$port$path" >"$out/loadgen.log" 2>&1 || {
    cat "$out/loadgen.log" "$out/server.log" >&2
    kill "$pid"
    exit 1
  }
  grep -q "$n requests in" "$out/loadgen.log" || { cat "$out/loadgen.log" >&2; kill "$pid"; exit 1; }
  stop_server "$pid" "$port"
  awk '/^summary:/ {print $2}' "$out/$backend.$n"
}

echo "callgrind: GET $path, pipelined x$depth, 16 connections, requests $n1 and $n2"
for backend in ${BACKENDS:-epoll uring}; do
  a=$(count "$backend" "$n1")
  b=$(count "$backend" "$n2")
  echo "$backend: $(( (b - a) / (n2 - n1) )) instructions per request (user space)"
  if [ -n "${KEEP:-}" ]; then cp "$out/$backend.$n2" "$KEEP.$backend"; fi
done
