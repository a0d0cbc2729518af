#!/usr/bin/python3
"""External issuers' tokens in the verified-token cache: a token presented again is accepted
from the cache, and refused from the moment it would be refused without the cache: exp checked
on every use; a key removed from the issuer's key table or past its expiry and grace once the
keys are due to be read again (taskauth.issuer_keys_refresh); a key removed from the issuer's
jwks, a changed audience or a removed issuer at once; a revoked user at once. Each case is run
against a backend that has the token cached and one that has never seen it, which must agree.
Tokens are EdDSA and ES256, signed with PyJWT. Uses the cluster from the PG* environment; TAP.
"""
import contextlib
import json
import os
import sys
import time
import uuid

import jwt
import psycopg2
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import results, tap  # noqa: E402

DB = 'ta_extcache_%d' % os.getpid()
ISS_TABLE = 'https://table.issuer.test'     # keys in a Better Auth style jwks table
ISS_JWKS = 'https://jwks.issuer.test'       # keys in taskauth.issuers.jwks
SUB = str(uuid.uuid4())


def connect():
    c = psycopg2.connect(dbname=DB)
    c.autocommit = True
    return c


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0] if cur.description else None


def auth(conn, token):
    try:
        return one(conn, 'SELECT taskauth.authenticate(%s)::text', (token,))
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def main():
    with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
        c.autocommit = True
        c.cursor().execute('CREATE DATABASE %s' % DB)
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
            c.autocommit = True
            c.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


