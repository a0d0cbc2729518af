#!/usr/bin/python3
"""Tokens both ways between taskauth and PyJWT (Debian python3-jwt): PyJWT-made HS256/384/512
tokens with varied claims verify in taskauth.jwt_verify with identical claims; jwt_sign output
verifies in PyJWT's jwt.decode with identical claims; a tampered token fails in both; expired,
not-yet-valid, audience and issuer verdicts agree. Uses the cluster from the PG* environment in
a database of its own; emits TAP.
"""
import os
import sys
import time

import jwt
import psycopg2
from psycopg2.extras import Json

DB = 'ta_jwt_py_%d' % os.getpid()
ALGS = ['HS256', 'HS384', 'HS512']
SECRET = 'interop-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import results, tap  # noqa: E402




def claim_sets(now):
    """Claims worth crossing: registered claims, unicode, nesting, numbers of every shape."""
    return {
        'registered': {'sub': '6f1c2a9e-5b7d-4c1e-9f3a-2b8c7d6e5f40', 'email': 'ana@example.com',
                       'iat': now, 'nbf': now - 5, 'exp': now + 3600, 'iss': 'https://id.example',
                       'jti': 'a1b2c3'},
        'unicode': {'name': 'Zoë Ångström 日本語 😀', 'emoji': '🔐🚀', 'rtl': 'שלום',
                    'escapes': 'quote " backslash \\ slash / newline \n tab \t nul-free'},
        'nested': {'roles': ['admin', 'user'], 'org': {'id': 7, 'tags': [], 'meta': {'a': [1, [2, [3]]]}},
                   'flags': {'beta': True, 'legacy': False, 'none': None}},
        'numbers': {'int': 42, 'neg': -7, 'zero': 0, 'float': 2.5, 'small': 0.001,
                    'big': 12345678901234567890, 'exp_float': now + 100.25},
        'aud_array': {'aud': ['web', 'api'], 'sub': 'x'},
        'empty': {},
    }


def main():
    admin = psycopg2.connect('')
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE %s' % DB)
    try:
        run()
    finally:
        admin.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
        admin.close()
    print('1..%d' % len(results))
    return 0 if all(results) else 1


def verify(cur, token, secret=SECRET, audience=None, issuer=None):
    """taskauth.jwt_verify: ('ok', claims) or ('error', sqlstate)."""
    cur.execute('SAVEPOINT v')
    try:
        if audience is None and issuer is None:
            cur.execute('SELECT taskauth.jwt_verify(%s, %s)', (token, secret))
        else:
            cur.execute('SELECT taskauth.jwt_verify(%s, %s, audience => %s, issuer => %s)',
                        (token, secret, audience, issuer))
        return 'ok', cur.fetchone()[0]
    except psycopg2.Error as e:
        cur.execute('ROLLBACK TO SAVEPOINT v')
        return 'error', e.pgcode


def pyjwt_decode(token, alg, secret=SECRET, audience=None, issuer=None):
    """PyJWT's verdict: ('ok', claims) or ('error', exception class name)."""
    try:
        return 'ok', jwt.decode(token, secret, algorithms=[alg], audience=audience, issuer=issuer,
                                leeway=0)
    except jwt.PyJWTError as e:
        return 'error', type(e).__name__


def tamper(token, part):
    """Change one character in a middle position of segment part (0 header, 1 payload, 2 sig)."""
    segs = token.split('.')
    s = segs[part]
    i = len(s) // 2
    segs[part] = s[:i] + ('A' if s[i] != 'A' else 'B') + s[i + 1:]
    return '.'.join(segs)


