#!/bin/bash
# Where the whole request's extra work goes, counted in instructions instead of time: the
# requests of bench/request_modes.sh (rls, app, app_auth; bench/pgbench/open_*.sql), each run by
# one pgbench client against a server under valgrind's callgrind, in both protocol modes.
# Instructions per transaction are the difference between a run of N2 and a run of N1
# transactions (connection start and the first sight of the 200 tokens fall out), so they do
# not move with this machine's speed, which drifts by 30% from one timed run to the next.
# Then the same for the policies written in the subquery form (SELECT taskauth.current_user_id()),
# set for this experiment only, against the direct call (user_id = taskauth.current_user_id())
# that taskauth ships, and a sequential scan of all 1M tasks under each form (the direct call is
# evaluated per row there, the subquery once).
# Last, first sight of a server token: authenticate() against jwt_verify() alone, per token.
# Instructions are not time (cache misses are not counted): read them beside request_modes.sh.
# Usage: bench/request_instructions.sh   (env: N1=1000 N2=2000 TOKENS=200
#                                         PARTS="requests direct first_sight")
# Needs taskauth installed (make install) and valgrind (installed from apt when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

if ! command -v valgrind >/dev/null; then
  [[ $(id -u) == 0 ]] || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
  "$root/test/apt-get-wait" update -qq && "$root/test/apt-get-wait" install -y -qq valgrind >/dev/null
fi

. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_buffers=1GB" "max_connections=20" "autovacuum=off" -- "$@"

N1=${N1:-1000}
N2=${N2:-2000}
TOKENS=${TOKENS:-200}
PARTS=${PARTS:-requests direct first_sight}
export PGDATABASE=ta_bench
part() { [[ " $PARTS " == *" $1 "* ]]; }

echo "Setting up: 10k users, 1M tasks ..." >&2
psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE"
psql -X -q -f "$here/pgbench/setup.sql" >/dev/null
psql -X -q -c "VACUUM (ANALYZE, FREEZE)" -c "CHECKPOINT"

# Restart the cluster's server under callgrind, every backend writing its own profile.
datadir=$(psql -X -At -c 'SHOW data_directory')
conf=$(psql -X -At -c 'SHOW config_file')
owner=$(stat -c %U "$datadir")
bindir=$(pg_config --bindir)
out=$(mktemp -d)
chown "$owner" "$out"
as_owner() { if [[ $(id -un) == "$owner" ]]; then "$@"; else runuser -u "$owner" -- "$@"; fi; }
as_owner "$bindir/pg_ctl" -D "$datadir" stop -m fast >/dev/null
as_owner bash -c "cd '$out' && exec valgrind --tool=callgrind --trace-children=yes \
  --callgrind-out-file='$out/cg.%p' '$bindir/postgres' -D '$datadir' -c config_file='$conf' \
  >'$out/server.log' 2>&1" &
stop_valgrind() {
  as_owner "$bindir/pg_ctl" -D "$datadir" stop -m fast >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$out"
}
trap stop_valgrind EXIT
for _ in $(seq 120); do psql -X -At -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done

# instructions of the busiest backend started while a command runs
backend_ir() {
  local before after f best=0 ir
  before=$(ls "$out")
  "$@" >/dev/null
  sleep 2
  after=$(ls "$out")
  for f in $(comm -13 <(sort <<<"$before") <(sort <<<"$after")); do
    [[ $f == cg.* ]] || continue
    ir=$(sed -nE 's/^(summary|totals): ([0-9]+).*/\2/p' "$out/$f" | head -1)
    ((ir > best)) && best=$ir
  done
  echo "$best"
}
# instructions per transaction of one script in one mode
per_txn() {
  local a b
  a=$(backend_ir pgbench -n -M "$1" -c 1 -t "$N1" -D tokens="$TOKENS" -f "$here/pgbench/open_$2.sql")
  b=$(backend_ir pgbench -n -M "$1" -c 1 -t "$N2" -D tokens="$TOKENS" -f "$here/pgbench/open_$2.sql")
  echo $(((b - a) / (N2 - N1)))
}
# a session that counts all tasks K times as the API role, as user 42, without indexes
seqscan_session() {
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token) FROM bench_tokens WHERE n = 42;
SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
SET LOCAL max_parallel_workers_per_gather = 0;
$(for ((i = 0; i < $1; i++)); do echo 'SELECT count(*) FROM taskauth.tasks;'; done)
COMMIT;
SQL
}
# instructions of one such count
seqscan_ir() {
  local a b
  a=$(backend_ir seqscan_session 1)
  b=$(backend_ir seqscan_session 3)
  echo $(((b - a) / 2))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }

echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC'), taskauth $(cd "$root" && git rev-parse --short HEAD)"
echo
echo "- Machine: $(nproc) CPUs, $(lscpu | sed -nE 's/^Model name: +//p' | head -1); $(valgrind --version)"
echo "- Server: $(psql -X -At -c 'SHOW server_version'); one pgbench client, ($N2 - $N1) transactions, $TOKENS tokens"
echo
declare -A ir
if part requests || part direct; then
echo "| mode | app | app_auth | rls | app_auth/app (token's part) | rls/app_auth (policies' part) | rls/app |"
echo "|---|---|---|---|---|---|---|"
for m in extended prepared; do
  for s in app app_auth rls; do ir[$m.$s]=$(per_txn "$m" "$s"); echo "$m $s: ${ir[$m.$s]}" >&2; done
  echo "| $m | ${ir[$m.app]} | ${ir[$m.app_auth]} | ${ir[$m.rls]} | $(ratio "${ir[$m.app_auth]}" "${ir[$m.app]}") | $(ratio "${ir[$m.rls]}" "${ir[$m.app_auth]}") | **$(ratio "${ir[$m.rls]}" "${ir[$m.app]}")** |"
done
fi
if part direct; then
scan_direct=$(seqscan_ir)

psql -X -q -c "ALTER POLICY tasks_select_own ON taskauth.tasks USING (user_id = (SELECT taskauth.current_user_id()))"
for m in extended prepared; do ir[$m.sub]=$(per_txn "$m" rls); echo "$m subquery: ${ir[$m.sub]}" >&2; done
scan_sub=$(seqscan_ir)
psql -X -q -c "ALTER POLICY tasks_select_own ON taskauth.tasks USING (user_id = taskauth.current_user_id())"

echo
echo "The policies in the subquery form, user_id = (SELECT taskauth.current_user_id()) (experiment"
echo "only), against the direct call taskauth ships (the rls column above):"
echo
echo "| mode | rls, direct call | rls, subquery form | subquery rls/app |"
echo "|---|---|---|---|"
for m in extended prepared; do
  echo "| $m | ${ir[$m.rls]} | ${ir[$m.sub]} | **$(ratio "${ir[$m.sub]}" "${ir[$m.app]}")** |"
done
echo
echo "One sequential scan of all 1M tasks as the API role, \`SELECT count(*) FROM taskauth.tasks\`"
echo "with index scans and parallel workers off: subquery form $scan_sub, direct call $scan_direct"
echo "instructions, $(ratio "$scan_direct" "$scan_sub")x."
fi

# a session that verifies tokens 2..K it has not seen, with CALL (after a warm-up on token 1)
first_sight_session() {
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET taskauth.token_cache_size = 16384;
SET enable_seqscan = off;   -- the same plan for every range
SET enable_bitmapscan = off;
SELECT count(taskauth.authenticate(token)) FROM bench_tokens WHERE n = 1;
SELECT count($1) FROM bench_tokens WHERE n = 1;
SELECT count($1) FROM bench_tokens WHERE n BETWEEN 2 AND $2;
SQL
}
first_sight_ir() {
  local a b
  a=$(backend_ir first_sight_session "$1" 1001)
  b=$(backend_ir first_sight_session "$1" 3001)
  echo $(((b - a) / 2000))
}
part first_sight || exit 0
secret=benchmark-secret-0123456789abcdef-0123456789
# the server's tokens (typ at+jwt) verify with the key derived from the secret
atkey=$(psql -X -At -c "SELECT taskauth.access_token_key('$secret')")
fs_auth=$(first_sight_ir "taskauth.authenticate(token)")
fs_verify=$(first_sight_ir "taskauth.jwt_verify(token, '$atkey')")
fs_scan=$(first_sight_ir "octet_length(token)")
echo
echo "First sight of a server HS256 token (login's), instructions per token, the loop's own"
echo "($fs_scan) taken out: authenticate() $((fs_auth - fs_scan)), jwt_verify() alone $((fs_verify - fs_scan))."
