#!/bin/bash
# Instructions per call (valgrind callgrind, Ir) of orjson and fasterapi's dumps/loads: unlike
# wall time, the count does not depend on how loaded the machine is. The loop of N calls to
# `id` is subtracted, so the figure is the call itself.
# Usage: FASTERAPI_NATIVE_DIR=build-json/py PYTHONPATH=. benchmarks/json/instructions.sh
set -euo pipefail
here=$(dirname "$0")
py=$(python3 -c 'import sys; print(sys.executable)')  # the real binary, not a pyenv shim
count() {  # lib payload op n -> total instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$py" "$here/bench_json.py" \
    --loop "$1" "$2" "$3" "$4" 2>&1 | awk '/Collected/ {print $4}'
}
printf "%-8s %-6s %12s %12s\n" payload op orjson fasterapi
for spec in "small 20000" "api 2000" "list 30"; do
  read -r payload n <<<"$spec"
  for op in dumps loads; do
    base=$(count none "$payload" "$op" "$n")
    o=$(count orjson "$payload" "$op" "$n")
    f=$(count fasterapi "$payload" "$op" "$n")
    printf "%-8s %-6s %12d %12d\n" "$payload" "$op" $(((o - base) / n)) $(((f - base) / n))
  done
done
