#!/bin/bash
# Revocation at scale (issue #25, item 2): what a new connection's first authenticate() costs and
# what memory its backend keeps, as live revocations grow (0, 10k, 100k, then 100k with 400k
# expired rows left unpruned), with the revoked sets shared once per server (taskauth in
# shared_preload_libraries; the database "shared" holds the one area,
# taskauth.shared_revocation_databases = 1) and kept per backend (the database "own", same
# rows, no area left for it), in one server, rounds alternating between the two. Then what a
# prune() that deletes expired rows costs the backends (full reads of the table counted in a
# watching backend of each database).
# Prints Markdown; progress on stderr. Not part of `make test`.
# Usage: bench/revocation_capacity.sh   (taskauth installed; runs in its own throwaway cluster)
#   env: ROUNDS=9
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_preload_libraries=taskauth" "taskauth.shared_revocation_databases=1" \
  "shared_buffers=512MB" -- "$@"

ROUNDS=${ROUNDS:-9}
unset PGDATABASE
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }

for db in shared own; do
  createdb "$db"
  q "$db" -f "$here/capacity/setup.sql" >/dev/null
done
# the database "shared" takes the one slot
[[ $(q shared -c "SELECT taskauth.authenticate(token) IS NOT NULL FROM bench_token") == t ]]
[[ $(q shared -c "SELECT revocations_shared FROM taskauth.backend_stats()") == f ]] || true

# One new connection: its first authenticate() (ms), private memory grown by it (kB), and what
# backend_stats says. The second call in the same backend shows the steady cost.
probe() {
  q "$1" -F ' ' <<'SQL'
SELECT bench_private_kb() \g /dev/null
SELECT bench_private_kb() AS pb \gset
SELECT bench_first_call() AS first \gset
SELECT bench_private_kb() AS pa \gset
SELECT round(:first::numeric, 3), :pa - :pb, revocations_shared, revocation_bytes,
       revoked_sessions + revoked_users, revocation_full_loads, revocation_loads,
       round(bench_first_call()::numeric, 3)
FROM taskauth.backend_stats();
SQL
}

echo "| live revocations | expired rows | sets | first authenticate, ms (median, range) | private memory grown, kB (median) | revocation bytes in the backend | reads by the new backend (full / new rows) | second call, ms |"
echo "|---|---|---|---|---|---|---|---|"
step() {
  local live=$1 expired=$2 db r first mem shared bytes held full loads second
  declare -A f m b rd s2 sh
  # the first connection after the rows arrived reads them into the area (reported apart)
  for db in shared own; do
    r=$(probe "$db"); echo "  after adding rows, $db: $r" >&2
  done
  for ((i = 1; i <= ROUNDS; i++)); do
    if (( i % 2 )); then order=(shared own); else order=(own shared); fi
    for db in "${order[@]}"; do
      read -r first mem shared bytes held full loads second <<<"$(probe "$db")"
      f[$db]+="$first "; m[$db]+="$mem "; b[$db]=$bytes; rd[$db]="$full / $loads"; s2[$db]+="$second "
      sh[$db]=$shared
      echo "  $live live, $expired expired, $db round $i: $first ms, +$mem kB, shared=$shared, $held held" >&2
    done
  done
  for db in shared own; do
    # shellcheck disable=SC2086
    echo "| $live | $expired | $db (shared=${sh[$db]}) | $(median ${f[$db]}) ($(range ${f[$db]})) | $(median ${m[$db]}) | ${b[$db]} | ${rd[$db]} | $(median ${s2[$db]}) |"
  done
}

step 0 0
for db in shared own; do q "$db" -c "SELECT bench_revoke(10000, false)" >/dev/null; done
step 10000 0
for db in shared own; do q "$db" -c "SELECT bench_revoke(90000, false)" >/dev/null; done
step 100000 0
for db in shared own; do q "$db" -c "SELECT bench_revoke(400000, true)" >/dev/null; done
step 100000 400000

# prune(): a watching backend in each database has read everything; prune deletes expired rows
echo
echo "| database | rows prune() deleted | watcher's full reads before / after | watcher's next authenticate, ms |"
echo "|---|---|---|---|"
for db in shared own; do
  coproc W { psql -X -q -At -d "$db" 2>&1; }
  echo "SELECT bench_first_call() \\g /dev/null" >&"${W[1]}"
  echo "SELECT 'before', revocation_full_loads FROM taskauth.backend_stats();" >&"${W[1]}"
  read -r before <&"${W[0]}"
  deleted=$(q "$db" -c "SELECT taskauth.prune(400000)")
  echo "SELECT 'after', revocation_full_loads, round(bench_first_call()::numeric, 3) FROM taskauth.backend_stats();" >&"${W[1]}"
  read -r after <&"${W[0]}"
  exec {W[1]}>&-
  wait "$W_PID" 2>/dev/null || true
  IFS='|' read -r _ fb <<<"$before"; IFS='|' read -r _ fa ms <<<"$after"
  echo "| $db | $deleted | $fb / $fa | $ms |"
done
echo
echo "Machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(psql -X -At -c 'SHOW server_version' postgres); $(date -u '+%Y-%m-%d %H:%M UTC')."
