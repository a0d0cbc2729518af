#!/bin/bash
# authenticate() of an external issuer's EdDSA tokens, per call, in one session per repetition:
# N distinct tokens (one user each, signed with one Ed25519 key by python3-cryptography, the
# issuer registered with add_issuer(..., jwks => ...)), each token's first sight, then each
# token presented again. Medians over REPS repetitions, in us/call.
#
# A/B: with LIBS="name=/path/to/taskauth.so name2=/other/taskauth.so", each repetition runs every
# library in turn (the order rotating), each in a fresh session after the library is renamed into
# the server's pkglibdir: only inside a private install (`/work/isolated NAME ...`), never on a
# server others use. The two builds must share one SQL script (the same extension version).
# Run inside a cluster: pg_virtualenv -t -v 15 bench/authenticate_eddsa.sh  (needs make install first)
set -euo pipefail
DB=ta_bench_ed_$$
REPS=${REPS:-9}
N=${N:-2000}
LIBS=${LIBS:-installed=}
pkglib=$(pg_config --pkglibdir)
work=$(mktemp -d)
orig=
restore() {
  [[ -z $orig ]] || mv -f "$orig" "$pkglib/taskauth.so"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$work"
}
trap restore EXIT
for l in $LIBS; do
  [[ -z ${l#*=} ]] && continue
  [[ -z $orig ]] && { orig=$pkglib/.taskauth.so.orig; cp -p "$pkglib/taskauth.so" "$orig"; }
  cp "${l#*=}" "$work/${l%%=*}.so"
done

/usr/bin/python3 - "$N" "$work" <<'PY'
import base64, json, sys, time, uuid
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization
n, out = int(sys.argv[1]), sys.argv[2]
key = ed25519.Ed25519PrivateKey.generate()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
json.dump({'keys': [{'kty': 'OKP', 'crv': 'Ed25519', 'x': b64(x), 'kid': 'bench-ed', 'alg': 'EdDSA'}]},
          open(out + '/jwks.json', 'w'))
hdr = b64(json.dumps({'alg': 'EdDSA', 'kid': 'bench-ed', 'typ': 'JWT'}).encode())
now = int(time.time())
with open(out + '/tokens.txt', 'w') as f:
    for i in range(n):
        claims = {'sub': str(uuid.UUID(int=i + 1)), 'email': 'u%d@bench.example' % i,
                  'iss': 'https://bench.example', 'iat': now, 'exp': now + 86400}
        si = hdr + '.' + b64(json.dumps(claims).encode())
        f.write(si + '.' + b64(key.sign(si.encode())) + '\n')
PY

psql -X -q -d postgres -c "CREATE DATABASE $DB"
psql -X -q -At -d $DB -v jwks="$(cat "$work/jwks.json")" <<SQL
CREATE EXTENSION taskauth;
SELECT taskauth.add_issuer('https://bench.example', jwks => :'jwks'::jsonb) \g /dev/null
CREATE TABLE toks (t text);
\copy toks FROM '$work/tokens.txt'
CREATE FUNCTION timed(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; BEGIN t0 := clock_timestamp(); EXECUTE q;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / $N; END \$\$;
CREATE TABLE runs (lib text, rep int, kind text, us float8);
SQL

names=()
for l in $LIBS; do names+=("${l%%=*}"); done
k=${#names[@]}
for r in $(seq "$REPS"); do
  for j in $(seq 0 $((k - 1))); do
    name=${names[$(((r + j) % k))]}
    if [[ -f $work/$name.so ]]; then
      # a rename, never a write over the file a running backend may have mapped
      cp "$work/$name.so" "$pkglib/.taskauth.so.next" && mv -f "$pkglib/.taskauth.so.next" "$pkglib/taskauth.so"
    fi
    psql -X -q -At -d $DB -v lib="$name" -v rep="$r" <<'SQL'
-- a fresh session: the first statement loads the library, the issuer and its key
SELECT count(taskauth.authenticate(t)) FROM (SELECT t FROM toks LIMIT 1) s \g /dev/null
INSERT INTO runs SELECT :'lib', :rep, 'first sight', timed($$SELECT count(taskauth.authenticate(t)) FROM toks OFFSET 0$$);
INSERT INTO runs SELECT :'lib', :rep, 'presented again', timed($$SELECT count(taskauth.authenticate(t)) FROM toks OFFSET 0$$);
SQL
  done
done
echo "machine: $(nproc) cpu, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(psql -X -At -d $DB -c 'SHOW server_version'); $(date -u '+%F %H:%M') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$N distinct EdDSA tokens of one external issuer, $REPS repetitions, us per authenticate() call"
psql -X -q -d $DB -c "SELECT kind, lib, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) AS median_us,
  round(percentile_cont(0.25) WITHIN GROUP (ORDER BY us)::numeric, 1) AS q1, round(percentile_cont(0.75) WITHIN GROUP (ORDER BY us)::numeric, 1) AS q3,
  round(min(us)::numeric, 1) AS min_us, count(*) AS reps FROM runs GROUP BY kind, lib ORDER BY kind, lib"
if ((k == 2)); then
  psql -X -q -d $DB -c "SELECT a.kind, '${names[0]} / ${names[1]}' AS ratio,
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.us / b.us)::numeric, 2) AS median_paired_ratio
    FROM runs a JOIN runs b USING (rep, kind) WHERE a.lib = '${names[0]}' AND b.lib = '${names[1]}' GROUP BY a.kind ORDER BY 1"
fi
