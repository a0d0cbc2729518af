#!/bin/bash
# The whole authenticated request against the same request done app-side, in both of pgbench's
# protocol modes that drivers use (-M extended: every statement parsed and planned again, as
# PostgREST and most drivers send them; -M prepared: plans kept per connection):
#   rls: BEGIN; SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token);
#        SELECT count(*), max(title) FROM taskauth.tasks WHERE NOT is_completed; END
#        (bench/pgbench/open_rls.sql: the user's open tasks through row-level security)
#   app: the same with a BYPASSRLS role, no token work, and AND user_id = ... (open_app.sql)
# 1M tasks over 10k users (bench/pgbench/setup.sql), TOKENS users' tokens presented again and
# again; CLIENTS clients; ROUNDS pairs of SECONDS-long runs per mode, the order alternating
# within each pair; medians of the per-pair tps ratios app/rls. Then MIXED rounds per mode in
# which one pgbench run mixes both scripts at random (outside load then falls on both alike):
# the ratio of their average latencies, rls/app, stands for the tps ratio. Last, BREAKDOWN runs
# per mode mix in a third script, app_auth (open_app_auth.sql: the app-side request plus
# authenticate(), no row-level security), splitting the extra into the token's part
# (app_auth/app) and the policies' part (rls/app_auth). Prints Markdown.
# Usage: bench/request_modes.sh   (env: ROUNDS=12 MIXED=12 SECONDS_PER_RUN=5 CLIENTS=4
#                                   TOKENS=200 MODES="extended prepared")
# Needs taskauth installed (make install); runs in its own throwaway cluster (pg_virtualenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_buffers=1GB" "max_connections=100" -- "$@"

ROUNDS=${ROUNDS:-12}
SECS=${SECONDS_PER_RUN:-5}
CLIENTS=${CLIENTS:-4}
TOKENS=${TOKENS:-200}
MODES=${MODES:-extended prepared}
MIXED=${MIXED:-12}
BREAKDOWN=${BREAKDOWN:-6}
export PGDATABASE=ta_bench

echo "Setting up: 10k users, 1M tasks ..." >&2
psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE"
psql -X -q -f "$here/pgbench/setup.sql" >/dev/null
psql -X -q -c "VACUUM (ANALYZE, FREEZE)" -c "CHECKPOINT"

# Both requests must give the same answer for the same user.
same=$(psql -X -q -At <<'SQL'
BEGIN;
SELECT uid AS uid, token AS token FROM bench_tokens WHERE n = 42 \gset
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(:'token') \g /dev/null
SELECT count(*) || ' ' || max(title) FROM taskauth.tasks WHERE NOT is_completed;
SELECT set_config('role', 'bench_app', true) \g /dev/null
SELECT count(*) || ' ' || max(title) FROM taskauth.tasks WHERE NOT is_completed AND user_id = :'uid';
ROLLBACK;
SQL
)
[[ $(sed -n 1p <<<"$same") == "$(sed -n 2p <<<"$same")" && $(sed -n 1p <<<"$same") == 6[67]\ * ]] || {
  echo "the two requests differ: $same" >&2; exit 1; }

# tps of one run of one script
run() {
  local out
  out=$(pgbench -n -M "$1" -c "$CLIENTS" -j "$(nproc)" -T "$SECS" -D tokens="$TOKENS" \
        -f "$here/pgbench/open_$2.sql" 2>&1) || { echo "$out" >&2; exit 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || { echo "$out" >&2; exit 1; }
  sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out"
}
# the average latencies (ms) of one run mixing scripts (default: rls and app), in their order
run_mixed() {
  local out m=$1 args=()
  shift
  for v in "${@:-rls app}"; do for w in $v; do args+=(-f "$here/pgbench/open_$w.sql@1"); done; done
  out=$(pgbench -n -M "$m" -c "$CLIENTS" -j "$(nproc)" -T "$SECS" -D tokens="$TOKENS" \
        "${args[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || { echo "$out" >&2; exit 1; }
  sed -nE 's/^ - latency average = ([0-9.]+) ms/\1/p' <<<"$out" | paste -sd' '
}
# a / b to three places
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

echo "Warm-up ..." >&2
for m in $MODES; do run "$m" rls >/dev/null; run "$m" app >/dev/null; done

echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC'), taskauth $(cd "$root" && git rev-parse --short HEAD)"
echo
echo "- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Server: $(psql -X -At -c 'SHOW server_version'); pgbench -c $CLIENTS -j $(nproc) -T $SECS, $TOKENS tokens, $ROUNDS alternated pairs per mode"
echo
echo "| mode | rls tps (median) | app tps (median) | app/rls, median of pairs | pairs |"
echo "|---|---|---|---|---|"
for m in $MODES; do
  a=(); b=(); r=()
  for ((i = 1; i <= ROUNDS; i++)); do
    if ((i % 2)); then ta=$(run "$m" rls); tb=$(run "$m" app)
    else tb=$(run "$m" app); ta=$(run "$m" rls); fi
    a+=("$ta"); b+=("$tb"); r+=("$(ratio "$tb" "$ta")")
    echo "$m pair $i: rls $ta, app $tb tps, ratio ${r[-1]}" >&2
  done
  echo "| $m | $(median "${a[@]}") | $(median "${b[@]}") | **$(median "${r[@]}")** | $(printf '%s ' "${r[@]}")|"
done

echo
echo "Mixed runs (both scripts in one pgbench run): average latency rls/app"
echo
echo "| mode | rls/app, median of runs | runs |"
echo "|---|---|---|"
for m in $MODES; do
  r=()
  for ((i = 1; i <= MIXED; i++)); do
    read -r la lb < <(run_mixed "$m")
    r+=("$(ratio "$la" "$lb")")
    echo "$m mixed $i: rls $la ms, app $lb ms, ratio ${r[-1]}" >&2
  done
  echo "| $m | **$(median "${r[@]}")** | $(printf '%s ' "${r[@]}")|"
done

echo
echo "Breakdown (rls, app and app_auth in one pgbench run): the token's part app_auth/app, the"
echo "policies' part rls/app_auth"
echo
echo "| mode | app_auth/app, median | rls/app_auth, median | rls/app, median | runs |"
echo "|---|---|---|---|---|"
for m in $MODES; do
  t=(); p=(); w=()
  for ((i = 1; i <= BREAKDOWN; i++)); do
    read -r la lb lc < <(run_mixed "$m" rls app app_auth)
    t+=("$(ratio "$lc" "$lb")")
    p+=("$(ratio "$la" "$lc")")
    w+=("$(ratio "$la" "$lb")")
    echo "$m breakdown $i: rls $la, app $lb, app_auth $lc ms" >&2
  done
  echo "| $m | $(median "${t[@]}") | $(median "${p[@]}") | $(median "${w[@]}") | $BREAKDOWN |"
done