def run():
    admin = connect()
    one(admin, 'CREATE EXTENSION taskauth')
    one(admin, 'CREATE TABLE public.jwks (id text PRIMARY KEY, "publicKey" text NOT NULL, '
               '"expiresAt" timestamptz, alg text)')
    ed = ed25519.Ed25519PrivateKey.generate()
    ed2 = ed25519.Ed25519PrivateKey.generate()
    es = ec.generate_private_key(ec.SECP256R1())
    one(admin, 'INSERT INTO public.jwks VALUES (%s, %s, NULL, NULL), (%s, %s, NULL, NULL)',
        ('t1', OKPAlgorithm.to_jwk(ed.public_key()), 't2', OKPAlgorithm.to_jwk(ed2.public_key())))
    one(admin, "SELECT taskauth.add_issuer(%s, audience => 'api', key_table => 'public.jwks')", (ISS_TABLE,))
    es_jwk = json.loads(ECAlgorithm.to_jwk(es.public_key()))
    es_jwk['kid'] = 'j1'
    one(admin, "SELECT taskauth.add_issuer(%s, audience => 'api', jwks => %s::jsonb)",
        (ISS_JWKS, json.dumps({'keys': [es_jwk]})))
    # every backend: key table keys read again after 2 s, no leeway
    one(admin, 'ALTER DATABASE %s SET taskauth.issuer_keys_refresh = 2' % DB)
    one(admin, 'ALTER DATABASE %s SET taskauth.leeway = 0' % DB)

    def token(key, kid, iss, life=600, **extra):
        now = int(time.time())
        claims = {'sub': SUB, 'iss': iss, 'aud': 'api', 'iat': now, 'exp': now + life}
        claims.update(extra)
        return jwt.encode(claims, key, algorithm='EdDSA' if kid.startswith('t') else 'ES256',
                          headers={'kid': kid})

    cached = connect()

    def twice(tok):
        """Authenticate tok twice in the cached backend: True when both gave SUB, the first use
        missed the verified-token cache and the second hit it (taskauth.backend_stats)."""
        before = one(cached, 'SELECT (token_cache_hits, token_cache_misses)::text FROM taskauth.backend_stats()')
        ids = (auth(cached, tok), auth(cached, tok))
        after = one(cached, 'SELECT (token_cache_hits, token_cache_misses)::text FROM taskauth.backend_stats()')
        (h0, m0), (h1, m1) = (tuple(int(x) for x in v.strip('()').split(',')) for v in (before, after))
        ok = ids == (SUB, SUB) and (h1 - h0, m1 - m0) == (1, 1)
        if not ok:
            print('# %r: hits %d -> %d, misses %d -> %d' % (ids, h0, h1, m0, m1), flush=True)
        return ok

    def both(tok):
        """(the backend that has it cached, a backend that never saw it)."""
        with contextlib.closing(connect()) as fresh:
            return auth(cached, tok), auth(fresh, tok)

    # exp on every use
    short = token(ed, 't1', ISS_TABLE, life=2)
    tap(twice(short), 'an EdDSA token: verified (a cache miss), then taken again from the cache (a hit)')
    time.sleep(3.2)
    got = both(short)
    tap(got == ('28000 jwt expired',) * 2, 'once expired it is refused, cached or not', got)

    # a key removed from the key table: refused once the keys are due to be read again
    t1 = token(ed, 't1', ISS_TABLE)
    t2 = token(ed2, 't2', ISS_TABLE)
    tap(auth(cached, t1) == SUB and auth(cached, t2) == SUB, 'tokens of keys t1 and t2 cached')
    one(admin, "DELETE FROM public.jwks WHERE id = 't1'")
    time.sleep(2.5)
    got = both(t1)
    tap(got[0] == got[1] and got[0].startswith('28000'),
        'key t1 removed from the key table: refused after taskauth.issuer_keys_refresh, cached or not', got)
    tap(both(t2) == (SUB, SUB), 'the token of key t2, still in the table, is accepted')

    # a key past its expiry and grace
    one(admin, "UPDATE public.jwks SET \"expiresAt\" = now() - interval '31 days' WHERE id = 't2'")
    time.sleep(2.5)
    got = both(t2)
    tap(got[0] == got[1] and got[0].startswith('28000'),
        'key t2 past its expiry and 30-day grace: refused after the refresh, cached or not', got)

    # keys held in taskauth.issuers: every change invalidates at once
    j = token(es, 'j1', ISS_JWKS)
    tap(twice(j), 'an ES256 token of a jwks issuer: cached (the second use a cache hit)')
    one(admin, "UPDATE taskauth.issuers SET audience = 'another-api' WHERE issuer = %s", (ISS_JWKS,))
    got = both(j)
    tap(got[0] == got[1] and got[0].startswith('28000'), 'audience changed: refused at once, cached or not', got)
    one(admin, "UPDATE taskauth.issuers SET audience = 'api' WHERE issuer = %s", (ISS_JWKS,))
    tap(both(j) == (SUB, SUB), 'audience back: accepted again')
    one(admin, 'SELECT taskauth.remove_issuer_key(%s, %s)', (ISS_JWKS, 'j1'))
    got = both(j)
    tap(got[0] == got[1] and got[0].startswith('28000'), 'key removed from the jwks: refused at once', got)
    one(admin, 'SELECT taskauth.add_issuer_key(%s, %s::jsonb)', (ISS_JWKS, json.dumps(es_jwk)))
    tap(both(j) == (SUB, SUB), 'key added back: accepted again')
    one(admin, 'SELECT taskauth.remove_issuer(%s)', (ISS_JWKS,))
    got = both(j)
    tap(got == ('28000 jwt issuer is not trusted',) * 2, 'issuer removed: refused at once', got)

    # a revoked user, at once
    one(admin, "INSERT INTO public.jwks VALUES ('t3', %s, NULL, NULL)", (OKPAlgorithm.to_jwk(ed.public_key()),))
    t3 = token(ed, 't3', ISS_TABLE, iat=int(time.time()) - 5)
    tap(twice(t3), 'a token of key t3: cached (the second use a cache hit)')
    one(admin, 'SELECT taskauth.revoke_user(%s)', (SUB,))
    tap(both(t3) == ('28000 token revoked',) * 2, 'revoke_user: refused at once, cached or not')
    cached.close()
    admin.close()


if __name__ == '__main__':
    main()
