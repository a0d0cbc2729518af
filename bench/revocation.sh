#!/bin/bash
# What revocation costs the requests that are not revoked (issue #12, "Cost"). Two databases
# made from one template hold the same users, tasks and tokens; "with" also holds 100,000
# revoked sessions and 10,000 revoked users (bench/revocation/revoke.sql), "none" holds none.
#   4. memory: a fresh backend's private memory and resident set before and after its first
#      authenticate(), which reads the revoked sets, and the time of that call; "with" vs "none";
#   1. authenticate() with the revocations vs without: (a) an in-session loop over 200 users'
#      tokens, one backend per database, short loops alternating (pairs.py; cache hits, and
#      every call verifying: first sight), (b) pgbench, one authenticate() a transaction,
#      alternated runs;
#   2. sign-outs at RATE a second (signouts.py: authenticate + logout(), committed) switched on
#      and off in PERIOD-second periods during one pgbench run of the measured users' requests
#      (request.sql, authenticate + an RLS query), with a control period of the same sign-outs
#      rolled back (their CPU without their effect); tps per period; sign-outs checked against
#      taskauth.revocations; (2b) one sign-out's cost to another backend, paired with a
#      rolled-back one (after_signout.py);
#   3. a PostgREST request replayed three ways in one pgbench run: taskauth.pre_request(), a
#      plpgsql db-pre-request hook looking the jti up in a 100,000-row deny-list (PostgREST's
#      documented way; the JWT verified by PostgREST outside the database), and no hook.
# Every pgbench figure leaves out the first WARMUP seconds of its run (pgbench -l), so fresh
# backends' first calls (reading the revoked sets, filling the token cache) are not in it.
# Prints the results as Markdown; progress goes to stderr. Not part of `make test`.
# Usage: bench/revocation.sh   (taskauth installed; runs in its own throwaway cluster)
#   env: PAIRS=40 AUTH_ROUNDS=6 AUTH_SECONDS=10 CYCLES=12 PERIOD=5
#        SIGNOUT_PAIRS=300 RATE=100 PGRST_ROUNDS=5 PGRST_SECONDS=15 MEM_ROUNDS=5 WARMUP=3 CLIENTS=nproc
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dir=$here/revocation

. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_buffers=512MB" "max_connections=100" -- "$@"

PAIRS=${PAIRS:-40}
AUTH_ROUNDS=${AUTH_ROUNDS:-6}
AUTH_SECONDS=${AUTH_SECONDS:-10}
CYCLES=${CYCLES:-12}
PERIOD=${PERIOD:-5}
SIGNOUT_PAIRS=${SIGNOUT_PAIRS:-300}
RATE=${RATE:-100}
PGRST_ROUNDS=${PGRST_ROUNDS:-5}
PGRST_SECONDS=${PGRST_SECONDS:-15}
MEM_ROUNDS=${MEM_ROUNDS:-5}
WARMUP=${WARMUP:-3}
CLIENTS=${CLIENTS:-$(nproc)}
NONE=ta_rev_none
WITH=ta_rev_with
unset PGDATABASE

if (( CYCLES * PERIOD * RATE + SIGNOUT_PAIRS > 18000 )); then
  echo "CYCLES x PERIOD x RATE needs more than the 18,000 pooled sessions" >&2
  exit 1
fi

q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }

echo "Setting up: 20,200 users, 404k tasks, 200 measured tokens, 100k revoked sessions, 10k revoked users ..." >&2
start=$SECONDS
q postgres -c "CREATE DATABASE ta_rev_template"
q ta_rev_template -f "$dir/setup.sql" >/dev/null
q ta_rev_template -c "VACUUM (ANALYZE, FREEZE)"
for db in $NONE $WITH; do
  q postgres -c "CREATE DATABASE $db TEMPLATE ta_rev_template" \
             -c "ALTER DATABASE $db SET session_preload_libraries = 'taskauth'"
