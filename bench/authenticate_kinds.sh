#!/bin/bash
# authenticate() per call as a client meets it, for three kinds of token: the server's HS256
# tokens, an external issuer's EdDSA tokens (Better Auth's default) and ES256 tokens. 200 users'
# tokens of each kind, each presented 20 times in one session: the first pass is "first sight"
# (verified), passes 2-20 "repeated". Before and after side by side in one run: the library of
# BEFORE (a git ref, default the last commit before the issuer-token cache) is built and
# installed as taskauth_before.so and called through a wrapper in sessions that never load the
# current library; each round runs both, in alternating order, in fresh sessions. Medians of
# ROUNDS rounds, in us per call.
# Each session also times jwt_verify alone on the HS256 and EdDSA tokens (no identity, no cache;
# for EdDSA nearly all of it is the signature check), so first sight can be read against the
# bare verification of the same moment on a machine whose speed drifts.
# BEFORE_COPT adds compiler flags to the BEFORE build only: with BEFORE=HEAD and
# BEFORE_COPT=-DTASKAUTH_SERVER_JSONB, "before" is this build with the server's jsonb_in (and
# jsonb_out's text) in place of jwt.c's hand-written jsonb builder and claims writer
# (bench/results-jsonb-writers.md).
# Run inside a cluster after make install: pg_virtualenv -t bench/authenticate_kinds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BEFORE:-28899d4}
ROUNDS=${ROUNDS:-9}
USERS=${USERS:-200}
PASSES=${PASSES:-20}
DB=ta_bench_kinds_$$
work=$(mktemp -d)
libdir=$(pg_config --pkglibdir)
cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  git worktree remove --force "$work/before" >/dev/null 2>&1 || true
  rm -rf "$work"; rm -f "$libdir/taskauth_before.so"
}
trap cleanup EXIT

git worktree add -q "$work/before" "$BEFORE"
make -s -C "$work/before" ${BEFORE_COPT:+COPT="$BEFORE_COPT"} >/dev/null
cp "$work/before/taskauth.so" "$libdir/taskauth_before.so"

psql -X -q -d postgres -c "CREATE DATABASE $DB"
/usr/bin/python3 - "$DB" "$USERS" <<'PY'
import json, sys, time, uuid
import jwt, psycopg2
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
db, users = sys.argv[1], int(sys.argv[2])
c = psycopg2.connect(dbname=db); c.autocommit = True; cur = c.cursor()
cur.execute('CREATE EXTENSION taskauth')
cur.execute("SELECT taskauth.add_signing_key('bench-secret-0123456789abcdefghijklmnopq', 'bench')")
ed = ed25519.Ed25519PrivateKey.generate(); es = ec.generate_private_key(ec.SECP256R1())
for iss, key, jwk_of, kid in (('https://ed.bench', ed, OKPAlgorithm.to_jwk, 'ed1'),
                              ('https://es.bench', es, ECAlgorithm.to_jwk, 'es1')):
    j = json.loads(jwk_of(key.public_key())); j['kid'] = kid
    cur.execute("SELECT taskauth.add_issuer(%s, audience => 'api', jwks => %s::jsonb)", (iss, json.dumps({'keys': [j]})))
    if kid == 'ed1':
        cur.execute('CREATE TABLE public.edjwk AS SELECT %s::jsonb AS jwk', (json.dumps(j),))
cur.execute('CREATE TABLE public.toks (kind text, n int, t text)')
now = int(time.time())
for n in range(users + 1):          # token 0 of each kind warms the session up
    sub = str(uuid.uuid4())
    cur.execute("INSERT INTO public.toks SELECT 'hs256', %s, taskauth.issue_token(%s, %s, gen_random_uuid())",
                (n, sub, 'u%d@bench.test' % n))
    for kind, iss, key, alg, kid in (('eddsa', 'https://ed.bench', ed, 'EdDSA', 'ed1'),
                                     ('es256', 'https://es.bench', es, 'ES256', 'es1')):
        t = jwt.encode({'sub': sub, 'iss': iss, 'aud': 'api', 'email': 'u%d@bench.test' % n,
                        'iat': now, 'exp': now + 3600}, key, algorithm=alg, headers={'kid': kid})
        cur.execute('INSERT INTO public.toks VALUES (%s, %s, %s)', (kind, n, t))
# the server's tokens (typ at+jwt) verify with the key derived from the secret, not the secret
cur.execute("CREATE TABLE public.atkey AS SELECT taskauth.access_token_key('bench-secret-0123456789abcdefghijklmnopq') AS atk")
cur.execute('CREATE TABLE public.runs (round int, build text, kind text, sight text, us float8)')
PY

# Creating a C function loads its library: in a session that never loads the current one.
PGOPTIONS='-c session_preload_libraries=' psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE FUNCTION public.auth_before(text) RETURNS uuid
  AS '$libdir/taskauth_before', 'taskauth_authenticate' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION public.verify_before(text, text) RETURNS jsonb
  AS '$libdir/taskauth_before', 'taskauth_jwt_verify' LANGUAGE C STABLE STRICT;
CREATE FUNCTION public.verify_jwk_before(text, jsonb) RETURNS jsonb
  AS '$libdir/taskauth_before', 'taskauth_jwt_verify_jwk' LANGUAGE C STABLE STRICT;
