#!/usr/bin/python3
"""Sessions and revocation across backends, with commits in between: a token cached by one
backend is refused by it as soon as another backend's sign-out (logout, revoke_session,
revoke_user, a deleted user) commits, for the server's own tokens and an external issuer's
(EdDSA, signed here with PyJWT); an uncommitted or rolled-back sign-out refuses nothing; a
replayed refresh token ends its session; two refreshes racing with one refresh token: exactly
one wins and the session is then ended; pre_request() answers 401 for a revoked token. Uses the
cluster from the PG* environment; emits TAP.
"""
import base64
import contextlib
import json
import os
import sys
import threading
import time
import uuid

import jwt
import psycopg2
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402

tag = 'ta_sess_%d' % os.getpid()
DB = tag
API_ROLE = tag + '_api'
API_PASSWORD = 'sess-' + os.urandom(8).hex()
PASSWORD = 'sessions-password'
ISSUER = 'https://auth.sessions.test'


def connect(api=False, dbname=DB):
    """An autocommit connection: the superuser from the PG* environment, or the API role."""
    return connect_as(dbname, *((API_ROLE, API_PASSWORD) if api else ()))


def row(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def auth(conn, token):
    """authenticate() in its own statement: the user id, or 'SQLSTATE message'."""
    try:
        return one(conn, 'SELECT taskauth.authenticate(%s)::text', (token,))
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def err(conn, sql, args=()):
    """The 'SQLSTATE message' a statement raises, or 'no error'."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
        return 'no error'
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def claims(token):
    p = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))


def sign_in(conn, email):
    return row(conn, 'SELECT access_token, refresh_token FROM taskauth.sign_in(%s, %s)', (email, PASSWORD))


def refresh(conn, rt):
    return row(conn, 'SELECT access_token, refresh_token FROM taskauth.refresh(%s)', (rt,))


def logout_with(conn, token):
    """logout() in a transaction of its own, authenticated with token."""
    with conn.cursor() as cur:
        cur.execute('BEGIN')
        cur.execute('SELECT taskauth.authenticate(%s)', (token,))
        cur.execute('SELECT taskauth.logout()')
        cur.execute('COMMIT')


REVOKED = '28000 token revoked'


def stats(conn):
    """This backend's taskauth.backend_stats() as a dict."""
    with conn.cursor() as cur:
        cur.execute('SELECT * FROM taskauth.backend_stats()')
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))


@contextlib.contextmanager
def conn_tx(conn):
    """A cursor in an explicit transaction of an autocommit connection (BEGIN issued)."""
    with conn.cursor() as c:
        c.execute('BEGIN')
        yield c


def delta(before, after, *names):
    return tuple(after[n] - before[n] for n in names)


def main():
    run_with_database(DB, {API_ROLE: API_PASSWORD}, run)


