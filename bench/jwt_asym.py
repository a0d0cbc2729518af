#!/usr/bin/python3
"""Per-token cost of verifying EdDSA, ES256 and RS256 JWTs: taskauth.jwt_verify(token, jwk)
against PyJWT + python3-cryptography and jose (npm) on the same tokens.

Makes one key per algorithm and N distinct tokens (different sub and iat) with
python3-cryptography, then, REPS times in alternation: times SELECT count(jwt_verify(t, key))
over a table of the tokens in one session (cached key: the normal case), the same with a
distinct JWK per row (every call parses its key: the uncached path), PyJWT's jwt.decode with a
preloaded key object, jose's jwtVerify with an imported key (bench/jwt_asym_jose.mjs), and
taskauth.authenticate() of the same tokens through an external issuer holding the keys.
Prints medians in microseconds per token. Needs a server in the PG* environment with taskauth
installed (e.g. `pg_virtualenv -v 15 bench/jwt_asym.py`). Usage: jwt_asym.py [N] [REPS]
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import jwt
import psycopg2
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
ISS = 'https://bench.example'
HERE = os.path.dirname(os.path.abspath(__file__))
ALGS = {
    'EdDSA': (ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm),
    'ES256': (ec.generate_private_key(ec.SECP256R1()), ECAlgorithm),
    'RS256': (rsa.generate_private_key(65537, 2048), RSAAlgorithm),
}


def main():
    now = int(time.time())
    data = {}
    for alg, (priv, A) in ALGS.items():
        jwk = json.loads(A.to_jwk(priv.public_key()))
        jwk.pop('key_ops', None)
        toks = [jwt.encode({'sub': str(uuid.UUID(int=i + 1)), 'iat': now - i % 100, 'exp': now + 3600,
                            'iss': ISS, 'email': 'user%d@example.com' % i}, priv, algorithm=alg)
                for i in range(N)]
        data[alg] = {'jwk': jwk, 'tokens': toks}
    fd, path = tempfile.mkstemp(suffix='.json')
    with os.fdopen(fd, 'w') as f:
        json.dump(data, f)

    conn = psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute('CREATE EXTENSION IF NOT EXISTS taskauth')
    cur.execute('SELECT extversion FROM pg_extension WHERE extname = %s', ('taskauth',))
    cur.execute('CREATE TEMP TABLE bench_tok (alg text, i int, t text)')
    for alg, d in data.items():
        cur.executemany('INSERT INTO bench_tok VALUES (%s, %s, %s)',
                        [(alg, i, t) for i, t in enumerate(d['tokens'])])
    cur.execute('ANALYZE bench_tok')
    # An external issuer holding the three keys, for authenticate().
    cur.execute('SELECT taskauth.remove_issuer(%s)', (ISS,))
    cur.execute('SELECT taskauth.add_issuer(%s, jwks => %s::jsonb)',
                (ISS, json.dumps({'keys': [d['jwk'] for d in data.values()]})))
    cur.execute('SHOW server_version')
    server = cur.fetchone()[0]

    res = {k: {a: [] for a in ALGS} for k in ('taskauth', 'taskauth_uncached', 'authenticate', 'pyjwt', 'jose')}
    pykeys = {a: ALGS[a][0].public_key() for a in ALGS}
    for rep in range(REPS):
        for alg, d in data.items():
            key = json.dumps(d['jwk'])
            t0 = time.perf_counter()
            cur.execute('SELECT count(taskauth.jwt_verify(t, %s::jsonb)) FROM bench_tok WHERE alg = %s',
                        (key, alg))
            assert cur.fetchone()[0] == N
            res['taskauth'][alg].append((time.perf_counter() - t0) / N * 1e6)
            t0 = time.perf_counter()
            cur.execute("SELECT count(taskauth.jwt_verify(t, %s::jsonb || jsonb_build_object('x-row', i))) "
                        'FROM bench_tok WHERE alg = %s', (key, alg))
            assert cur.fetchone()[0] == N
            res['taskauth_uncached'][alg].append((time.perf_counter() - t0) / N * 1e6)
            t0 = time.perf_counter()
            cur.execute('SELECT count(taskauth.authenticate(t)) FROM bench_tok WHERE alg = %s', (alg,))
            assert cur.fetchone()[0] == N
            res['authenticate'][alg].append((time.perf_counter() - t0) / N * 1e6)
            k = pykeys[alg]
            t0 = time.perf_counter()
            for t in d['tokens']:
                jwt.decode(t, k, algorithms=[alg])
            res['pyjwt'][alg].append((time.perf_counter() - t0) / N * 1e6)
        out = subprocess.run(['node', os.path.join(HERE, 'jwt_asym_jose.mjs'), path],
                             capture_output=True, text=True, check=True).stdout
        for alg, us in json.loads(out).items():
            res['jose'][alg].append(us)
        print('rep %d done' % (rep + 1), file=sys.stderr)
    os.unlink(path)
    cur.execute('SELECT taskauth.remove_issuer(%s)', (ISS,))

    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
    print('machine: %s, %d cores (%s); PostgreSQL %s; Python %s, PyJWT %s; node %s'
          % (cpu, os.cpu_count(), platform.machine(), server, platform.python_version(),
             jwt.__version__, subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()))
    print('date: %s; %d tokens per algorithm, %d repetitions, medians in us/token' % (
        time.strftime('%Y-%m-%d'), N, REPS))
    print()
    print('| algorithm | taskauth.jwt_verify | key parsed every call | authenticate(), external issuer | PyJWT + cryptography | jose (node) | PyJWT / taskauth | jose / taskauth |')
    print('|---|---|---|---|---|---|---|---|')
    for alg in ALGS:
        m = {k: statistics.median(v[alg]) for k, v in res.items()}
        print('| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |' % (
            alg, m['taskauth'], m['taskauth_uncached'], m['authenticate'], m['pyjwt'], m['jose'],
            m['pyjwt'] / m['taskauth'], m['jose'] / m['taskauth']))
    print()
    print('all repetitions (us/token):')
    print(json.dumps({k: {a: [round(x, 1) for x in v[a]] for a in ALGS} for k, v in res.items()}))


if __name__ == '__main__':
    main()
