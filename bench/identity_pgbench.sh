#!/bin/bash
# Cost of authentication + row-level security per request, measured with pgbench.
# 1M tasks over 10k users; compares
#   (a)  rls: BEGIN; SET LOCAL ROLE bench_api; SELECT taskauth.authenticate(token);
#             SELECT ... FROM taskauth.tasks; END                   (bench/pgbench/rls.sql)
#   (a1) rls_one: the same, role switch and authenticate() in one statement (rls_one.sql)
#   (b)  app: the same request with no token work in the database, a BYPASSRLS role and
#             WHERE user_id = ... on the same index                 (bench/pgbench/app.sql)
# 1. in alternated runs (medians of tps, ratios (b)/(a) and (b)/(a1));
# 2. in mixed runs where the scripts share one pgbench run (per-script latency ratios), with
#    also (b1) app_auth.sql and both requests pipelined, (a-p) rls_pipe.sql and (b-p)
#    app_pipe.sql (each request's statements in one round trip, pgbench \startpipeline);
# 3. in mixed runs with the verified-token cache off (taskauth.token_cache_size = 0).
# Every figure leaves out the first WARMUP seconds of its run, read from pgbench's transaction
# log: the steady state of backends that have served requests for a while. The token cache is
# sized to hold every user's token (CACHE). Prints the results as Markdown.
# Usage: bench/identity_pgbench.sh
#   (env: ROUNDS=5 SECONDS_PER_RUN=40 WARMUP=20 CACHE=16384 CLIENTS=nproc)
# Needs taskauth installed (make install); runs in its own throwaway cluster (pg_virtualenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

. "$here/lib/cluster.sh"
# Enough shared memory to keep the 1M-row table and its indexes cached for both variants.
in_own_cluster "$0" "shared_buffers=1GB" "max_connections=100" -- "$@"

ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-40}
WARMUP=${WARMUP:-20}
CACHE=${CACHE:-16384}
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

# One pgbench run of the scripts named as arguments, mixed at random with equal weights (one
# script: a plain run). Every transaction is logged (pgbench -l); the first WARMUP seconds are
# left out, so the figures are those of backends that have been serving requests for a while
# (caches filled), not of freshly started ones. Prints "tps latency_ms" for each script, in
# order, over the rest of the run, on one line.
run() {
  local dir out args=()
  dir=$(mktemp -d)
  for v in "$@"; do args+=(-f "$here/pgbench/$v.sql@1"); done
  out=$(cd "$dir" && pgbench -n -M prepared -c "$CLIENTS" -j "$JOBS" -T "$SECONDS_PER_RUN" -l \
        "${args[@]}" 2>&1) || { echo "$out" >&2; rm -rf "$dir"; exit 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || {
    echo "pgbench reported failed transactions:" >&2; echo "$out" >&2; rm -rf "$dir"; exit 1; }
  # a log line: client transaction latency_us script epoch_s epoch_us
  cat "$dir"/pgbench_log.* | awk -v n=$# -v warm="$WARMUP" '
    {t = $5 + $6 / 1e6; lat[NR] = $3; scr[NR] = $4; at[NR] = t
     if (NR == 1 || t < t0) t0 = t; if (NR == 1 || t > t1) t1 = t}
    END {for (i = 1; i <= NR; i++) if (at[i] >= t0 + warm) {c[scr[i]]++; s[scr[i]] += lat[i]}
         span = t1 - (t0 + warm); if (span <= 0) exit 1
         for (k = 0; k < n; k++) {if (!c[k]) exit 1
           printf "%.1f %.3f%s", c[k] / span, s[k] / c[k] / 1000, (k < n - 1 ? " " : "\n")}}' \
    || { echo "could not read the transaction log of: $*" >&2; rm -rf "$dir"; exit 1; }
  rm -rf "$dir"
}

# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }
verdict_of() { awk -v r="$1" 'BEGIN {print (r <= 1.05 ? "meets" : "misses")}'; }

# Set taskauth.token_cache_size for the cluster; new connections pick it up.
cache_size() {
  psql -X -q -c "LOAD 'taskauth'" -c "ALTER SYSTEM SET taskauth.token_cache_size = $1" \
       -c "SELECT pg_reload_conf()" >/dev/null
}

echo "Warm-up ..." >&2
cache_size "$CACHE"
run rls_one >/dev/null; run app >/dev/null

# 1. Alternated runs: one variant per pgbench run, the order rotating each round.
a_tps=(); a1_tps=(); b_tps=(); rows=()
for ((i = 1; i <= ROUNDS; i++)); do
  case $((i % 3)) in
    1) order=(rls rls_one app) ;;
    2) order=(app rls rls_one) ;;
    0) order=(rls_one app rls) ;;
  esac
  for v in "${order[@]}"; do
    read -r tps lat < <(run "$v")
    echo "round $i $v: $tps tps, $lat ms" >&2
    case $v in
      rls) a_tps+=("$tps") ;;
      rls_one) a1_tps+=("$tps") ;;
      app) b_tps+=("$tps") ;;
    esac
  done
  rows+=("| $i | ${a_tps[-1]} | ${a1_tps[-1]} | ${b_tps[-1]} | $(ratio "${b_tps[-1]}" "${a_tps[-1]}") | $(ratio "${b_tps[-1]}" "${a1_tps[-1]}") |")
