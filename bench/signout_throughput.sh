#!/bin/bash
# Sign-outs per second against a comparable write that revokes nothing, in one pgbench run per
# client count (fsync on, synchronous_commit on: every commit waits for its WAL flush).
#   revoke: BEGIN; SELECT taskauth.revoke_session(<a random session of a pool of POOL>); COMMIT
#           (ends the session's row and inserts its revocation: what logout() writes)
#   write:  BEGIN; UPDATE taskauth.sessions SET refreshed_at = now() WHERE id = <a random
#           session of another pool>; INSERT INTO bench_log ...; COMMIT
#           (one session row updated and one row inserted, nothing revoked)
# Both scripts run mixed at random in one pgbench run (-f revoke.sql@1 -f write.sql@1), so
# outside load falls on both alike; pgbench's per-script figures give each one's tps. With the
# cluster-wide revocation lock of earlier 0.2 builds, sign-outs serialized on their commits
# (the review measured 400/594/402 sign-outs/s at 1/4/16 clients against 921/1571/1432 writes).
# Prints Markdown. Usage: bench/signout_throughput.sh
#   env: CLIENTS="1 4 16" SECONDS_PER_RUN=15 POOL=400000 ROUNDS=3
# Needs taskauth installed (make install); runs in its own throwaway cluster (pg_virtualenv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

. "$here/lib/cluster.sh"
in_own_cluster "$0" "shared_buffers=512MB" "max_connections=100" "fsync=on" \
  "synchronous_commit=on" -- "$@"

CLIENTS=${CLIENTS:-"1 4 16"}
SECS=${SECONDS_PER_RUN:-15}
POOL=${POOL:-400000}
ROUNDS=${ROUNDS:-3}
db=bench_signout
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v pool="$POOL" <<'SQL' >&2
CREATE EXTENSION taskauth;
SET taskauth.bcrypt_cost = 4;
INSERT INTO taskauth.users (id, email, hashed_password)
SELECT gen_random_uuid(), 'u' || g || '@bench.test', '!' FROM generate_series(1, 1000) g;
-- two pools of live sessions, numbered: one to revoke, one to update
CREATE TABLE pool_revoke (n int PRIMARY KEY, sid uuid NOT NULL);
CREATE TABLE pool_write (n int PRIMARY KEY, sid uuid NOT NULL);
WITH u AS (SELECT id, row_number() OVER () AS k FROM taskauth.users),
     s AS (INSERT INTO taskauth.sessions (user_id, expires_at, access_expires_at)
           SELECT u.id, now() + interval '30 days', now() + interval '15 minutes'
             FROM generate_series(1, 2 * :pool) g JOIN u ON u.k = 1 + g % 1000
           RETURNING id)
SELECT 1 FROM s LIMIT 0;
CREATE TEMP TABLE numbered AS SELECT row_number() OVER () AS k, id FROM taskauth.sessions;
INSERT INTO pool_revoke SELECT (k + 1) / 2, id FROM numbered WHERE k % 2 = 1;
INSERT INTO pool_write SELECT k / 2, id FROM numbered WHERE k % 2 = 0;
CREATE TABLE bench_log (at timestamptz NOT NULL DEFAULT clock_timestamp(), sid uuid NOT NULL);
VACUUM ANALYZE;
SQL

cat >"$work/revoke.sql" <<SQL
\set n random(1, $POOL)
BEGIN;
SELECT taskauth.revoke_session(sid) FROM pool_revoke WHERE n = :n;
COMMIT;
SQL
cat >"$work/write.sql" <<SQL
\set n random(1, $POOL)
BEGIN;
UPDATE taskauth.sessions SET refreshed_at = now() WHERE id = (SELECT sid FROM pool_write WHERE n = :n);
INSERT INTO bench_log (sid) SELECT sid FROM pool_write WHERE n = :n;
COMMIT;
SQL

# tps of each script in one mixed run: "script N" lines of pgbench's report
run() {
  local c=$1 out
  out=$(pgbench -n -c "$c" -j "$c" -T "$SECS" -f "$work/revoke.sql@1" -f "$work/write.sql@1" "$db" 2>&1)
  awk '
    /^SQL script 1:/ { s = 1 } /^SQL script 2:/ { s = 2 }
    /^ - [0-9]+ transactions .*tps = / { gsub(/[()]/, ""); for (i = 1; i <= NF; i++) if ($i == "tps") t[s] = $(i + 2) }
    END { printf "%s %s\n", t[1], t[2] }' <<<"$out"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "### Sign-outs against a comparable write ($(date -u +%Y-%m-%d), $(nproc) cores, $(pg_config --version))"
echo
echo "fsync and synchronous_commit on; $ROUNDS mixed runs of ${SECS} s per client count; medians."
echo
echo "| clients | sign-outs/s | comparable writes/s | ratio |"
echo "|---|---|---|---|"
for c in $CLIENTS; do
  : >"$work/r"
  for ((i = 0; i < ROUNDS; i++)); do
    read -r a b < <(run "$c")
    echo "# $c clients, round $((i + 1)): revoke $a tps, write $b tps" >&2
    echo "$a $b" >>"$work/r"
  done
  ra=$(awk '{print $1}' "$work/r" | median)
  rb=$(awk '{print $2}' "$work/r" | median)
  ratio=$(awk '{ if ($2 > 0) print $1 / $2 }' "$work/r" | median)
  printf '| %s | %.0f | %.0f | %.2f |\n' "$c" "$ra" "$rb" "$ratio"
done
psql -X -At -d "$db" -c "SELECT '# revocations written: ' || count(*) FROM taskauth.revocations" >&2
