#!/bin/bash
# Cost of authentication + row-level security per request, measured with pgbench.
# 1M tasks over 10k users; compares
#   (a) rls: BEGIN; SET LOCAL ROLE bench_api; SELECT taskauth.authenticate(token);
#            SELECT ... FROM taskauth.tasks; END            (bench/pgbench/rls.sql)
#   (b) app: the same request with no token work in the database, a BYPASSRLS role and
#            WHERE user_id = ... on the same index               (bench/pgbench/app.sql)
# in alternated runs (medians, tps ratio (b)/(a)) and in mixed runs where the scripts share one
# pgbench run (per-script latency ratio (a)/(b)); prints the results as Markdown.
# The mixed runs also time (a1) rls_one.sql, (b1) app_auth.sql and both requests pipelined,
# (a-p) rls_pipe.sql and (b-p) app_pipe.sql: each request's statements in one round trip
# (pgbench \startpipeline, needs -M prepared or -M extended).
# Usage: bench/identity_pgbench.sh   (env: ROUNDS=7 SECONDS_PER_RUN=20 CLIENTS=nproc)
# Needs taskauth installed (make install); runs in its own throwaway cluster (pg_virtualenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

if [[ ${TASKAUTH_BENCH_IN_CLUSTER:-} != 1 ]]; then
  opts=()
  while read -r line; do
    [[ -z $line || $line == \#* ]] || opts+=(-o "$line")
  done < "$root/test/cluster.conf"
  # Enough shared memory to keep the 1M-row table and its indexes cached for both variants.
  opts+=(-o "shared_buffers=1GB" -o "max_connections=100")
  TASKAUTH_BENCH_IN_CLUSTER=1 exec pg_virtualenv -t -v 15 "${opts[@]}" "$0" "$@"
fi

ROUNDS=${ROUNDS:-7}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
CLIENTS=${CLIENTS:-$(nproc)}
JOBS=${JOBS:-$CLIENTS}
export PGDATABASE=ta_bench

echo "Setting up: 10k users, 1M tasks, 10k tokens ..." >&2
start=$SECONDS
psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE"
psql -X -q -f "$here/pgbench/setup.sql" >/dev/null
psql -X -q -c "VACUUM (ANALYZE, FREEZE)"
psql -X -q -c "CHECKPOINT"
counts=$(psql -X -At -c "SELECT (SELECT count(*) FROM taskauth.users) || ' users, '
                              || (SELECT count(*) FROM taskauth.tasks) || ' tasks, '
                              || (SELECT count(*) FROM bench_tokens) || ' tokens'")
echo "Setup done in $((SECONDS - start)) s: $counts" >&2

# Both requests must return the same rows for the same user, or the comparison is meaningless.
check=$(psql -X -q -At <<'SQL'
BEGIN;
SELECT uid AS uid, token AS token FROM bench_tokens WHERE n = 4242 \gset
SET LOCAL ROLE bench_api;
SELECT taskauth.authenticate(:'token') \g /dev/null
SELECT md5(string_agg(id::text, ',' ORDER BY id)) || ' ' || count(*) FROM taskauth.tasks;
SET LOCAL ROLE bench_app;
SELECT md5(string_agg(id::text, ',' ORDER BY id)) || ' ' || count(*) FROM taskauth.tasks
WHERE user_id = :'uid';
ROLLBACK;
SQL
)
a_rows=$(sed -n 1p <<<"$check"); b_rows=$(sed -n 2p <<<"$check")
if [[ $a_rows != "$b_rows" || $a_rows != *" 100" ]]; then
  echo "the two requests do not return the same 100 rows: '$a_rows' vs '$b_rows'" >&2
  exit 1
fi
plan_a=$(psql -X -q -At <<'SQL'
BEGIN;
SELECT token FROM bench_tokens WHERE n = 4242 \gset
SET LOCAL ROLE bench_api;
SELECT taskauth.authenticate(:'token') \g /dev/null
EXPLAIN (COSTS OFF) SELECT id, title, description, is_completed, created_at, updated_at
FROM taskauth.tasks;
ROLLBACK;
SQL
)
plan_b=$(psql -X -q -At <<'SQL'
BEGIN;
SELECT uid FROM bench_tokens WHERE n = 4242 \gset
SET LOCAL ROLE bench_app;
EXPLAIN (COSTS OFF) SELECT id, title, description, is_completed, created_at, updated_at
FROM taskauth.tasks WHERE user_id = :'uid';
ROLLBACK;
SQL
)

# One pgbench run; prints "tps latency_ms".
run() {
  local out
  out=$(pgbench -n -M prepared -c "$CLIENTS" -j "$JOBS" -T "$SECONDS_PER_RUN" \
        -f "$here/pgbench/$1.sql" 2>&1) || { echo "$out" >&2; exit 1; }
  local tps lat
  tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' <<<"$out")
  lat=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' <<<"$out")
  [[ -n $tps ]] || { echo "$out" >&2; exit 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || {
    echo "pgbench reported failed transactions:" >&2; echo "$out" >&2; exit 1; }
  printf '%.1f %s\n' "$tps" "$lat"
}

# One pgbench run with the scripts named as arguments mixed at random (equal weights), so that
# load from outside the benchmark hits them alike; prints their latency averages in ms.
run_mixed() {
  local out args=()
  for v in "$@"; do args+=(-f "$here/pgbench/$v.sql@1"); done
  out=$(pgbench -n -M prepared -c "$CLIENTS" -j "$JOBS" -T "$SECONDS_PER_RUN" "${args[@]}" 2>&1) || {
    echo "$out" >&2; exit 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || {
    echo "pgbench reported failed transactions:" >&2; echo "$out" >&2; exit 1; }
  awk -v n=$# '/^SQL script [0-9]+:/ {s = $3 + 0}
       /^ - latency average = / && s {lat[s] = $5}
       END {for (i = 1; i <= n; i++) {if (lat[i] == "") exit 1; printf "%s%s", lat[i], (i < n ? " " : "\n")}}' \
    <<<"$out" || { echo "$out" >&2; exit 1; }
}

# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

echo "Warm-up ..." >&2
run rls >/dev/null; run app >/dev/null
a_tps=(); b_tps=(); a_lat=(); b_lat=(); rows=()
for ((i = 1; i <= ROUNDS; i++)); do
  # Alternate which variant goes first so drift (cache, thermal) does not favour one.
  if ((i % 2)); then order=(rls app); else order=(app rls); fi
  for v in "${order[@]}"; do
    read -r tps lat < <(run "$v")
    echo "round $i $v: $tps tps, $lat ms" >&2
    if [[ $v == rls ]]; then a_tps+=("$tps"); a_lat+=("$lat"); else b_tps+=("$tps"); b_lat+=("$lat"); fi
  done
  rows+=("| $i | ${a_tps[-1]} | ${b_tps[-1]} | $(awk -v a="${a_tps[-1]}" -v b="${b_tps[-1]}" 'BEGIN {printf "%.3f", b/a}') |")
done

m_ratio=(); m1_ratio=(); mp_ratio=(); mixed_rows=()
for ((i = 1; i <= ROUNDS; i++)); do
  read -r la_m lb_m la1_m lb1_m lap_m lbp_m < <(run_mixed rls app rls_one app_auth rls_pipe app_pipe)
  r=$(awk -v a="$la_m" -v b="$lb_m" 'BEGIN {printf "%.3f", a/b}')
  r1=$(awk -v a="$la1_m" -v b="$lb_m" 'BEGIN {printf "%.3f", a/b}')
  rp=$(awk -v a="$lap_m" -v b="$lbp_m" 'BEGIN {printf "%.3f", a/b}')
  echo "mixed round $i: rls $la_m, app $lb_m, rls_one $la1_m, app_auth $lb1_m, rls_pipe $lap_m, app_pipe $lbp_m ms; ratios $r $r1 $rp" >&2
  m_ratio+=("$r"); m1_ratio+=("$r1"); mp_ratio+=("$rp")
  mixed_rows+=("| $i | $la_m | $lb_m | $la1_m | $lb1_m | $lap_m | $lbp_m | $r | $r1 | $rp |")
done
mr=$(median "${m_ratio[@]}"); mr1=$(median "${m1_ratio[@]}"); mrp=$(median "${mp_ratio[@]}")
verdict_of() { awk -v r="$1" 'BEGIN {print (r <= 1.05 ? "meets" : "misses")}'; }

ma=$(median "${a_tps[@]}"); mb=$(median "${b_tps[@]}")
la=$(median "${a_lat[@]}"); lb=$(median "${b_lat[@]}")
ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b/a}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.05 ? "meets" : "misses")}')

cat <<EOF
## Run of $(date -u '+%Y-%m-%d %H:%M UTC')

- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM
- Server: $(psql -X -At -c 'SELECT version()')
- Settings: shared_buffers = $(psql -X -At -c 'SHOW shared_buffers'), taskauth $(psql -X -At -c "SELECT extversion FROM pg_extension WHERE extname = 'taskauth'")
- Data: $counts
- pgbench: -M prepared -c $CLIENTS -j $JOBS -T $SECONDS_PER_RUN, $ROUNDS alternated rounds after one warm-up run of each
- Each request returns one user's 100 tasks (both variants checked to return the same rows)

| round | (a) authenticate + RLS, tps | (b) app-side, tps | (b)/(a) |
|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

| | (a) authenticate + RLS | (b) app-side |
|---|---|---|
| median tps | $ma | $mb |
| median latency, ms | $la | $lb |

**tps ratio (b)/(a) = $ratio** (target <= 1.05: $verdict).

Mixed runs: the scripts share one pgbench run, each transaction picking one at random, so
outside load falls on all of them alike; latency(x)/latency(b) stands for (b)/(x) in tps.
(a1) is (a) with set_config('role', ...) and authenticate() in one statement, the same
number of round trips as (b); (b1) is (b) plus authenticate() in its own statement, without
row-level security. (a-p) and (b-p) are (a) and (b) pipelined: after the token or id lookup,
BEGIN, the statements and END go in one round trip (pgbench \\startpipeline), so both make
the same number of round trips and (a-p)/(b-p) is the server-side cost of auth + RLS.

| round | (a) ms | (b) ms | (a1) ms | (b1) ms | (a-p) ms | (b-p) ms | (a)/(b) | (a1)/(b) | (a-p)/(b-p) |
|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${mixed_rows[@]}")

**median latency ratio (a)/(b) = $mr** (target <= 1.05: $(verdict_of "$mr")),
(a1)/(b) = $mr1 ($(verdict_of "$mr1")), pipelined (a-p)/(b-p) = $mrp ($(verdict_of "$mrp")).

Plan of (a):
\`\`\`
$plan_a
\`\`\`
Plan of (b):
\`\`\`
$plan_b
\`\`\`
EOF
