#!/bin/bash
# Benchmark: taskauth.hash_password / verify_password against pgcrypto's crypt() at bcrypt cost 10,
# side by side in one session. Each repetition times the four calls back to back (the order
# alternating between repetitions) with clock_timestamp(), so both sides see the same backend,
# cache and machine state. Prints the medians, their ratio, and the median of the per-repetition
# ratios.
#
# Usage: bench/password.sh [REPS]   (default 41), against the cluster in the PG* environment, e.g.
#   pg_virtualenv -v 15 bench/password.sh
# Needs taskauth installed (make install) and pgcrypto (postgresql-contrib).
set -euo pipefail
reps=${1:-41}
cost=${COST:-10}
db=ta_bench_pw_$$

psql -X -q -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" -c "CREATE DATABASE $db"
trap 'psql -X -q -d "${PGDATABASE:-postgres}" -c "DROP DATABASE IF EXISTS $db"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v reps="$reps" -v cost="$cost" <<'SQL'
CREATE EXTENSION taskauth;
CREATE EXTENSION pgcrypto;
CREATE TEMP TABLE timing (rep int, what text, ms float8);
SELECT set_config('bench.reps', :'reps', false), set_config('bench.cost', :'cost', false) \gset
DO $$
DECLARE
  reps int := current_setting('bench.reps')::int;
  cost int := current_setting('bench.cost')::int;
  pw text := 'correct horse battery staple';
  ours text;
  theirs text;
  t0 timestamptz;
  ok boolean;
  i int;
  k int;
BEGIN
  ours := taskauth.hash_password(pw, cost);
  -- pgcrypto reads only $2a$; for ASCII passwords it is the same computation as $2b$
  theirs := '$2a$' || substr(ours, 5);
  -- warm up both code paths
  PERFORM taskauth.verify_password(pw, ours), crypt(pw, theirs);
  FOR i IN 1..reps LOOP
    FOR k IN 0..1 LOOP
      IF (i + k) % 2 = 0 THEN
        t0 := clock_timestamp();
        PERFORM taskauth.hash_password(pw, cost);
        INSERT INTO timing VALUES (i, 'hash taskauth', 1000 * extract(epoch FROM clock_timestamp() - t0));
        t0 := clock_timestamp();
        ok := taskauth.verify_password(pw, ours);
        INSERT INTO timing VALUES (i, 'verify taskauth', 1000 * extract(epoch FROM clock_timestamp() - t0));
        IF NOT ok THEN RAISE EXCEPTION 'taskauth did not verify'; END IF;
      ELSE
        t0 := clock_timestamp();
        PERFORM crypt(pw, gen_salt('bf', cost));
        INSERT INTO timing VALUES (i, 'hash pgcrypto', 1000 * extract(epoch FROM clock_timestamp() - t0));
        t0 := clock_timestamp();
        ok := crypt(pw, theirs) = theirs;
        INSERT INTO timing VALUES (i, 'verify pgcrypto', 1000 * extract(epoch FROM clock_timestamp() - t0));
        IF NOT ok THEN RAISE EXCEPTION 'pgcrypto did not verify'; END IF;
      END IF;
    END LOOP;
  END LOOP;
END
$$;
\pset footer off
\echo
-- ratio: of the medians; paired ratio: median over repetitions of taskauth / pgcrypto measured
-- back to back, which cancels most of the noise of a machine whose load changes during the run
WITH t AS (
  SELECT rep, split_part(what, ' ', 1) AS op, split_part(what, ' ', 2) AS who, ms FROM timing),
m AS (
  SELECT op, who, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median, count(*) AS n
  FROM t GROUP BY op, who),
pr AS (
  SELECT o.op, percentile_cont(0.5) WITHIN GROUP (ORDER BY o.ms / p.ms) AS paired
  FROM t o JOIN t p ON p.rep = o.rep AND p.op = o.op AND p.who = 'pgcrypto'
  WHERE o.who = 'taskauth' GROUP BY o.op)
SELECT o.op AS operation, o.n AS reps,
       round(o.median::numeric, 2) AS taskauth_ms, round(p.median::numeric, 2) AS pgcrypto_ms,
       round((o.median / p.median)::numeric, 3) AS ratio, round(pr.paired::numeric, 3) AS paired_ratio
FROM m o JOIN m p ON p.op = o.op AND p.who = 'pgcrypto' JOIN pr ON pr.op = o.op
WHERE o.who = 'taskauth' ORDER BY o.op;
SQL
