#!/bin/bash
# What a new connection costs with taskauth loaded per connection (session_preload_libraries, which
# CREATE EXTENSION sets for the database) and loaded once at server start
# (shared_preload_libraries), against a database without taskauth: one pgbench client opening a
# new connection for every transaction (-C), each running one statement (SELECT 1), in ROUNDS
# rounds of SECONDS each, the databases alternating within a round; medians of ms per
# connection. Both preload settings run in one cluster, restarted between them in every round (as
# CREATE EXTENSION leaves it, and with shared_preload_libraries = 'taskauth'), their order
# alternating.
# Usage: bench/connection_cost.sh   (env: ROUNDS=7 RUN_SECONDS=4)
# Needs taskauth installed (make install); runs in a throwaway cluster of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/lib/cluster.sh"
in_own_cluster "$0" -- "$@"

ROUNDS=${ROUNDS:-7}
SECONDS_PER_RUN=${RUN_SECONDS:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo 'SELECT 1;' >"$work/one.sql"

psql -X -q -c 'CREATE DATABASE plain' -c 'CREATE DATABASE app'
psql -X -q -d app -c 'CREATE EXTENSION taskauth'

# ms per connection and statement: pgbench's tps with -C, one client
per_conn() {
  local tps
  tps=$(pgbench -n -C -c 1 -T "$SECONDS_PER_RUN" -f "$work/one.sql" "$1" 2>/dev/null |
        sed -nE 's/^tps = ([0-9.]+).*/\1/p' | head -1)
  awk -v t="$tps" 'BEGIN { printf "%.3f\n", 1000 / t }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

pgv=$(pg_config --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
# restart the server with shared_preload_libraries as $1 ('' or 'taskauth'), and check it
server_with() {
  if [[ -n $1 ]]; then psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = '$1'"
  else psql -X -q -c 'ALTER SYSTEM RESET shared_preload_libraries'; fi
  pg_ctlcluster "$pgv" regress restart
  local want=${2}
  status=$(psql -X -At -d app -c 'SELECT taskauth.preload_status()')
  [[ $status == "$want" ]] || { echo "unexpected preload status: $status" >&2; exit 1; }
}

# in each round both server settings (their order alternating) and both databases; results
# as "setting.database ms" lines
{
  for r in $(seq "$ROUNDS"); do
    if ((r % 2)); then order="session shared"; else order="shared session"; fi
    for mode in $order; do
      if [[ $mode == shared ]]; then server_with taskauth shared_preload_libraries
      else server_with '' session_preload_libraries; fi
      for db in plain app; do echo "$mode.$db $(per_conn "$db")"; done
    done
  done
} >"$work/runs"

get() { awk -v k="$1" '$1 == k { print $2 }' "$work/runs" | median; }
plain_s=$(get session.plain); app_s=$(get session.app)
plain_h=$(get shared.plain); app_h=$(get shared.app)
echo "## Connection cost, $(date -u '+%Y-%m-%d %H:%M UTC'), taskauth $(cd "$root" && git rev-parse --short HEAD)"
echo
echo "- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1); $(psql -X -At -c 'SHOW server_version')"
echo "- One pgbench client, a new connection per transaction (-C), SELECT 1; medians of $ROUNDS rounds of ${SECONDS_PER_RUN} s, databases alternating"
echo
echo "| server started with | database without taskauth | database with taskauth | taskauth's part |"
echo "|---|---|---|---|"
awk -v p="$plain_s" -v a="$app_s" 'BEGIN { printf "| shared_preload_libraries unset (CREATE EXTENSION'"'"'s session_preload_libraries) | %.2f ms | %.2f ms | +%.2f ms (%.1f%%) |\n", p, a, a - p, 100 * (a - p) / p }'
awk -v p="$plain_h" -v a="$app_h" 'BEGIN { printf "| shared_preload_libraries = '"'"'taskauth'"'"' | %.2f ms | %.2f ms | +%.2f ms (%.1f%%) |\n", p, a, a - p, 100 * (a - p) / p }'