SQL

# One session of one build: every kind, first pass then the repeats, per-call us into runs.
measure() {
  local round=$1 build=$2 fn vfn vjfn opts=
  if [[ $build == before ]]; then
    fn=public.auth_before; vfn=public.verify_before; vjfn=public.verify_jwk_before
    opts='-c session_preload_libraries='
  else fn=taskauth.authenticate; vfn=taskauth.jwt_verify; vjfn=taskauth.jwt_verify; fi
  PGOPTIONS=$opts psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
SET taskauth.token_cache_size = 4096;
CREATE TEMP TABLE t AS SELECT kind, n, t FROM public.toks;
SELECT count($fn(t)) FROM t WHERE n = 0;      -- warm up: library, keys, issuers
DO \$\$
DECLARE t0 timestamptz; k text; p int; c bigint; lo int; hi int;
BEGIN
  -- Warm the timing statements up on token 0 first: PL/pgSQL plans a statement when it first
  -- runs it (and custom-plans its first five runs), which would otherwise be charged to the
  -- first pass of the first kind (about 4 us a token with 200 tokens).
  FOREACH k IN ARRAY ARRAY['hs256', 'eddsa', 'es256'] LOOP
    FOR p IN 1..6 LOOP
      lo := 0; hi := 0;
      SELECT count($fn(t)) INTO c FROM t WHERE kind = k AND n BETWEEN lo AND hi;
      SELECT count($vfn(t, (SELECT atk FROM public.atkey))) INTO c FROM t WHERE kind = 'hs256' AND n BETWEEN lo AND hi;
      SELECT count($vjfn(t, (SELECT jwk FROM public.edjwk))) INTO c FROM t WHERE kind = 'eddsa' AND n BETWEEN lo AND hi;
    END LOOP;
  END LOOP;
  lo := 1; hi := $USERS;
  FOREACH k IN ARRAY ARRAY['hs256', 'eddsa', 'es256'] LOOP
    FOR p IN 1..$PASSES LOOP
      t0 := clock_timestamp();
      SELECT count($fn(t)) INTO c FROM t WHERE kind = k AND n BETWEEN lo AND hi;
      INSERT INTO public.runs VALUES ($round, '$build', k, CASE p WHEN 1 THEN 'first sight' ELSE 'repeated' END,
                                      extract(epoch FROM clock_timestamp() - t0) * 1e6 / c);
    END LOOP;
  END LOOP;
  -- references in the same session: the verification alone (no identity, no cache)
  t0 := clock_timestamp();
  SELECT count($vfn(t, (SELECT atk FROM public.atkey))) INTO c FROM t WHERE kind = 'hs256' AND n BETWEEN lo AND hi;
  INSERT INTO public.runs VALUES ($round, '$build', 'hs256', 'jwt_verify alone',
                                  extract(epoch FROM clock_timestamp() - t0) * 1e6 / c);
  t0 := clock_timestamp();
  SELECT count($vjfn(t, (SELECT jwk FROM public.edjwk))) INTO c FROM t WHERE kind = 'eddsa' AND n BETWEEN lo AND hi;
  INSERT INTO public.runs VALUES ($round, '$build', 'eddsa', 'jwt_verify alone',
                                  extract(epoch FROM clock_timestamp() - t0) * 1e6 / c);
END \$\$;
SQL
}

for r in $(seq "$ROUNDS"); do
  if ((r % 2)); then measure "$r" before; measure "$r" after
  else measure "$r" after; measure "$r" before; fi
done

echo "machine: $(nproc) cpu, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(psql -X -At -d "$DB" -c 'SHOW server_version'); $(date -u +%F)"
echo "before = $BEFORE ($(git log -1 --format=%s "$BEFORE" | cut -c1-60)), after = $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' + uncommitted')"
psql -X -q -d "$DB" <<'SQL'
-- per round: the mean of the repeated passes; then medians over the rounds
WITH per_round AS (
  SELECT round, build, kind, sight, avg(us) AS us FROM public.runs GROUP BY 1, 2, 3, 4)
SELECT kind, sight,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE build = 'before')::numeric, 2) AS before_us,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE build = 'after')::numeric, 2) AS after_us,
       count(*) / 2 AS rounds
  FROM per_round GROUP BY kind, sight
 ORDER BY CASE kind WHEN 'hs256' THEN 1 WHEN 'eddsa' THEN 2 ELSE 3 END,
          CASE sight WHEN 'first sight' THEN 1 WHEN 'repeated' THEN 2 ELSE 3 END;
-- first sight over the bare verification, per round and session, then medians
WITH per_round AS (
  SELECT round, build, kind, sight, avg(us) AS us FROM public.runs GROUP BY 1, 2, 3, 4),
r AS (
  SELECT f.round, f.build, f.kind, f.us / v.us AS ratio, f.us - v.us AS extra
    FROM per_round f JOIN per_round v USING (round, build, kind)
   WHERE f.sight = 'first sight' AND v.sight = 'jwt_verify alone')
SELECT kind, build,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio)::numeric, 2) AS first_sight_over_jwt_verify,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extra)::numeric, 2) AS extra_us
  FROM r GROUP BY kind, build ORDER BY kind DESC, build DESC;
SQL
