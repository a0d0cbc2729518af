#!/usr/bin/python3
"""Public-key tokens made by PyJWT with python3-cryptography verify in
taskauth.jwt_verify(token, key jsonb). Keys are generated at test time for every algorithm;
PyJWT exports the public JWKs, cryptography the PEMs. Claims must come back identical; tampered
tokens, key confusion and wrong keys must be refused. Uses the cluster from the PG* environment;
emits TAP.
"""
import hashlib
import hmac
import json
import os
import sys
import time

import jwt
import psycopg2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, RSAPSSAlgorithm

DB = 'ta_jwk_pyjwt_%d' % os.getpid()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import in_scratch_database, tap  # noqa: E402




def verify(conn, token, key, aud=None, iss=None):
    """Claims from jwt_verify, or 'SQLSTATE message' when it raised."""
    try:
        with conn.cursor() as cur:
            if aud is None and iss is None:
                cur.execute('SELECT taskauth.jwt_verify(%s::text, %s::jsonb)', (token, key))
            else:
                cur.execute('SELECT taskauth.jwt_verify(%s::text, %s::jsonb, %s, %s)',
                            (token, key, aud, iss))
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def keys():
    """(alg, private key, public JWK text, PEM) for every algorithm."""
    r = rsa.generate_private_key(65537, 2048)
    curves = {'ES256': ec.SECP256R1(), 'ES384': ec.SECP384R1(), 'ES512': ec.SECP521R1()}
    ecs = {a: ec.generate_private_key(c) for a, c in curves.items()}
    ed = ed25519.Ed25519PrivateKey.generate()
    out = []
    for alg in ('RS256', 'RS384', 'RS512'):
        out.append((alg, r, RSAAlgorithm.to_jwk(r.public_key())))
    for alg in ('PS256', 'PS384', 'PS512'):
        out.append((alg, r, RSAPSSAlgorithm.to_jwk(r.public_key())))
    for alg, k in ecs.items():
        out.append((alg, k, ECAlgorithm.to_jwk(k.public_key())))
    out.append(('EdDSA', ed, OKPAlgorithm.to_jwk(ed.public_key())))
    return [(a, k, j, k.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode())
            for a, k, j in out]


