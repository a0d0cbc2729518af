#!/usr/bin/python3
"""Signing keys and identities across backends: what one session does to the key table is seen
by every other session's cached keys at commit (added keys accepted at once, retired or deleted
keys refused at once, uncommitted changes invisible), and one session's identity never shows in
another's. Uses the cluster from the PG* environment; emits TAP.
"""
import base64
import contextlib
import json
import os
import sys

import psycopg2

tag = 'ta_multi_%d' % os.getpid()
DB = tag
API_ROLE = tag + '_api'
API_PASSWORD = 'multi-' + os.urandom(8).hex()
PASSWORD = 'multi-session-password'
SECRETS = {k: (k + '-secret-').ljust(40, 'x') for k in ('k1', 'k2', 'k3')}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, results, tap  # noqa: E402




def connect(dbname, api=False):
    """An autocommit connection: the superuser from the PG* environment, or the API role."""
    return connect_as(dbname, *((API_ROLE, API_PASSWORD) if api else ()))


def auth(conn, token):
    """authenticate() in its own statement: the user id, or the SQLSTATE it raised."""
    try:
        return one(conn, 'SELECT taskauth.authenticate(%s)', (token,))
    except psycopg2.Error as e:
        return 'SQLSTATE ' + str(e.pgcode)


def kid_of(token):
    """The kid in a compact JWS header (None when absent)."""
    h = token.split('.')[0]
    return json.loads(base64.urlsafe_b64decode(h + '=' * (-len(h) % 4))).get('kid')


def main():
    print('1..15', flush=True)
    with contextlib.closing(connect(os.environ.get('PGDATABASE', 'postgres'))) as c:
        with c.cursor() as cur:
            cur.execute('CREATE DATABASE %s' % DB)
            cur.execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API_ROLE, (API_PASSWORD,))
    try:
        run()
    finally:
        with contextlib.closing(connect(os.environ.get('PGDATABASE', 'postgres'))) as c:
            with c.cursor() as cur:
                cur.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
                cur.execute('DROP ROLE IF EXISTS %s' % API_ROLE)
    sys.exit(0 if all(results) else 1)