done
q $WITH -f "$dir/revoke.sql" >/dev/null
for db in $NONE $WITH; do q $db -c "VACUUM (ANALYZE, FREEZE)"; done
q postgres -c "CHECKPOINT"
revocations() {
  q "$1" -c "SELECT count(session_id) || ' revoked sessions, ' || (count(*) - count(session_id))
                    || ' revoked users, the first expiring in ' || coalesce(to_char(min(expires_at) - now(), 'HH24:MI'), '-')
             FROM taskauth.revocations"
}
rev_none=$(revocations $NONE); rev_with=$(revocations $WITH)
echo "Setup done in $((SECONDS - start)) s. none: $rev_none; with: $rev_with" >&2
[[ $rev_none == "0 revoked sessions, 0 revoked users"* ]] || { echo "unexpected: $rev_none" >&2; exit 1; }
[[ $rev_with == "100000 revoked sessions, 10000 revoked users"* ]] || { echo "unexpected: $rev_with" >&2; exit 1; }

# The revocations must be in force where they are measured, and the measured tokens must pass.
probe_with=$(q $WITH -c "SELECT bench_probe()")
probe_none=$(q $NONE -c "SELECT bench_probe()")
[[ $probe_with == "token revoked" && $probe_none == "no probe" ]] \
  || { echo "probe: with '$probe_with', none '$probe_none'" >&2; exit 1; }
for db in $NONE $WITH; do
  ok=$(q $db -c "SELECT count(taskauth.authenticate(token)) FROM bench_tokens")
  [[ $ok == 200 ]] || { echo "$db: $ok of the 200 measured tokens authenticate" >&2; exit 1; }
done