def run():
    conn = psycopg2.connect(dbname=DB)
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute('CREATE EXTENSION taskauth')
    cur.execute('SET taskauth.leeway = 0')
    now = int(time.time())

    # PyJWT -> taskauth
    for alg in ALGS:
        for name, claims in claim_sets(now).items():
            token = jwt.encode(claims, SECRET, algorithm=alg)
            verdict, got = verify(cur, token)
            tap(verdict == 'ok' and got == claims, 'PyJWT %s %s verifies in taskauth with identical claims'
                % (alg, name), '%s %r' % (verdict, got))
        token = jwt.encode({'sub': 'k'}, SECRET, algorithm=alg, headers={'kid': 'key-2024', 'cty': 'x'})
        verdict, got = verify(cur, token)
        tap(verdict == 'ok' and got == {'sub': 'k'}, 'PyJWT %s with kid and extra header verifies' % alg)

    # taskauth -> PyJWT
    for alg in ALGS:
        for name, claims in claim_sets(now).items():
            cur.execute('SELECT taskauth.jwt_sign(%s, %s, %s)', (Json(claims), SECRET, alg))
            token = cur.fetchone()[0]
            aud = 'api' if 'aud' in claims else None
            verdict, got = pyjwt_decode(token, alg, audience=aud)
            tap(verdict == 'ok' and got == claims, 'jwt_sign %s %s verifies in PyJWT with identical claims'
                % (alg, name), '%s %r' % (verdict, got))
            header = jwt.get_unverified_header(token)
            tap(header == {'alg': alg, 'typ': 'JWT'}, 'jwt_sign %s %s header is exactly alg and typ'
                % (alg, name), header)

    # tampering, in both directions
    for alg in ALGS:
        token = jwt.encode({'sub': 'victim', 'admin': False}, SECRET, algorithm=alg)
        for part, what in ((1, 'payload'), (2, 'signature')):
            verdict, code = verify(cur, tamper(token, part))
            tap(verdict == 'error' and code == '28000', 'tampered %s of a PyJWT %s token fails in taskauth'
                % (what, alg), code)
        cur.execute('SELECT taskauth.jwt_sign(%s, %s, %s)',
                    (Json({'sub': 'victim', 'admin': False}), SECRET, alg))
        ours = cur.fetchone()[0]
        for part, what in ((1, 'payload'), (2, 'signature')):
            verdict, err = pyjwt_decode(tamper(ours, part), alg)
            tap(verdict == 'error', 'tampered %s of a jwt_sign %s token fails in PyJWT (%s)'
                % (what, alg, err))
        verdict, code = verify(cur, token, secret=SECRET + 'x')
        tap(verdict == 'error' and code == '28000', 'PyJWT %s token with another secret fails in taskauth' % alg)
        verdict, err = pyjwt_decode(ours, alg, secret=SECRET + 'x')
        tap(err == 'InvalidSignatureError', 'jwt_sign %s token with another secret fails in PyJWT' % alg)

    # the same verdicts on claims, both libraries
    cases = [
        ('expired', {'exp': now - 60}, None, None),
        ('not yet valid', {'nbf': now + 600}, None, None),
        ('valid window', {'nbf': now - 60, 'exp': now + 600}, None, None),
        ('audience match (array)', {'aud': ['a', 'api']}, 'api', None),
        ('audience mismatch', {'aud': 'web'}, 'api', None),
        ('audience missing', {'sub': 'x'}, 'api', None),
        ('issuer match', {'iss': 'https://id.example'}, None, 'https://id.example'),
        ('issuer mismatch', {'iss': 'https://evil.example'}, None, 'https://id.example'),
    ]
    for name, claims, aud, iss in cases:
        token = jwt.encode(claims, SECRET, algorithm='HS256')
        ours, _ = verify(cur, token, audience=aud, issuer=iss)
        theirs, err = pyjwt_decode(token, 'HS256', audience=aud, issuer=iss)
        tap(ours == theirs, 'verdict agrees with PyJWT: %s (%s)' % (name, ours), '%s vs %s %s' % (ours, theirs, err))

    # alg "none" from PyJWT is refused
    unsigned = jwt.encode({'sub': 'x', 'admin': True}, None, algorithm='none')
    verdict, code = verify(cur, unsigned)
    tap(verdict == 'error' and code == '28000', 'PyJWT alg none token refused')

    # a unicode secret is the UTF-8 bytes on both sides
    usecret = 'sëcret-🔑-' + 'x' * 20
    token = jwt.encode({'sub': 'u'}, usecret, algorithm='HS256')
    verdict, got = verify(cur, token, secret=usecret)
    tap(verdict == 'ok' and got == {'sub': 'u'}, 'unicode secret: PyJWT token verifies in taskauth')
    cur.execute('SELECT taskauth.jwt_sign(%s, %s)', (Json({'sub': 'u'}), usecret))
    verdict, got = pyjwt_decode(cur.fetchone()[0], 'HS256', secret=usecret)
    tap(verdict == 'ok' and got == {'sub': 'u'}, 'unicode secret: jwt_sign token verifies in PyJWT')

    conn.rollback()
    # taskauth's own access tokens, as docs/identity.md's "One key per kind of token" says to verify them
    # (committed: login counts its attempt in a worker, which must see the extension)
    conn.autocommit = True
    cur.execute('CREATE EXTENSION taskauth')
    secret = 'pyjwt-shared-secret-0123456789abcdefghij'
    cur.execute("SELECT taskauth.add_signing_key(%s, 'py')", (secret,))
    cur.execute("SELECT taskauth.register('py@example.com', 'py-password-123')::text")
    uid = cur.fetchone()[0]
    cur.execute("SELECT taskauth.login('py@example.com', 'py-password-123')")
    token = cur.fetchone()[0]
    cur.execute("SELECT taskauth.access_token_key(secret) FROM taskauth.signing_keys WHERE kid = 'py'")
    key = cur.fetchone()[0]
    try:
        got = jwt.decode(token, key, algorithms=['HS256'], audience='taskauth')
    except jwt.PyJWTError as e:
        got = repr(e)
    tap(isinstance(got, dict) and got.get('sub') == uid and got.get('aud') == 'taskauth'
        and jwt.get_unverified_header(token).get('typ') == 'at+jwt',
        'a login token (typ at+jwt) verifies in PyJWT with access_token_key(secret) and audience taskauth', got)
    verdict, err = pyjwt_decode(token, 'HS256', secret=secret, audience='taskauth')
    tap(verdict == 'error' and 'Signature' in err,
        'it does not verify with the signing key\'s secret itself (one key per kind of token)', err)

    conn.close()


if __name__ == '__main__':
    raise SystemExit(main())