def run(conn):
    now = int(time.time())
    claim_sets = [
        {'sub': 'user-1', 'iat': now, 'exp': now + 600},
        {'sub': '4f9d2c55-7c1e-4a8e-9b1a-0d6b3c2e1f00', 'email': 'é@example.com',
         'scopes': ['read', 'write'], 'meta': {'n': [1, 2.5, None, True]}, 'nbf': now - 1},
        {'sub': 'ünï-😀', 'aud': 'api', 'iss': 'https://issuer.example', 'big': 2 ** 60},
    ]
    all_keys = keys()
    jwks = {'keys': []}
    for alg, priv, jwk_text, pem in all_keys:
        for i, claims in enumerate(claim_sets):
            token = jwt.encode(claims, priv, algorithm=alg)
            got = verify(conn, token, jwk_text)
            tap(got == claims, '%s: PyJWT token %d verifies, same claims' % (alg, i + 1), got)

        token = jwt.encode({'sub': 'k', 'exp': now + 60}, priv, algorithm=alg,
                           headers={'kid': 'py-' + alg})
        # PyJWT agrees with itself on the same token: a check of the vector, not of taskauth,
        # counted apart by the harness ("[library] ").
        tap(jwt.decode(token, priv.public_key(), algorithms=[alg])['sub'] == 'k',
            '[library] %s: PyJWT verifies its own token too' % alg)
        head, payload, sig = token.split('.')
        forged_payload = jwt.utils.base64url_encode(json.dumps({'sub': 'admin'}).encode()).decode()
        got = verify(conn, '%s.%s.%s' % (head, forged_payload, sig), jwk_text)
        tap(got == '28000 jwt signature does not match', '%s: tampered payload refused' % alg, got)

        conv = verify_pem(conn, pem)
        want = json.loads(jwk_text)
        want.pop('key_ops', None)
        want.pop('alg', None)
        # PyJWT 2.6 drops leading zero octets of EC coordinates; compare the numbers.
        tap(isinstance(conv, dict) and numbers(conv) == numbers(want),
            '%s: jwk_from_pem(cryptography PEM) equals PyJWT JWK' % alg, conv)
        if alg == 'ES512' and isinstance(conv, dict):
            tap(len(conv['x']) == len(conv['y']) == 88, 'ES512: jwk_from_pem writes full 66-octet coordinates', conv)

        expired = jwt.encode({'sub': 'x', 'exp': now - 3600}, priv, algorithm=alg)
        got = verify(conn, expired, jwk_text)
        tap(got == '28000 jwt expired', '%s: expired token refused' % alg, got)
        got = verify(conn, jwt.encode(claim_sets[2], priv, algorithm=alg), jwk_text,
                     'api', 'https://issuer.example')
        tap(isinstance(got, dict) and got.get('aud') == 'api', '%s: audience and issuer accepted' % alg, got)
        got = verify(conn, jwt.encode(claim_sets[2], priv, algorithm=alg), jwk_text,
                     None, 'https://evil.example')
        tap(got == '28000 jwt issuer does not match', '%s: wrong issuer refused' % alg, got)

        j = json.loads(jwk_text)
        j['kid'] = 'py-' + alg
        jwks['keys'].append(j)

    # A JWKS of all keys, tokens with and without kid.
    for alg, priv, _, _ in all_keys:
        for kid in ('py-' + alg, None):
            token = jwt.encode({'sub': alg}, priv, algorithm=alg, headers={'kid': kid} if kid else None)
            got = verify(conn, token, json.dumps(jwks))
            tap(isinstance(got, dict) and got.get('sub') == alg,
                'JWKS: %s %s' % (alg, 'selected by kid' if kid else 'without kid'), got)

    # Attacks: HS256 MACed with the public key's PEM; RSA token against an EC key; same kid,
    # other key; an RSA key under 2048 bits.
    rsa_alg, rsa_priv, rsa_jwk, rsa_pem = all_keys[0]
    head = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(b'{"sub":"admin"}').decode()
    mac = hmac.new(rsa_pem.encode(), ('%s.%s' % (head, body)).encode(), hashlib.sha256).digest()
    forged = '%s.%s.%s' % (head, body, jwt.utils.base64url_encode(mac).decode())
    got = verify(conn, forged, rsa_jwk)
    tap(got == '28000 jwt algorithm is not allowed for this key',
        'HS256 MACed with the public PEM is refused', got)
    ec_jwk = all_keys[6][2]
    got = verify(conn, jwt.encode({'sub': 'x'}, rsa_priv, algorithm='RS256'), ec_jwk)
    tap(got == '28000 jwt algorithm is not allowed for this key', 'RSA token against an EC key refused', got)
    other = rsa.generate_private_key(65537, 2048)
    got = verify(conn, jwt.encode({'sub': 'x'}, other, algorithm='RS256', headers={'kid': 'py-RS256'}),
                 json.dumps(jwks))
    tap(got == '28000 jwt signature does not match', 'wrong key with the same kid refused', got)
    small = rsa.generate_private_key(65537, 1024)
    got = verify(conn, jwt.encode({'sub': 'x'}, small, algorithm='RS256'),
                 RSAAlgorithm.to_jwk(small.public_key()))
    tap(got == '22023 rsa key is shorter than 2048 bits', 'RSA 1024 key refused', got)


def numbers(jwk):
    """A JWK with its base64url numbers (n, e, x, y) as integers, for comparing encodings."""
    out = dict(jwk)
    for m in ('n', 'e', 'x', 'y'):
        if m in out:
            out[m] = int.from_bytes(jwt.utils.base64url_decode(out[m]), 'big')
    return out


def verify_pem(conn, pem):
    """jwk_from_pem, or the error."""
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT taskauth.jwk_from_pem(%s)', (pem,))
            return cur.fetchone()[0]
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def main():
    return in_scratch_database(DB, run)


if __name__ == '__main__':
    raise SystemExit(main())
