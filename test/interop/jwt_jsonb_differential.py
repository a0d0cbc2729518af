#!/usr/bin/python3
"""Differential test of jwt_verify's claims against PostgreSQL's own jsonb input.

Thousands of payloads (random JSON with escapes, surrogate pairs, duplicate keys, odd numbers,
whitespace; then the same texts randomly mutated) are signed here with the standard library's
hmac and verified by taskauth.jwt_verify, and again signed with Ed25519 (python3-cryptography)
and verified with a public JWK (the external issuers' path, which builds claims the same way
without the HMAC path's member list); and, with a uuid sub added, presented to authenticate(),
whose jwt.claims setting must read as the same jsonb's text, at first sight (written from the
token's own text where it can be: flat objects, mostly claims-like, are most of these) and from
the verified-token cache. Properties:
  - when jsonb accepts the payload, jwt_verify returns exactly the same jsonb (compared as text,
    so a different numeric scale would show), unless the payload is one of the documented
    refusals (nesting deeper than 64 levels);
  - when jsonb refuses it, jwt_verify refuses it with SQLSTATE 28000;
  - jwt_verify never fails with any other SQLSTATE.
Deterministic (fixed seed). Uses the cluster from the PG* environment; emits TAP.
"""
import base64
import hashlib
import hmac
import os
import sys
import random
import uuid

import psycopg2
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DB = 'ta_jwt_diff_%d' % os.getpid()
SECRET = b'differential-secret'
HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b'=')
ED_HEADER = base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"JWT"}').rstrip(b'=')
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b'differential').digest())
ED_JWK = '{"kty":"OKP","crv":"Ed25519","x":"%s"}' % base64.urlsafe_b64encode(
    ED_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).rstrip(b'=').decode()

# refusals for what the claims say, not for the JSON itself
CLAIM_ERRORS = {'jwt expired', 'jwt not yet valid', 'jwt issued in the future',
                'jwt exp claim is not a number', 'jwt nbf claim is not a number',
                'jwt iat claim is not a number', 'jwt exp claim is out of range',
                'jwt nbf claim is out of range', 'jwt iat claim is out of range'}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import results, tap  # noqa: E402




def token(payload: bytes) -> str:
    """HS256 token over raw payload bytes."""
    si = HEADER + b'.' + base64.urlsafe_b64encode(payload).rstrip(b'=')
    mac = base64.urlsafe_b64encode(hmac.new(SECRET, si, hashlib.sha256).digest()).rstrip(b'=')
    return (si + b'.' + mac).decode()


def ed_token(payload: bytes) -> str:
    """EdDSA token over raw payload bytes."""
    si = ED_HEADER + b'.' + base64.urlsafe_b64encode(payload).rstrip(b'=')
    return (si + b'.' + base64.urlsafe_b64encode(ED_KEY.sign(si)).rstrip(b'=')).decode()


# authenticate() verifies with a server key (at least 32 bytes)
AUTH_SECRET = b'differential-authenticate-secret-0123456789'


def auth_token(payload: bytes) -> str:
    """HS256 token over raw payload bytes, with the server key added in run()."""
    si = HEADER + b'.' + base64.urlsafe_b64encode(payload).rstrip(b'=')
    mac = base64.urlsafe_b64encode(hmac.new(AUTH_SECRET, si, hashlib.sha256).digest()).rstrip(b'=')
    return (si + b'.' + mac).decode()


# how each kind of token is made and verified; authenticate() is checked through jwt.claims,
# read after it has set the identity, first when the token is verified and then from the cache
AUTH_SQL = ("SELECT taskauth.authenticate(%s) WHERE %s IS NULL; SELECT current_setting('jwt.claims'); "
            "SELECT taskauth.authenticate(%s) WHERE %s IS NULL; SELECT current_setting('jwt.claims')")
KINDS = {
    'HS256': (token, 'SELECT taskauth.jwt_verify(%s, %s)::text', SECRET.decode()),
    'EdDSA': (ed_token, 'SELECT taskauth.jwt_verify(%s, %s::jsonb)::text', ED_JWK),
    'authenticate': (auth_token, AUTH_SQL, None),
}