def run():
    admin = connect()
    cur = admin.cursor()
    cur.execute('CREATE EXTENSION taskauth CASCADE')
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API_ROLE,))
    # so that each backend can show which path its authenticate took
    cur.execute('GRANT EXECUTE ON FUNCTION taskauth.backend_stats() TO %s' % API_ROLE)
    cur.execute("ALTER DATABASE %s SET taskauth.bcrypt_cost = 4" % DB)
    cur.execute('SET taskauth.bcrypt_cost = 4')
    cur.execute("SELECT taskauth.add_signing_key(%s, 'sess')", ('sessions-secret-0123456789abcdefghijkl',))
    users = {}
    for name in ('alice', 'bob', 'carol', 'dave'):
        users[name] = one(admin, 'SELECT taskauth.register(%s, %s)::text', (name + '@sessions.test', PASSWORD))

    a = connect(api=True)   # the backend that signs out
    b = connect(api=True)   # a backend that has cached the tokens

    # --- logout: refused in another backend from the commit on, cached or not -----------------
    alice_at, alice_rt = sign_in(a, 'alice@sessions.test')
    bob_at, _ = sign_in(a, 'bob@sessions.test')
    s0 = stats(b)
    tap(auth(b, alice_at) == users['alice'] and auth(b, alice_at) == users['alice']
        and delta(s0, stats(b), 'token_cache_misses', 'token_cache_hits') == (1, 1),
        'backend B authenticates alice\'s access token twice (now cached: one miss, then a hit)',
        delta(s0, stats(b), 'token_cache_misses', 'token_cache_hits'))
    a.autocommit = False
    with a.cursor() as c:
        c.execute('SELECT taskauth.authenticate(%s)', (alice_at,))
        c.execute('SELECT taskauth.logout()')
        tap(auth(b, alice_at) == users['alice'], 'while A\'s logout is uncommitted, B still accepts the token')
        a.rollback()
    a.autocommit = True
    tap(auth(b, alice_at) == users['alice'], 'after A rolls its logout back, B still accepts the token')
    tap(auth(a, alice_at) == users['alice'], 'and so does A itself (a rolled-back revocation is forgotten)')
    logout_with(a, alice_at)
    s0 = stats(b)
    got = auth(b, alice_at)
    d = delta(s0, stats(b), 'token_cache_hits', 'revocation_loads', 'revocation_full_loads')
    tap(got == REVOKED and d[0] == 1 and d[1] >= 1 and d[2] == 0,
        'A commits logout(): B refuses the cached token at once: 28000 "token revoked" (a cache '
        'hit, after reading only the new revocations)', (got, d))
    tap(auth(a, alice_at) == REVOKED, 'A refuses it too')
    tap(auth(b, bob_at) == users['bob'], 'bob\'s token, cached in the same backend, is untouched')
    got = err(b, 'SELECT * FROM taskauth.refresh(%s)', (alice_rt,))
    tap(got == '28000 session has ended', 'the signed-out session\'s refresh token is refused', got)

    # a brand-new backend that never saw the token refuses it too
    with contextlib.closing(connect(api=True)) as fresh:
        tap(auth(fresh, alice_at) == REVOKED, 'a new backend refuses the revoked token on first sight')

    # --- pre_request answers 401 for it ----------------------------------------------------------
    with b.cursor() as c:
        c.execute('BEGIN')
        c.execute("SELECT set_config('request.headers', %s, true)",
                  (json.dumps({'authorization': 'Bearer ' + alice_at}),))
        try:
            c.execute('SELECT taskauth.pre_request()')
            got = 'no error'
        except psycopg2.Error as e:
            got = (e.pgcode, json.loads(e.diag.message_primary), json.loads(e.diag.message_detail))
        c.execute('ROLLBACK')
    tap(got != 'no error' and got[0] == 'PGRST' and got[1].get('message') == 'token revoked'
        and got[2].get('status') == 401,
        'pre_request() with the revoked token: PostgREST answers 401 "token revoked"', got)

    # --- revoke_session and logout_everywhere -------------------------------------------------------
    carol1, _ = sign_in(a, 'carol@sessions.test')
    carol2, carol2_rt = sign_in(a, 'carol@sessions.test')
    auth(b, carol1)
    auth(b, carol2)
    one(admin, 'SELECT taskauth.revoke_session(%s)', (claims(carol1)['sid'],))
    tap(auth(b, carol1) == REVOKED and auth(b, carol2) == users['carol'],
        'revoke_session by the owner: B refuses that session\'s token and keeps the other session\'s')
    with a.cursor() as c:
        c.execute('BEGIN')
        c.execute('SELECT taskauth.authenticate(%s)', (carol2,))
        c.execute('SELECT taskauth.logout_everywhere()')
        n = c.fetchone()[0]
        c.execute('COMMIT')
    tap(n == 1 and auth(b, carol2) == REVOKED, 'logout_everywhere ends the last one (1) and B refuses it', n)

    # --- change_password ends the other sessions ------------------------------------------------------
    d1, _ = sign_in(a, 'dave@sessions.test')
    d2, _ = sign_in(a, 'dave@sessions.test')
    auth(b, d1)
    auth(b, d2)
    with a.cursor() as c:
        c.execute('BEGIN')
        c.execute('SELECT taskauth.authenticate(%s)', (d1,))
        c.execute('SELECT taskauth.change_password(%s, %s)', (PASSWORD, PASSWORD + '-new'))
        c.execute('COMMIT')
    tap(auth(b, d2) == REVOKED and auth(b, d1) == users['dave'],
        'change_password: B refuses dave\'s other session and keeps the one that changed it')

    # --- revoke_user: every token issued before, whoever issued it -----------------------------------
    key = ed25519.Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk['kid'] = 'ext1'
    one(admin, 'SELECT taskauth.add_issuer(%s, jwks => %s::jsonb)', (ISSUER, json.dumps({'keys': [jwk]})))

    def external(sub, iat):
        return jwt.encode({'sub': sub, 'iss': ISSUER, 'iat': iat, 'exp': iat + 900}, key,
                          algorithm='EdDSA', headers={'kid': 'ext1'})

    bob_ext = external(users['bob'], int(time.time()) - 5)
    bob_own, _ = sign_in(a, 'bob@sessions.test')
    bob_login = one(a, 'SELECT taskauth.login(%s, %s)', ('bob@sessions.test', PASSWORD))
    tap(auth(b, bob_ext) == users['bob'] and auth(b, bob_own) == users['bob'] and auth(b, bob_login) == users['bob'],
        'B accepts bob\'s external EdDSA token, sign_in token and login token')
    one(admin, 'SELECT taskauth.revoke_user(%s) IS NULL', (users['bob'],))
    got = [auth(b, t) for t in (bob_ext, bob_own, bob_login, bob_at)]
    tap(got == [REVOKED] * 4, 'revoke_user: B refuses all of bob\'s tokens, the external issuer\'s included', got)
    # iat has whole seconds: tokens of the revoking second are refused too, later ones are not
    time.sleep(1.1)
    later_ext = external(users['bob'], int(time.time()))
    later_own, _ = sign_in(a, 'bob@sessions.test')
    got = (auth(b, later_ext), auth(b, later_own))
    tap(got == (users['bob'], users['bob']), 'tokens issued in a later second are accepted', got)

    # --- an external issuer's sessions, followed in its session table --------------------------------
    one(admin, 'CREATE TABLE public.session (id uuid PRIMARY KEY, "userId" uuid NOT NULL, '
               '"expiresAt" timestamptz NOT NULL, token text)')
    one(admin, "SELECT taskauth.follow_issuer_sessions('public.session') IS NULL")
    s1, s2, s3 = (str(uuid.uuid4()) for _ in range(3))
    for s_ in (s1, s2, s3):
        one(admin, "INSERT INTO public.session VALUES (%s, %s, now() + interval '7 days', 't') RETURNING 1",
            (s_, users['carol']))

    def ext_sid(sub, sid):
        now = int(time.time())
        return jwt.encode({'sub': sub, 'iss': ISSUER, 'sid': sid, 'iat': now, 'exp': now + 900}, key,
                          algorithm='EdDSA', headers={'kid': 'ext1'})
    e1, e2, e3 = (ext_sid(users['carol'], s_) for s_ in (s1, s2, s3))
    s0 = stats(b)
    cached = [auth(b, t) for t in (e1, e2, e3, e1, e2, e3)] == [users['carol']] * 6
    tap(cached and delta(s0, stats(b), 'token_cache_hits')[0] == 3,
        "B accepts three external tokens naming three of the issuer's sessions (sid), cached")
    one(admin, 'DELETE FROM public.session WHERE id = %s RETURNING 1', (s1,))
    got = [auth(b, t) for t in (e1, e2, e3)]
    tap(got == [REVOKED, users['carol'], users['carol']],
        "the issuer deletes session 1 (a sign-out): B refuses its token at once, the others stand", got)
    one(admin, "UPDATE public.session SET \"expiresAt\" = now() + interval '8 days' WHERE id = %s RETURNING 1", (s2,))
    one(admin, "UPDATE public.session SET \"expiresAt\" = now() - interval '1 second' WHERE id = %s RETURNING 1", (s3,))
    got = [auth(b, t) for t in (e2, e3)]
    tap(got == [users['carol'], REVOKED],
        "a session extended stays; one given an expiry in the past is refused", got)
    with conn_tx(admin) as c:
        c.execute('DELETE FROM public.session WHERE id = %s', (s2,))
        mid = auth(b, e2)
        c.execute('ROLLBACK')
    tap(mid == users['carol'] and auth(b, e2) == users['carol'],
        'an uncommitted or rolled-back deletion revokes nothing', mid)
    one(admin, "SELECT taskauth.unfollow_issuer_sessions('public.session') IS NULL")
    one(admin, 'DELETE FROM public.session WHERE id = %s RETURNING 1', (s2,))
    tap(auth(b, e2) == users['carol'], 'unfollowed: a deleted session revokes nothing')

    # --- deleting a user revokes at once ------------------------------------------------------------
    eve = one(admin, 'SELECT taskauth.register(%s, %s)::text', ('eve@sessions.test', PASSWORD))
    eve_at, _ = sign_in(a, 'eve@sessions.test')
    eve_ext = external(eve, int(time.time()))
    auth(b, eve_at)
    auth(b, eve_ext)
    one(admin, 'DELETE FROM taskauth.users WHERE id = %s RETURNING 1', (eve,))
    tap(auth(b, eve_at) == REVOKED and auth(b, eve_ext) == REVOKED,
        'DELETE of a user: B refuses the user\'s own and external tokens')

    # --- a replayed refresh token ends its session -----------------------------------------------------
    at0, rt0 = sign_in(a, 'alice@sessions.test')
    at1, rt1 = refresh(a, rt0)
    tap(auth(b, at0) == users['alice'] and auth(b, at1) == users['alice'], 'refresh: both access tokens work')
    got = err(a, 'SELECT * FROM taskauth.refresh(%s)', (rt0,))
    tap(got == '28000 refresh token is not valid', 'the old refresh token presented again: 28000', got)
    reason = one(admin, 'SELECT end_reason FROM taskauth.sessions WHERE id = %s', (claims(at0)['sid'],))
    tap(reason == 'refresh_token_reused', 'the replay ended the session (committed by a worker, despite the error)',
        reason)
    tap(auth(b, at0) == REVOKED and auth(b, at1) == REVOKED, 'B refuses both access tokens of the session')
    got = err(a, 'SELECT * FROM taskauth.refresh(%s)', (rt1,))
    tap(got == '28000 session has ended', 'the current refresh token of the session is refused too', got)
    workers = one(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'taskauth worker'")
    tap(workers == 0, 'no revoking worker is left running', workers)

    # --- two refreshes racing with one refresh token: exactly one wins ----------------------------------
    at, rt = sign_in(a, 'alice@sessions.test')
    sid = claims(at)['sid']
    c1 = connect(api=True)
    c2 = connect(api=True)
    c1.autocommit = False
    c2.autocommit = False
    first = refresh(c1, rt)   # holds the session's row until it commits
    second = {}

    def race():
        try:
            second['result'] = refresh(c2, rt)
            c2.commit()
        except psycopg2.Error as e:
            second['result'] = '%s %s' % (e.pgcode, e.diag.message_primary)
            c2.rollback()

    t = threading.Thread(target=race)
    t.start()
    deadline = time.time() + 60
    while time.time() < deadline and one(admin, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                                "AND datname = %s", (DB,)) == 0:
        time.sleep(0.02)
    waited = one(admin, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s", (DB,))
    c1.commit()
    t.join(120)
    tap(waited == 1 and not t.is_alive(), 'the second refresh waited for the first one\'s commit', waited)
    tap(second.get('result') == '28000 refresh token is not valid',
        'exactly one refresh wins: the other is refused', second.get('result'))
    reason = one(admin, 'SELECT end_reason FROM taskauth.sessions WHERE id = %s', (sid,))
    tap(reason == 'refresh_token_reused', 'and the session is then ended', reason)
    got = (auth(b, first[0]), err(a, 'SELECT * FROM taskauth.refresh(%s)', (first[1],)))
    tap(got == (REVOKED, '28000 session has ended'), 'the winner\'s new tokens are refused as well', got)

    # --- what makes backends read every revocation again --------------------------------------
    one(admin, "INSERT INTO taskauth.revocations (session_id, user_id, expires_at, reason) "
               "VALUES (gen_random_uuid(), %s, now() - interval '1 hour', 'logout') RETURNING 1",
        (users['alice'],))
    auth(b, bob_at)                       # B reads that row (a read of what is new)
    s0 = stats(b)
    pruned = one(admin, 'SELECT taskauth.prune()')
    got = auth(b, alice_at)
    d = delta(s0, stats(b), 'revocation_full_loads', 'revocation_loads')
    tap(pruned >= 1 and got == REVOKED and d == (0, 0),
        'prune() deleting expired revocations makes B read nothing again (no full reload), and '
        'alice\'s signed-out token stays refused', (pruned, got, d))
    one(admin, 'DELETE FROM taskauth.revocations WHERE session_id = %s RETURNING 1',
        (claims(alice_at)['sid'],))
    got = auth(b, alice_at)
    d = delta(s0, stats(b), 'revocation_full_loads')
    tap(got == users['alice'] and d == (1,),
        'a revocation still in force deleted by hand (an un-revocation): B reads them all again '
        'and accepts the token', (got, d))
    for c in (c1, c2, a, b, admin):
        c.close()


if __name__ == '__main__':
    main()
