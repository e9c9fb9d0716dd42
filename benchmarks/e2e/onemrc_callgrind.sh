#!/bin/bash
# User-space instructions per 1MRC request (POST /event over 1,000 keep-alive connections) of
# the C++ entry, examples/cpp/onemrc_server, on each loop backend, counted by callgrind:
# deterministic, so comparable on a busy machine where the timed 1MRC figures are not. It does
# not see the kernel (the recv/send TCP work, most of a request's CPU); `strace -c -f` on the
# server for the same run counts the system calls.
#
# The server runs under valgrind --tool=callgrind; the 1MRC client (benchmarks/e2e/onemrc)
# sends exactly N1 and then, against a second server run, N2 requests; the figure is
# (Ir(N2) - Ir(N1)) / (N2 - N1), which cancels start-up, the 1,000 connects and shutdown.
# The userIds cycle over USERS (default 1000, all seen within N1) so the difference counts the
# steady state, a known user per request, as in most of the challenge's 1,000,000 requests
# (100,000 users); USERS=100000 with N2 <= 100000 counts a new user per request instead.
#
# usage: benchmarks/e2e/onemrc_callgrind.sh [N1] [N2] [CONNECTIONS]
#   defaults: 20000 60000 1000; env SERVER (another onemrc_server binary), BACKENDS ("epoll uring")
# needs: cmake --build build/dev --target onemrc_server; valgrind; g++
set -euo pipefail
cd "$(dirname "$0")/../.."
n1=${1:-20000}
n2=${2:-60000}
users=${USERS:-1000}
conns=${3:-1000}
server=${SERVER:-build/dev/examples/cpp/onemrc_server}
[ -x "$server" ] || { echo "$server is missing: cmake --build build/dev --target onemrc_server" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
client="$out/onemrc_client"
g++ -O2 -std=c++20 -o "$client" benchmarks/e2e/onemrc/onemrc_client.cpp

# shellcheck source=benchmarks/e2e/callgrind_server.sh
. benchmarks/e2e/callgrind_server.sh

# Prints the total Ir of one server run that answered n requests (and checks they were exact).
count() {
  local backend=$1 n=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file="$out/$backend.$n" \
    "$server" --host 127.0.0.1 --port "$port" --loop "$backend" >"$out/server.log" 2>&1 &
  local pid=$!
  wait_listening "$port"
  "$client" --port "$port" --requests "$n" --connections "$conns" --users "$users" >"$out/client.log" 2>&1 || {
    cat "$out/client.log" >&2
    kill "$pid"
    exit 1
  }
  grep -qx EXACT "$out/client.log" || { cat "$out/client.log" >&2; kill "$pid"; exit 1; }
  stop_server "$pid" "$port"
  awk '/^summary:/ {print $2}' "$out/$backend.$n"
}

echo "callgrind: 1MRC POST /event, $conns connections, $users users, requests $n1 and $n2"
for backend in ${BACKENDS:-epoll uring}; do
  a=$(count "$backend" "$n1")
  b=$(count "$backend" "$n2")
  echo "$backend: $(( (b - a) / (n2 - n1) )) instructions per request (user space)"
  [ -n "${KEEP:-}" ] && cp "$out/$backend.$n2" "$KEEP.$backend"
done
