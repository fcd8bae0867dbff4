#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 cluster and give the postgres role the password the tests use.
set -euo pipefail
if ! pg_lsclusters -h 2>/dev/null | grep -q "^15 *main .*online"; then
  pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