def rand_string(r):
    """A JSON string literal with a mix of plain text, escapes and raw non-ASCII."""
    parts = []
    for _ in range(r.randint(0, 6)):
        k = r.randint(0, 9)
        if k < 3:
            parts.append(r.choice(['a', 'sub', 'exp', 'Zoë', '日本', '😀', ' ', 'x' * r.randint(1, 20)]))
        elif k < 5:
            parts.append(r.choice(['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t']))
        elif k < 7:
            parts.append('\\u%04x' % r.choice([0x41, 0xe9, 0x20ac, 0x1f, 0x7f, 0xfffd, 0x65]))
        elif k < 8 or r.random() < 0.9:
            parts.append(r.choice(['\\ud83d\\ude00', '\\uD83D\\uDE00']))
        else:
            parts.append(r.choice(['\\u0000', '\\ud800', '\\udc00x']))
    return '"' + ''.join(parts) + '"'


def rand_number(r):
    """A JSON number of some shape, sometimes near jsonb's limits."""
    k = r.randint(0, 9)
    if k < 3:
        return str(r.randint(-10**r.randint(1, 25), 10**r.randint(1, 25)))
    if k < 5:
        return '%s%d.%s' % (r.choice(['', '-']), r.randint(0, 999), ''.join(r.choice('0123456789')
                                                                       for _ in range(r.randint(1, 30))))
    if k < 7:
        return '%s%de%s%d' % (r.choice(['', '-']), r.randint(0, 99), r.choice(['', '+', '-']),
                              r.randint(0, 400))
    if k < 8:
        return r.choice(['0', '-0', '0.0', '0e5', '1E+2', '1e-16383', '1e-16384', '1e131071',
                         '1e131072', '0.1e-16382', '9.99e131071', '0e999999'])
    return '%d.%s1e%d' % (r.randint(1, 9), '0' * r.randint(0, 5), r.randint(-30, 30))


def rand_value(r, depth):
    """A random JSON value."""
    k = r.randint(0, 9 if depth < 6 else 5)
    if k < 2:
        return rand_string(r)
    if k < 4:
        return rand_number(r)
    if k < 5:
        return r.choice(['true', 'false', 'null'])
    if k < 7:
        return '[' + ','.join(rand_value(r, depth + 1) for _ in range(r.randint(0, 4))) + ']'
    return rand_object(r, depth + 1)


def ws(r):
    """Insignificant whitespace, usually none."""
    return r.choice(['', '', '', ' ', '\n', '\t ', '\r\n'])


def rand_object(r, depth=0):
    """A random JSON object, keys sometimes repeated or escaped."""
    keys = ['"sub"', '"a"', '"b"', '"aa"', '"\\u0061"', '"exp_"', '"k"', '""', '"日本"']
    members = []
    for _ in range(r.randint(0, 7)):
        key = r.choice(keys) if r.random() < 0.7 else rand_string(r)
        members.append(ws(r) + key + ws(r) + ':' + ws(r) + rand_value(r, depth) + ws(r))
    return '{' + ','.join(members) + '}'


def flat_object(r):
    """A claims-like object: scalar values, mostly plain strings and numbers, keys repeated."""
    keys = ['"sub"', '"a"', '"b"', '"aa"', '"email"', '"iat"', '"exp_"', '"role"', '""', '"日本"']
    plain = ['"x@example.com"', '"authenticated"', '""', '"Zoë 日本 😀"', '"/a/b"', '"\x7f"']
    members = []
    for _ in range(r.randint(0, 9)):
        k = r.randint(0, 9)
        value = (r.choice(plain) if k < 4 else rand_number(r) if k < 8 else
                 r.choice(['true', 'false', 'null']) if k < 9 else rand_string(r))
        members.append(ws(r) + r.choice(keys) + ws(r) + ':' + ws(r) + value + ws(r))
    return '{' + ','.join(members) + '}'


def mutate(r, text):
    """Insert, delete or replace a few characters."""
    chars = list(text)
    for _ in range(r.randint(1, 3)):
        op = r.randint(0, 2)
        i = r.randint(0, len(chars))
        c = r.choice(list('{}[]",:\\ue0.-+ \x00\x1f') + ['\\u', '\\ud83d', 'é'])
        if op == 0:
            chars.insert(i, c)
        elif op == 1 and chars:
            del chars[min(i, len(chars) - 1)]
        elif chars:
            chars[min(i, len(chars) - 1)] = c
    return ''.join(chars)


