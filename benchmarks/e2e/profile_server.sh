#!/usr/bin/env bash
# Where a server's CPU goes under wrk: perf's share per binary (kernel, engine, CPython, libc)
# and the system calls per request (strace -c). Server on core 0, wrk on core 1, loopback.
# Usage: bash benchmarks/e2e/profile_server.sh [app|hello]     (needs linux-perf and strace)
set -euo pipefail
cd "$(dirname "$0")/../.."
which=${1:-app}
port=18197
if [[ $which == app ]]; then
  taskset -c 0 python3 benchmarks/e2e/apps/fasterapi_app.py --port $port >/dev/null 2>&1 &
else
  taskset -c 0 build-bench/examples/cpp/hello_server --port $port >/dev/null 2>&1 &
fi
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
taskset -c 1 wrk -t1 -c64 -d12s "http://127.0.0.1:$port/" >/tmp/fasterapi-profile.wrk &
load=$!
sleep 1
perf record -q -e cpu-clock -F 5000 -p "$server" -o /tmp/fasterapi-profile.data -- sleep 4 2>/dev/null
echo "== CPU share by binary ($which)"
perf report -q -i /tmp/fasterapi-profile.data --no-children --sort dso 2>/dev/null | head -6
echo "== system calls ($which, 3 s)"
timeout 3 strace -c -f -p "$server" 2>&1 | grep -v "^strace:" | head -8 || true
wait "$load"
# A profile of a server answering errors is a profile of the error path: say so.
if grep -qE "Non-2xx|Socket errors" /tmp/fasterapi-profile.wrk; then
  echo "== INVALID: wrk reported errors during the profile; the figures above do not describe GET /"
  grep -E "Non-2xx|Socket errors" /tmp/fasterapi-profile.wrk
fi
