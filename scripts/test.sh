#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: system packages, the Python package (builds
# the C++ core and the extension), C++ tests (release and ASan+UBSan), bounded fuzzing, a
# PostgreSQL server for the driver tests, pytest, ruff and mypy.
# Usage: bash scripts/test.sh            (FASTERAPI_FUZZ_SECONDS=30 per fuzzer by default: one per tests/fuzz/*_fuzz.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FASTERAPI_FUZZ_SECONDS:-30}

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }
# ccache keys on relative paths below the checkout, so a fresh clone in another folder reuses
# the objects of an earlier build on the same machine.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

step "system packages"
bash scripts/install-deps.sh

step "python package (pip install -e .[dev])"
python3 -m pip install -q --upgrade pip
python3 -m pip install -q -e ".[dev]"

step "C++ release build + ctest"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFA_BUILD_BENCH=ON >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release -j"$jobs" --output-on-failure

# Every C++ test again with the event loop on io_uring (FASTERAPI_LOOP=uring: loops built with
# the default backend take it; loop_backends_test checks the ring is really in use).
step "C++ ctest on io_uring (FASTERAPI_LOOP=uring)"
FASTERAPI_LOOP=uring ctest --test-dir build/release -j"$jobs" --output-on-failure

step "Autobahn WebSocket cases (kosoku, reduced set) against hello_server's C++ /ws echo"
python3 benchmarks/ws/autobahn_app.py --reduced --hello-server build/release/examples/cpp/hello_server

step "C++ ASan+UBSan build + ctest"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFA_SANITIZE=ON \
  -DFA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan -j"$jobs" --output-on-failure

step "fuzzers (${fuzz_seconds}s each)"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFA_FUZZ=ON -DFA_BUILD_TESTS=OFF -DFA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/fuzz -j"$jobs"
mkdir -p build/fuzz/artifacts
for fuzzer in build/fuzz/tests/fuzz/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  corpus="tests/fuzz/corpus/$name"
  work="build/fuzz/corpus-$name"
  mkdir -p "$work"
  dirs=("$work")
  [[ -d "$corpus" ]] && dirs+=("$corpus")
  echo "fuzzing $name"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$fuzzer" -max_total_time="$fuzz_seconds" -artifact_prefix=build/fuzz/artifacts/ \
    -print_final_stats=1 "${dirs[@]}" 2>&1 | tail -4
done

step "PostgreSQL"
bash scripts/ensure-postgres.sh
export FASTERAPI_REQUIRE_PG=1
export FASTERAPI_REQUIRE_BROWSER=1  # tests/python/ws/test_ws_browser.py fails without chromium

# The C++ client's tests (tests/cpp/pg) ran above before the server was sure to be up; run them
# again now that a missing server fails them (release and ASan builds).
step "C++ PostgreSQL client tests against the server"
ctest --test-dir build/release -R '^Pg(Connection|Pool|Http|Auth)\.' --output-on-failure
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan -R '^Pg(Connection|Pool|Http|Auth)\.' --output-on-failure

step "ruff + mypy"
python3 -m ruff check fasterapi tests/python benchmarks examples tools
python3 -m mypy

step "pytest"
python3 -m pytest tests/python benchmarks/e2e/tests -q -p no:cacheprovider

# The whole Python suite again with every TestClient serving over TLS (a throwaway CA; see
# docs/http-server.md, TLS section), then once more with every TestClient
# speaking HTTP/2 (h2c, prior knowledge), so nothing works on HTTP/1.1 only. pytest deselects
# (counted, modules named in the summary) the modules that never serve through TestClient
# (NOT_THROUGH_TESTCLIENT in tests/python/conftest.py: PG driver, MCP, h2 frame tests against
# their own servers...) and the tests about one transport, marked transport_specific (raw
# HTTP/1.1 bytes on plain TCP, curl or headless Chromium on http:// URLs, h2c opened by hand
# on the port, answers compared with FastAPI's for http://).
# tests/python/tls/test_transport_switch.py and tests/python/h2/test_h2_switch.py (in the suite)
# fail if the switch did not take.
step "pytest over TLS (FASTERAPI_TEST_TRANSPORT=tls)"
FASTERAPI_TEST_TRANSPORT=tls timeout 1800 python3 -m pytest tests/python -q -p no:cacheprovider

step "pytest over h2c (FASTERAPI_TEST_TRANSPORT=h2c)"
FASTERAPI_TEST_TRANSPORT=h2c timeout 1800 python3 -m pytest tests/python -q -p no:cacheprovider

# The HTTP-focused files (a hand-picked list) with the engine's loop on io_uring, plus the
# raw-socket HTTP tests; test_loop_backend.py fails if the ring was not in use.
http_suite=(
  tests/python/test_http.py tests/python/test_routing.py tests/python/test_responses.py
  tests/python/test_params.py tests/python/test_request_body.py tests/python/test_dependencies.py
  tests/python/test_dependency_errors.py tests/python/test_errors.py tests/python/test_middleware.py
  tests/python/test_testclient.py tests/python/test_header_validation.py
  tests/python/test_static_paths.py tests/python/test_gzip_negotiation.py
  tests/python/test_endpoint.py tests/python/test_async_docs.py tests/python/forms/test_forms_parity.py
  tests/python/security tests/python/surface/test_fast_path.py tests/python/ws/test_ws_testclient.py
)
step "pytest on io_uring (FASTERAPI_LOOP=uring)"
FASTERAPI_LOOP=uring timeout 900 python3 -m pytest -q -p no:cacheprovider \
  "${http_suite[@]}" tests/python/test_pipelining.py tests/python/test_native_server.py \
  tests/python/test_eager_dispatch.py tests/python/test_loop_backend.py

# FastAPI's docs_src tutorial apps on FastAPI and on FasterAPI, answers compared; fails when
# more apps differ than tests/compat/baseline.txt allows (tests/compat/README.md).
step "FastAPI parity harness"
python3 -m pytest tests/compat -q -p no:cacheprovider

# The eager start of async handlers differs by Python version (asyncio's eager tasks on 3.12+,
# a stand-in on 3.11): the Python suite runs again on 3.13. A missing interpreter fails.
py313=${FASTERAPI_PY313:-$HOME/.pyenv/versions/3.13.0/bin/python3}
step "python package + pytest on $("$py313" --version)"
"$py313" -m pip install -q --upgrade pip
"$py313" -m pip install -q -e ".[test]"
"$py313" -m pytest tests/python -q -p no:cacheprovider
