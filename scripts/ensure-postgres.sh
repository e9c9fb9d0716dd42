#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at 127.0.0.1:5432 (trust auth) for the test suite:
# starts the machine's cluster if it is installed but stopped. Tests that find no server
# start a throwaway cluster themselves (tests/python/pg/conftest.py).
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL answers at 127.0.0.1:5432"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && { echo "started cluster $version/main"; exit 0; }
    sleep 1
  done
fi
echo "no PostgreSQL at 127.0.0.1:5432; the tests will start a throwaway cluster"