# One pgbench run against database $1 for $2 seconds with $3 clients of the scripts named next
# (bench/revocation/NAME.sql), mixed at random with equal weights; more pgbench options after
# "--". Every transaction is logged; the first WARMUP seconds are left out. Prints the window
# (epoch seconds, start and end) and then "tps latency_ms" of each script, on one line.
run() {
  local db=$1 secs=$2 clients=$3 tmp out args=() extra=()
  shift 3
  while (( $# )) && [[ $1 != -- ]]; do args+=(-f "$dir/$1.sql@1"); shift; done
  if (( $# )); then shift; extra=("$@"); fi
  local n=$(( ${#args[@]} / 2 ))
  tmp=$(mktemp -d)
  out=$(cd "$tmp" && pgbench -n -M prepared -c "$clients" -j "$clients" -T "$secs" -l \
        "${extra[@]}" "${args[@]}" "$db" 2>&1) || { echo "$out" >&2; rm -rf "$tmp"; return 1; }
  grep -q 'number of failed transactions: 0 ' <<<"$out" || {
    echo "pgbench reported failed transactions:" >&2; echo "$out" >&2; rm -rf "$tmp"; return 1; }
  # a log line: client transaction latency_us script epoch_s epoch_us
  cat "$tmp"/pgbench_log.* | awk -v n="$n" -v warm="$WARMUP" '
    {t = $5 + $6 / 1e6; lat[NR] = $3; scr[NR] = $4; at[NR] = t
     if (NR == 1 || t < t0) t0 = t; if (NR == 1 || t > t1) t1 = t}
    END {for (i = 1; i <= NR; i++) if (at[i] >= t0 + warm) {c[scr[i]]++; s[scr[i]] += lat[i]}
         span = t1 - (t0 + warm); if (span <= 0) exit 1
         printf "%.3f %.3f", t0 + warm, t1
         for (k = 0; k < n; k++) {if (!c[k]) exit 1; printf " %.1f %.4f", c[k] / span, s[k] / c[k] / 1000}
         printf "\n"}' \
    || { echo "could not read the transaction log of: $*" >&2; rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
}

# ---- 4. Memory and the first call ------------------------------------------------------------
# A fresh backend (the library is preloaded), warmed by reading its own memory figures; then its
# first authenticate(); then the figures again. The databases alternate.
echo "4. memory ..." >&2
declare -A m_priv m_rss m_first m_cpu
mem_rows=()
for ((i = 1; i <= MEM_ROUNDS; i++)); do
  if (( i % 2 )); then order=($NONE $WITH); else order=($WITH $NONE); fi
  for db in "${order[@]}"; do
    r=$(q $db -F ' ' <<'SQL'
SELECT bench_private_kb(), bench_rss_kb(), bench_cpu_ns() \g /dev/null
SELECT bench_private_kb() AS pb, bench_rss_kb() AS rb \gset
SELECT bench_cpu_ns() AS c0 \gset
SELECT bench_first_call() AS first \gset
SELECT bench_cpu_ns() AS c1 \gset
SELECT bench_private_kb() AS pa, bench_rss_kb() AS ra \gset
SELECT :pb, :rb, :pa, :ra, round(:first::numeric, 3), round((:c1 - :c0) / 1e6, 3), round(bench_first_call()::numeric, 3);
SQL
)
    read -r pb rb pa ra first cpu second <<<"$r"
    m_priv[$db]+="$((pa - pb)) "; m_rss[$db]+="$((ra - rb)) "; m_first[$db]+="$first "; m_cpu[$db]+="$cpu "
    echo "  round $i $db: private $pb -> $pa kB, rss $rb -> $ra kB, first call $first ms ($cpu ms CPU; again: $second ms)" >&2
    mem_rows+=("| $i | $db | $pb | $pa | $((pa - pb)) | $rb | $ra | $((ra - rb)) | $first | $cpu | $second |")
  done
done
# shellcheck disable=SC2086
{
  mp_none=$(median ${m_priv[$NONE]}); mp_with=$(median ${m_priv[$WITH]})
  mr_none=$(median ${m_rss[$NONE]}); mr_with=$(median ${m_rss[$WITH]})
  mf_none=$(median ${m_first[$NONE]}); mf_with=$(median ${m_first[$WITH]})
  mc_none=$(median ${m_cpu[$NONE]}); mc_with=$(median ${m_cpu[$WITH]})
}
per_id=$(awk -v a="$mp_with" -v b="$mp_none" 'BEGIN {printf "%.1f", (a - b) * 1024 / 110000}')
per_id_rss=$(awk -v a="$mr_with" -v b="$mr_none" 'BEGIN {printf "%.1f", (a - b) * 1024 / 110000}')
load_ms=$(awk -v a="$mf_with" -v b="$mf_none" 'BEGIN {printf "%.1f", a - b}')
load_cpu=$(awk -v a="$mc_with" -v b="$mc_none" 'BEGIN {printf "%.1f", a - b}')

# ---- 1a. authenticate() in a loop -------------------------------------------------------------
# One long-lived backend per database, short loops alternating between them (pairs.py).
echo "1a. authenticate() in a loop ..." >&2
r=$(/usr/bin/python3 "$dir/pairs.py" $NONE $WITH "$PAIRS" 20000 4000)
grep -qx "probe $NONE no_probe" <<<"$r" && grep -qx "probe $WITH token_revoked" <<<"$r" \
  || { echo "the revoked probe did not behave: $r" >&2; exit 1; }
loop_rows=(); lh=(); lm=(); lh_none=(); lh_with=(); lm_none=(); lm_with=()
while read -r i kind un uw; do
  [[ $i == probe ]] && continue
  rt=$(ratio "$uw" "$un")
  if [[ $kind == hit ]]; then
    lh+=("$rt"); lh_none+=("$un"); lh_with+=("$uw"); row="| $i | $un | $uw | $rt "
  else
    lm+=("$rt"); lm_none+=("$un"); lm_with+=("$uw"); loop_rows+=("$row| $un | $uw | $rt |")
  fi
done <<<"$r"
echo "  hit with/none $(median "${lh[@]}"), first sight $(median "${lm[@]}")" >&2

# ---- 1b. authenticate() per transaction, alternated pgbench runs -------------------------------
echo "1b. pgbench, alternated ..." >&2
auth_rows=(); a_none=(); a_with=(); a_r=()
for ((i = 1; i <= AUTH_ROUNDS; i++)); do
  if (( i % 2 )); then order=($NONE $WITH); else order=($WITH $NONE); fi
  declare -A tps=()
  for db in "${order[@]}"; do
    r=$(run $db "$AUTH_SECONDS" "$CLIENTS" auth)
    read -r _ _ t _ <<<"$r"
    tps[$db]=$t
    echo "  round $i $db: $t tps" >&2
  done
  a_none+=("${tps[$NONE]}"); a_with+=("${tps[$WITH]}"); a_r+=("$(ratio "${tps[$NONE]}" "${tps[$WITH]}")")
  auth_rows+=("| $i | ${order[0]#ta_rev_} first | ${tps[$NONE]} | ${tps[$WITH]} | ${a_r[-1]} |")
done

# ---- 2. sign-outs at RATE a second beside other users' requests --------------------------------
# One pgbench run of request.sql; meanwhile signouts.py switches sign-outs on, off and to a
# rolled-back control in PERIOD-second periods. tps per period from pgbench's log (0.3 s at each
# edge left out); ratios between the periods of one cycle; medians over the cycles.
echo "2. sign-outs at $RATE/s, $CYCLES cycles of 3 x $PERIOD s ..." >&2
logouts() { q $WITH -c "SELECT count(*) FROM taskauth.revocations WHERE reason = 'logout'"; }
before=$(logouts)
tmp=$(mktemp -d)
(cd "$tmp" && pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T $((CYCLES * 3 * PERIOD + 4)) -l \
   -f "$dir/request.sql" $WITH >out 2>&1) & pb=$!
sleep 2
periods=$(/usr/bin/python3 "$dir/signouts.py" $WITH "$RATE" "$PERIOD" "$CYCLES")
wait $pb || { cat "$tmp/out" >&2; exit 1; }
grep -q 'number of failed transactions: 0 ' "$tmp/out" || { cat "$tmp/out" >&2; exit 1; }
committed=$(awk '$2 == "signout" {n += $5} END {print n + 0}' <<<"$periods")
after=$(logouts)
(( after - before == committed )) \
  || { echo "sign-outs: $committed committed, $((after - before)) logout revocations" >&2; exit 1; }
# per period: cycle state tps sign-outs/s
per=$(awk 'NR == FNR {c[NR] = $1; st[NR] = $2; a[NR] = $3 + 0.3; b[NR] = $4 - 0.3; k[NR] = $5
                      d[NR] = $4 - $3; w = NR; next}
           {t = $5 + $6 / 1e6; for (i = 1; i <= w; i++) if (t >= a[i] && t < b[i]) {n[i]++; break}}
           END {for (i = 1; i <= w; i++) printf "%s %s %.1f %.1f\n", c[i], st[i], n[i] / (b[i] - a[i]), k[i] / d[i]}' \
      <(echo "$periods") "$tmp"/pgbench_log.*)
rm -rf "$tmp"
so_rows=(); o_none=(); o_so=(); o_rb=(); o_r=(); o_rrb=(); o_rate=(); o_rbrate=()
for ((i = 1; i <= CYCLES; i++)); do
  declare -A tps=() rate=()
  while read -r c st t rt; do
    [[ $c == "$i" ]] || continue
    tps[$st]=$t; rate[$st]=$rt; ord+=" $st"
  done <<<"$per"
  o_none+=("${tps[none]}"); o_so+=("${tps[signout]}"); o_rb+=("${tps[rollback]}")
  o_rate+=("${rate[signout]}"); o_rbrate+=("${rate[rollback]}")
  o_r+=("$(ratio "${tps[none]}" "${tps[signout]}")"); o_rrb+=("$(ratio "${tps[rollback]}" "${tps[signout]}")")
  so_rows+=("| $i |${ord} | ${tps[none]} | ${tps[signout]} | ${rate[signout]} | ${tps[rollback]} | ${o_r[-1]} | ${o_rrb[-1]} |")
  echo "  cycle $i:${ord}: none ${tps[none]}, signout ${tps[signout]} (${rate[signout]}/s), rollback ${tps[rollback]} tps" >&2
  ord=
done
# 2b. one committed sign-out's cost to a backend serving someone else, against a rolled-back one
echo "2b. cost of one sign-out to another backend ..." >&2
r=$(/usr/bin/python3 "$dir/after_signout.py" $WITH "$SIGNOUT_PAIRS")
as_rb=(); as_c=()
while read -r _ urb uc; do as_rb+=("$urb"); as_c+=("$uc"); done <<<"$r"
as_extra=$(awk -v a="$(median "${as_c[@]}")" -v b="$(median "${as_rb[@]}")" 'BEGIN {printf "%.0f", a - b}')
as_share=$(awk -v x="$as_extra" -v r="$RATE" 'BEGIN {printf "%.1f", x * r / 1e4}')
pool_used=$(q $WITH -c "SELECT last_value FROM signout_seq")

# ---- 3. PostgREST's deny-list hook vs pre_request() --------------------------------------------
echo "3. PostgREST requests ..." >&2
same=$(q $WITH <<'SQL'
BEGIN;
SELECT set_config('role', 'bench_api', true), set_config('request.headers', ta_headers, true),
       set_config('request.jwt.claims', ta_claims, true) FROM pgrst_requests WHERE n = 7 \g /dev/null
SELECT taskauth.pre_request() \g /dev/null
SELECT md5(string_agg(id::text, ',' ORDER BY id)) || ' ' || count(*) FROM taskauth.tasks;
ROLLBACK;
BEGIN;
SELECT set_config('role', 'bench_api', true), set_config('request.headers', pg_headers, true),
       set_config('request.jwt.claims', pg_claims, true) FROM pgrst_requests WHERE n = 7 \g /dev/null
SELECT public.check_denylist() \g /dev/null
SELECT md5(string_agg(id::text, ',' ORDER BY id)) || ' ' || count(*) FROM pgrst_tasks;
ROLLBACK;
SQL
)
[[ $(sed -n 1p <<<"$same") == "$(sed -n 2p <<<"$same")" && $same == *" 20"* ]] \
  || { echo "(a) and (b) do not return the same 20 rows: $same" >&2; exit 1; }
# each hook refuses what it should: a revoked session's token, a denied jti
refused_a=$(q $WITH 2>&1 <<'SQL' || true
BEGIN;
SELECT set_config('request.headers', json_build_object('x-taskauth-token', token)::text, true) FROM revoked_probe \g /dev/null
SELECT taskauth.pre_request();
SQL
)
refused_b=$(q $WITH 2>&1 <<'SQL' || true
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('sub', gen_random_uuid(), 'jti', jti)::text, true)
FROM jwt_denylist LIMIT 1 \g /dev/null
SELECT public.check_denylist();
SQL
)
refused="$refused_a
$refused_b"
[[ $(grep -cE '"message" ?: ?"token revoked"' <<<"$refused") == 2 ]] \
  || { echo "a hook did not refuse: $refused" >&2; exit 1; }
plan_deny=$(q $WITH -c "EXPLAIN (COSTS OFF) SELECT 1 FROM public.jwt_denylist d WHERE d.jti = current_setting('request.jwt.claims', true)::json ->> 'jti'")

p_rows=(); p_ab=(); p_ba=(); p_ac=(); p_bc=(); p_la=(); p_lb=(); p_lc=()
for ((i = 1; i <= PGRST_ROUNDS; i++)); do
  r=$(run $WITH "$PGRST_SECONDS" "$CLIENTS" pgrst_taskauth pgrst_denylist pgrst_none)
  read -r _ _ _ la _ lb _ lc <<<"$r"
  p_la+=("$la"); p_lb+=("$lb"); p_lc+=("$lc")
  p_ab+=("$(ratio "$la" "$lb")"); p_ba+=("$(ratio "$lb" "$la")")
  p_ac+=("$(awk -v a="$la" -v c="$lc" 'BEGIN {printf "%.1f", (a - c) * 1000}')")
  p_bc+=("$(awk -v b="$lb" -v c="$lc" 'BEGIN {printf "%.1f", (b - c) * 1000}')")
  echo "  round $i: pre_request $la ms, deny-list $lb ms, no hook $lc ms" >&2
  p_rows+=("| $i | $la | $lb | $lc | ${p_ab[-1]} | ${p_ba[-1]} | ${p_ac[-1]} | ${p_bc[-1]} |")
done

# ---- report ------------------------------------------------------------------------------------
cat <<EOF
## Run of $(date -u '+%Y-%m-%d %H:%M UTC')

- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GB RAM, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)
- Server: $(q postgres -c 'SELECT version()')
- taskauth $(q $WITH -c "SELECT extversion FROM pg_extension WHERE extname = 'taskauth'"), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); shared_buffers = $(q postgres -c 'SHOW shared_buffers'); token cache 1024 (default) for 200 tokens
- Databases: "none" ($rev_none) and "with" ($rev_with), copies of one template
- pgbench: -M prepared, the first $WARMUP s of every run left out; $CLIENTS clients unless said

### 4. Memory of the revoked sets and the first call (fresh backend, medians of $MEM_ROUNDS)

| round | db | private kB before | after | delta | VmRSS kB before | after | delta | first authenticate() ms | its CPU ms | second call ms |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${mem_rows[@]}")

Medians: private memory grows by $mp_with kB in "with" and $mp_none kB in "none" at the first
call; the difference, **$per_id bytes a revoked id** (110,000 ids), is the revoked sets
(VmRSS, which also counts the shared buffers the read touched: $per_id_rss bytes an id). First
call $mf_with ms with vs $mf_none ms without (CPU time $mc_with ms vs $mc_none ms): **reading
110,000 revocations takes about $load_ms ms ($load_cpu ms of CPU)**, once per backend.

### 1a. authenticate() per call, in a loop (us a call; $PAIRS alternated pairs, one backend per database)

Cache hit: 20,000 calls over the 200 tokens in a shuffled order, each in the token cache.
First sight: 4,000 calls with taskauth.token_cache_size = 0 (every call verifies the HMAC).

| pair | hit, none | hit, with | with/none | first sight, none | with | with/none |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${loop_rows[@]}")

Medians: cache hit $(median "${lh_none[@]}") us none, $(median "${lh_with[@]}") us with, **ratio with/none $(median "${lh[@]}")** (range $(range "${lh[@]}"));
first sight $(median "${lm_none[@]}") us none, $(median "${lm_with[@]}") us with, **ratio $(median "${lm[@]}")** (range $(range "${lm[@]}")).

### 1b. pgbench, \`SELECT taskauth.authenticate(token) FROM bench_tokens WHERE n = :n\`, alternated runs of ${AUTH_SECONDS} s (tps)

| round | order | none | with | none/with |
|---|---|---|---|---|
$(printf '%s\n' "${auth_rows[@]}")

Medians: none $(median "${a_none[@]}"), with $(median "${a_with[@]}") tps; **median of round ratios none/with $(median "${a_r[@]}")** (range $(range "${a_r[@]}")).

### 2. Sign-outs at $RATE/s beside the other users' requests (tps of request.sql by period)

One pgbench run of request.sql ($CLIENTS clients, $((CYCLES * 3 * PERIOD + 4)) s); meanwhile one connection
(signouts.py) cycles through $PERIOD-second periods: "none" (idle), "signout" (authenticate + logout()
of a pooled session of another user, committed, paced at $RATE/s) and "rollback" (the same work rolled
back: its CPU, no revocation). tps per period from pgbench's log (0.3 s at each edge left out).
$committed sign-outs committed in all, as many logout revocations added (checked).

| cycle | order | none | signout | sign-outs/s | rollback | none/signout | rollback/signout |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${so_rows[@]}")

Medians: none $(median "${o_none[@]}"), signout $(median "${o_so[@]}"), rollback $(median "${o_rb[@]}") tps; sign-outs $(median "${o_rate[@]}")/s committed (rolled back $(median "${o_rbrate[@]}")/s);
**none/signout $(median "${o_r[@]}")** (range $(range "${o_r[@]}")), rollback/signout $(median "${o_rrb[@]}") (range $(range "${o_rrb[@]}")).

### 2b. One sign-out's cost to a backend serving another user ($SIGNOUT_PAIRS alternated pairs)

after_signout.py: one connection signs a pooled session out (committed, or the same work rolled
back), then another times one \`authenticate()\` of a measured user's token on the server (the
statement that takes the sign-out in: relcache entry of taskauth.revocations rebuilt, new row read).

Medians: $(median "${as_rb[@]}") us after a rolled-back sign-out, **$(median "${as_c[@]}") us after a committed one**
(10th-90th percentile $(printf '%s\n' "${as_c[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int(NR*0.1)+1] "-" v[int(NR*0.9)]}') us): about $as_extra us per sign-out per backend,
so $RATE sign-outs a second take about $as_share% of each busy backend's time.

### 3. A PostgREST request replayed: pre_request() vs a deny-list hook (one pgbench run, scripts mixed; latency ms)

(a) pgrst_taskauth.sql: \`taskauth.pre_request()\` verifies the token from request.headers and
checks both revoked sets; (b) pgrst_denylist.sql: PostgREST verified the JWT (outside the
database, not in these figures), the hook reads request.jwt.claims' jti and looks it up in a
100,000-row deny-list; (c) pgrst_none.sql: no hook (\`SELECT 1\` in its place). Each: the
set_config statement, the hook, "list my tasks" (20 rows under row-level security), END.

| round | (a) | (b) | (c) | (a)/(b) | (b)/(a) | (a)-(c) us | (b)-(c) us |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${p_rows[@]}")

Medians: (a) $(median "${p_la[@]}"), (b) $(median "${p_lb[@]}"), (c) $(median "${p_lc[@]}") ms;
**(a)/(b) = $(median "${p_ab[@]}")** (range $(range "${p_ab[@]}")), (b)/(a) = $(median "${p_ba[@]}");
hook cost over (c): (a) $(median "${p_ac[@]}") us, (b) $(median "${p_bc[@]}") us.

Plan of the deny-list lookup:
\`\`\`
$plan_deny
\`\`\`
EOF