def run():
    admin = connect(DB)
    cur = admin.cursor()
    cur.execute('CREATE EXTENSION taskauth CASCADE')
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API_ROLE,))
    cur.execute('SET taskauth.bcrypt_cost = 4')
    cur.execute("SELECT taskauth.add_signing_key(%s, 'k1')", (SECRETS['k1'],))
    alice = one(admin, "SELECT taskauth.register('alice@example.com', %s)", (PASSWORD,))
    bob = one(admin, "SELECT taskauth.register('bob@example.com', %s)", (PASSWORD,))
    cur.execute("INSERT INTO taskauth.tasks (user_id, title) VALUES (%s, 'alice 1'), "
                "(%s, 'alice 2'), (%s, 'bob 1')", (alice, alice, bob))

    def login(email):
        return one(admin, 'SELECT taskauth.login(%s, %s)', (email, PASSWORD))

    def external(secret, sub):
        """A kid-less HS256 token from an issuer sharing the secret."""
        return one(admin, "SELECT taskauth.jwt_sign(jsonb_build_object('sub', %s::text, "
                          "'iat', extract(epoch FROM now())::bigint, "
                          "'exp', extract(epoch FROM now())::bigint + 600), %s)", (sub, secret))

    t1 = login('alice@example.com')
    b = connect(DB, api=True)   # a long-lived API backend whose key cache must follow changes
    tap(auth(b, t1) == alice and kid_of(t1) == 'k1',
        'session B authenticates a k1 token (its key cache is now warm)', auth(b, t1))

    cur.execute("SELECT taskauth.add_signing_key(%s, 'k2')", (SECRETS['k2'],))
    t2 = login('alice@example.com')
    tap(kid_of(t2) == 'k2' and auth(b, t2) == alice,
        'a key added in session A is accepted at once by session B (login now signs with k2)',
        'kid %s, authenticate: %s' % (kid_of(t2), auth(b, t2)))
    tap(auth(b, t1) == alice, 'adding a key logs nobody out: the k1 token still works in B')

    # An uncommitted retirement must not be visible; a rolled-back one must leave no trace.
    admin.autocommit = False
    cur.execute("SELECT taskauth.retire_signing_key('k2')")
    tap(auth(b, t2) == alice, 'a retirement not yet committed in A does not affect B')
    admin.rollback()
    admin.autocommit = True
    tap(auth(b, t2) == alice, 'after A rolls the retirement back, B still accepts the k2 token')

    cur.execute("SELECT taskauth.retire_signing_key('k1')")
    tap(auth(b, t1) == 'SQLSTATE 28000',
        'after A retires k1, session B refuses the k1 token at once (28000)', auth(b, t1))
    c = connect(DB, api=True)
    tap(auth(c, t1) == 'SQLSTATE 28000' and auth(c, t2) == alice,
        'a new session C refuses the k1 token and accepts the k2 one')
    tap(auth(b, external(SECRETS['k1'], alice)) == 'SQLSTATE 28000'
        and auth(b, external(SECRETS['k2'], alice)) == alice,
        'kid-less external tokens: the retired secret is refused, the active one accepted')

    # Keys changed behind the functions' back (plain DML by the owner) are followed too.
    cur.execute("DELETE FROM taskauth.signing_keys WHERE kid = 'k2'")
    tap(auth(b, t2) == 'SQLSTATE 28000',
        'a key deleted from the table by plain DML is refused at once by B', auth(b, t2))
    cur.execute("SELECT taskauth.add_signing_key(%s, 'k3')", (SECRETS['k3'],))
    t3 = login('alice@example.com')
    tap(auth(b, t3) == alice and kid_of(t3) == 'k3', 'B accepts a token of the next key, k3')

    # Identities are per transaction and per backend: concurrent sessions never share one.
    b.autocommit = False
    c.autocommit = False
    bc, cc = b.cursor(), c.cursor()
    bc.execute('SELECT taskauth.authenticate(%s)', (t3,))
    cc.execute('SELECT taskauth.current_user_id(), count(*) FROM taskauth.tasks')
    c_anon = cc.fetchone()
    tap(c_anon == (None, 0),
        'while B is inside an alice transaction, session C is anonymous and sees no tasks',
        c_anon)
    t_bob = login('bob@example.com')
    cc.execute('SELECT taskauth.authenticate(%s)', (t_bob,))
    cc.execute('SELECT array_agg(title ORDER BY title) FROM taskauth.tasks')
    bc.execute('SELECT array_agg(title ORDER BY title) FROM taskauth.tasks')
    c_rows, b_rows = cc.fetchone()[0], bc.fetchone()[0]
    tap(b_rows == ['alice 1', 'alice 2'] and c_rows == ['bob 1'],
        'concurrent transactions as alice (B) and bob (C) each see only their own tasks',
        'B %r, C %r' % (b_rows, c_rows))
    b.commit()
    c.rollback()
    bc.execute('SELECT taskauth.current_user_id()')
    cc.execute('SELECT taskauth.current_user_id()')
    tap(bc.fetchone()[0] is None and cc.fetchone()[0] is None,
        'after COMMIT in B and ROLLBACK in C both sessions are anonymous again')
    b.rollback()
    c.rollback()
    for conn in (b, c, admin):
        conn.close()

    # A fresh backend has not loaded the library yet (unless session_preload_libraries says
    # so): the first taskauth call of a connection must behave like any other.
    def first_call(sql, args):
        with contextlib.closing(connect(DB, api=True)) as conn:
            try:
                return one(conn, sql, args)
            except psycopg2.Error as e:
                return 'SQLSTATE %s: %s' % (e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else '')

    got = first_call('SELECT taskauth.register(%s, %s)', ('carol@example.com', PASSWORD))
    tap(len(str(got)) == 36 and not str(got).startswith('SQLSTATE'),
        'register as the first call of a new session creates the account', got)
    unknown = first_call('SELECT taskauth.login(%s, %s)', ('nobody@example.com', PASSWORD))
    wrong = first_call('SELECT taskauth.login(%s, %s)', ('alice@example.com', 'wrong-password'))
    tap(str(unknown).startswith('SQLSTATE 28P01') and str(wrong).startswith('SQLSTATE 28P01'),
        'login as the first call of a new session: unknown email and wrong password both 28P01',
        'unknown email: %s\nwrong password: %s' % (unknown, wrong))


if __name__ == '__main__':
    main()
