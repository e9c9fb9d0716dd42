#!/usr/bin/env bash
# Installs the system packages FasterAPI builds, tests and benchmarks with (Debian).
# Idempotent: installs only what is missing. Run as root (CI and dev machines are).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang clang-format libclang-rt-14-dev   # libFuzzer + sanitizers
  libgtest-dev libgmock-dev libbenchmark-dev
  libsimdjson-dev libssl-dev zlib1g-dev libnghttp2-dev
  libzstd-dev libbrotli-dev                # response compression (src/compress): zstd, br
  libjwt-dev                               # MCP authorization: JWT signatures (src/mcp/auth)
  liburing-dev                             # io_uring event-loop backend (src/core/uring_*)
  libh2o-evloop-dev                        # picohttpparser, for the side-by-side parser benchmark
  wrk nginx-light curl procps              # e2e benchmarks and smoke tests
  nghttp2-client                           # nghttp and h2load: HTTP/2 judges and benchmarks/h2
  linux-perf strace                        # benchmarks/e2e/profile_server.sh
  postgresql postgresql-contrib            # initdb/pg_ctl for throwaway clusters, pgbench
  openssl                                  # certificates for the PostgreSQL TLS tests
  chromium                                 # a real browser as WebSocket client (tests/python/ws)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
bash "$(dirname "$0")/install-node22.sh" >/dev/null  # Node 22 + pinned MCP conformance suites (tests/python/mcp/conformance)
