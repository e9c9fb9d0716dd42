#!/usr/bin/env bash
# Installs everything on a fresh Debian machine and serves the seed's first example
# (examples/hello.py) on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
python3 -m pip install -q -e ".[all]"
exec python3 examples/hello.py
