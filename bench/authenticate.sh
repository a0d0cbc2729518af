#!/bin/bash
# Cost of taskauth.authenticate() per call, in one session, against the pieces it is made of:
# jwt_verify with the secret given (no key lookup, no identity), authenticate as installed
# (C, SECURITY INVOKER, keys read from the per-backend cache) with the verified-token cache off,
# the same C function declared SECURITY DEFINER with SET search_path (what a definer-based design
# would cost), and authenticate with the token cache on: each token's first use, then its
# second. 20,000 distinct tokens (kid in the header, one per user id), several alternated
# repetitions, medians in us/call.
# Run inside a cluster: pg_virtualenv -t -v 15 bench/authenticate.sh  (needs make install first)
set -euo pipefail
DB=ta_bench_auth_$$
REPS=${REPS:-7}
N=${N:-20000}
psql -X -q -d postgres -c "CREATE DATABASE $DB"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"' EXIT
psql -X -q -At -d $DB <<SQL
CREATE EXTENSION taskauth;
SELECT taskauth.add_signing_key('bench-secret-0123456789abcdefghijklmnopq', 'bench') \g /dev/null
CREATE TABLE toks AS SELECT taskauth.issue_token(gen_random_uuid(), 'u' || g || '@bench.test') AS t
  FROM generate_series(1, $N) g;
CREATE FUNCTION auth_definer(token text) RETURNS uuid
  AS '\$libdir/taskauth', 'taskauth_authenticate'
  LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION timed(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; BEGIN t0 := clock_timestamp(); EXECUTE q;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / $N; END \$\$;
CREATE TABLE runs (kind text, us float8);
SQL
for r in $(seq "$REPS"); do
  psql -X -q -At -d $DB <<'SQL'
BEGIN;
-- the full verification path: the verified-token cache off
SET LOCAL taskauth.token_cache_size = 0;
INSERT INTO runs SELECT 'jwt_verify', timed($$SELECT count(taskauth.jwt_verify(t, 'bench-secret-0123456789abcdefghijklmnopq')) FROM toks$$);
INSERT INTO runs SELECT 'authenticate', timed($$SELECT count(taskauth.authenticate(t)) FROM toks$$);
INSERT INTO runs SELECT 'authenticate_definer', timed($$SELECT count(auth_definer(t)) FROM toks$$);
INSERT INTO runs SELECT 'authenticate+current_user_id', timed($$SELECT count(taskauth.authenticate(t) = taskauth.current_user_id()) FROM toks$$);
-- the cache on and large enough: first sight of each token (verified and stored), then again
SET LOCAL taskauth.token_cache_size = 32768;
INSERT INTO runs SELECT 'authenticate, cache on, first use', timed($$SELECT count(taskauth.authenticate(t)) FROM toks$$);
INSERT INTO runs SELECT 'authenticate, cache on, used again', timed($$SELECT count(taskauth.authenticate(t)) FROM toks$$);
COMMIT;
SQL
done
echo "machine: $(nproc) cpu, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(psql -X -At -d $DB -c 'SHOW server_version'); $(date -u +%F)"
psql -X -q -d $DB -c "SELECT kind, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 3) AS median_us_per_call,
  round(min(us)::numeric, 3) AS min_us, count(*) AS reps FROM runs GROUP BY kind ORDER BY 2"