done
ma=$(median "${a_tps[@]}"); ma1=$(median "${a1_tps[@]}"); mb=$(median "${b_tps[@]}")
ra=$(ratio "$mb" "$ma"); ra1=$(ratio "$mb" "$ma1")

# 2. Mixed runs: every variant in one pgbench run, so outside load falls on all of them alike;
# latency(x)/latency(b) stands for tps (b)/(x).
m_rows=(); r_a=(); r_a1=(); r_b1=(); r_p=()
for ((i = 1; i <= ROUNDS; i++)); do
  read -r _ la _ lb _ la1 _ lb1 _ lap _ lbp < <(run rls app rls_one app_auth rls_pipe app_pipe)
  r_a+=("$(ratio "$la" "$lb")"); r_a1+=("$(ratio "$la1" "$lb")"); r_b1+=("$(ratio "$lb1" "$lb")")
  r_p+=("$(ratio "$lap" "$lbp")")
  echo "mixed round $i: rls $la, app $lb, rls_one $la1, app_auth $lb1, rls_pipe $lap, app_pipe $lbp ms" >&2
  m_rows+=("| $i | $la | $lb | $la1 | $lb1 | $lap | $lbp | ${r_a[-1]} | ${r_a1[-1]} | ${r_b1[-1]} | ${r_p[-1]} |")
done
mr_a=$(median "${r_a[@]}"); mr_a1=$(median "${r_a1[@]}"); mr_b1=$(median "${r_b1[@]}")
mr_p=$(median "${r_p[@]}")

# 3. Mixed runs with the verified-token cache off: every token verified in full.
cache_size 0
n_rows=(); n_a=(); n_a1=()
for ((i = 1; i <= (ROUNDS + 1) / 2; i++)); do
  read -r _ la _ lb _ la1 < <(run rls app rls_one)
  n_a+=("$(ratio "$la" "$lb")"); n_a1+=("$(ratio "$la1" "$lb")")
  echo "cache-off round $i: rls $la, app $lb, rls_one $la1 ms" >&2
  n_rows+=("| $i | $la | $lb | $la1 | ${n_a[-1]} | ${n_a1[-1]} |")
done
nr_a=$(median "${n_a[@]}"); nr_a1=$(median "${n_a1[@]}")
cache_size "$CACHE"

cat <<EOF
## Run of $(date -u '+%Y-%m-%d %H:%M UTC')

- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM
- Server: $(psql -X -At -c 'SELECT version()')
- Settings: shared_buffers = $(psql -X -At -c 'SHOW shared_buffers'), taskauth $(psql -X -At -c "SELECT extversion FROM pg_extension WHERE extname = 'taskauth'"), taskauth.token_cache_size = $CACHE (0 in part 3)
- Data: $counts
- pgbench: -M prepared -c $CLIENTS -j $JOBS -T $SECONDS_PER_RUN -l; the first $WARMUP s of every run left out; $ROUNDS rounds after one warm-up run of (a1) and (b)
- Each request returns one user's 100 tasks (both variants checked to return the same rows)

### 1. Alternated runs (tps)

(a) \`BEGIN; SET LOCAL ROLE; SELECT authenticate(token); SELECT ... FROM tasks; END\`;
(a1) the same with role and token in one statement, \`SELECT set_config('role', ..., true),
authenticate(token)\`; (b) app-side, \`BEGIN; SET LOCAL ROLE; SELECT ... WHERE user_id = ..; END\`.

| round | (a) tps | (a1) tps | (b) tps | (b)/(a) | (b)/(a1) |
|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

Medians: (a) $ma, (a1) $ma1, (b) $mb tps.
**tps ratio (b)/(a1) = $ra1** (target <= 1.05: $(verdict_of "$ra1")); (b)/(a) = $ra ($(verdict_of "$ra")).

### 2. Mixed runs (latency, ms)

(b1) is (b) plus \`authenticate()\` in its own statement, without row-level security; (a-p) and
(b-p) are (a) and (b) pipelined (BEGIN through END in one round trip, pgbench \\startpipeline).

| round | (a) | (b) | (a1) | (b1) | (a-p) | (b-p) | (a)/(b) | (a1)/(b) | (b1)/(b) | (a-p)/(b-p) |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${m_rows[@]}")

Medians: **(a1)/(b) = $mr_a1** ($(verdict_of "$mr_a1")), (a)/(b) = $mr_a ($(verdict_of "$mr_a")),
(b1)/(b) = $mr_b1, pipelined (a-p)/(b-p) = $mr_p ($(verdict_of "$mr_p")).

### 3. Mixed runs with taskauth.token_cache_size = 0 (every token verified in full)

| round | (a) | (b) | (a1) | (a)/(b) | (a1)/(b) |
|---|---|---|---|---|---|
$(printf '%s\n' "${n_rows[@]}")

Medians: (a1)/(b) = $nr_a1 ($(verdict_of "$nr_a1")), (a)/(b) = $nr_a ($(verdict_of "$nr_a")).

Plan of (a):
\`\`\`
$plan_a
\`\`\`
Plan of (b):
\`\`\`
$plan_b
\`\`\`
EOF