def check(cur, payload: bytes, stats, kind='HS256'):
    """Compare jwt_verify with jsonb input on one payload; returns a problem string or None."""
    want = None
    if b'\x00' not in payload:     # a raw NUL is never JSON, and cannot be sent as text
        cur.execute('SAVEPOINT s')
        try:
            cur.execute('SELECT %s::jsonb::text', (payload.decode('utf-8', 'replace'),))
            want = cur.fetchone()[0]
        except psycopg2.Error:
            cur.execute('ROLLBACK TO SAVEPOINT s')
    cur.execute('SAVEPOINT s')
    try:
        make, sql, key = KINDS[kind]
        if kind == 'authenticate':
            # the first result: jwt.claims after the first sight; the last: after a cache hit
            t = make(payload)
            cur.execute(sql.split('; ', 2)[0] + '; ' + sql.split('; ', 2)[1], (t, key))
            first = cur.fetchone()[0]
            cur.execute(sql.split('; ', 2)[2], (t, key))
            got = cur.fetchone()[0]
            if first != got:
                return 'jwt.claims differs from first sight to cache hit for %r: %r, %r' % (
                    payload[:200], first, got)
        else:
            cur.execute(sql, (make(payload), key))
            got = cur.fetchone()[0]
        code, message = None, None
    except psycopg2.Error as e:
        cur.execute('ROLLBACK TO SAVEPOINT s')
        got, code, message = None, e.pgcode, e.diag.message_primary
    if code is not None and code != '28000':
        return 'SQLSTATE %s for %r' % (code, payload[:200])
    try:
        is_object = want is not None and want.startswith('{')
    except AttributeError:
        is_object = False
    if got is not None:
        stats['accepted'] += 1
        if want != got:
            return 'claims differ for %r: jsonb %r, jwt_verify %r' % (payload[:200], want, got)
    elif is_object and message not in CLAIM_ERRORS and \
            payload.count(b'[') + payload.count(b'{') <= 64:
        # jsonb took an object that jwt_verify refused, and not for its claims: only the
        # refusals documented as stricter than jsonb are allowed (nesting beyond 64 levels)
        return 'refused an object jsonb accepts (%s): %r' % (message, payload[:200])
    else:
        stats['refused'] += 1
    return None


def run():
    conn = psycopg2.connect(dbname=DB)
    cur = conn.cursor()
    cur.execute('CREATE EXTENSION taskauth')
    cur.execute('SET taskauth.leeway = 0')
    cur.execute('SELECT taskauth.add_signing_key(%s)', (AUTH_SECRET.decode(),))
    r = random.Random(20261125)
    for label, count, mutated, kind in (('random objects', 3000, False, 'HS256'),
                                        ('mutated objects', 3000, True, 'HS256'),
                                        ('EdDSA, random objects', 1500, False, 'EdDSA'),
                                        ('EdDSA, mutated objects', 1500, True, 'EdDSA'),
                                        ('authenticate, jwt.claims of random objects', 2000, False,
                                         'authenticate')):
        problems = []
        stats = {'accepted': 0, 'refused': 0}
        for _ in range(count):
            text = rand_object(r)
            if kind == 'authenticate':
                if r.random() < 0.6:
                    text = flat_object(r)
                # a uuid sub, given last so that it is the one jsonb keeps
                text = text[:-1] + (',' if len(text) > 2 else '') + '"sub":"%s"}' % uuid.UUID(int=r.getrandbits(128))
            if mutated:
                text = mutate(r, text)
            p = check(cur, text.encode('utf-8', 'surrogatepass'), stats, kind)
            if p:
                problems.append(p)
        tap(not problems, '%s: %d payloads, %d accepted with claims identical to jsonb, %d refused '
            'with 28000 and never another SQLSTATE' % (label, count, stats['accepted'], stats['refused']),
            '\n'.join(problems[:5]))
    # raw bytes that are not UTF-8 must be refused with 28000 too
    problems = []
    for _ in range(500):
        raw = bytes(r.randint(0, 255) for _ in range(r.randint(1, 30)))
        payload = b'{"a":"' + raw + b'"}'
        cur.execute('SAVEPOINT s')
        try:
            cur.execute('SELECT taskauth.jwt_verify(%s, %s)', (token(payload), SECRET.decode()))
            try:
                payload.decode('utf-8')
            except UnicodeDecodeError:
                problems.append('accepted non-UTF-8 %r' % payload)
        except psycopg2.Error as e:
            cur.execute('ROLLBACK TO SAVEPOINT s')
            if e.pgcode != '28000':
                problems.append('SQLSTATE %s for %r' % (e.pgcode, payload))
    tap(not problems, 'random raw bytes in a string: non-UTF-8 refused with 28000', '\n'.join(problems[:5]))
    conn.rollback()
    conn.close()


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


if __name__ == '__main__':
    raise SystemExit(main())
