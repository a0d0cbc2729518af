#!/usr/bin/python3
"""A streaming hot standby (pg_basebackup of a throwaway primary, both on loopback, started and
stopped here): it serves authenticate() and row-level-security reads, refuses writes with 25006,
and follows what the primary changes once it has replayed it: a server signing key retired on the
primary is refused in a standby session that had the token cached, and so is an external issuer's
key deleted from its key table. The delays from the primary's commit to replay and to the refusal
are printed as TAP comments, never asserted. Emits TAP.

To add a check: change something with primary(...), then standby_until(...) for its effect
(see the signing-key section below).
"""
import base64
import json
import os
import signal
import sys
import time
import uuid

import jwt
import psycopg2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from cluster import Cluster, wait_for  # noqa: E402
from taptest import results, tap  # noqa: E402

DB = 'ta_standby'
API = 'ta_standby_api'
API_PASSWORD = 'standby-' + os.urandom(8).hex()
PASSWORD = 'standby-password-1'
ISSUER = 'https://issuer.standby.test'

prim = Cluster('primary')
stby = Cluster('standby')
conns = []   # every connection opened, closed before the servers stop


def connect(cluster, api=False):
    """An autocommit connection to the test database: the API role, or the superuser."""
    c = cluster.connect(DB, user=API if api else None, password=API_PASSWORD if api else None)
    conns.append(c)
    return c


_primary = None


def primary(sql, args=()):
    """Run SQL as the superuser on the primary (committed on return); the first column of the
    first row, if any."""
    global _primary
    if _primary is None:
        _primary = connect(prim)
    with _primary.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0] if cur.description else None


def primary_lsn():
    """The primary's WAL insert position: everything committed so far lies before it."""
    return primary('SELECT pg_current_wal_insert_lsn()::text')


_monitor = None


def replayed(lsn):
    """Whether the standby has replayed the WAL up to lsn."""
    global _monitor
    if _monitor is None:
        _monitor = connect(stby)
    with _monitor.cursor() as cur:
        cur.execute('SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn', (lsn,))
        return cur.fetchone()[0]


def standby_until(cond, what, timeout=180.0):
    """Poll cond() against the standby until it is true; returns seconds waited."""
    return wait_for(cond, timeout=timeout, what=what)[1]


def wait_replay(what='replay'):
    """Wait until the standby has replayed everything the primary committed so far."""
    lsn = primary_lsn()
    return standby_until(lambda: replayed(lsn), what)


def outcome(conn, sql, args=()):
    """First column of the first row, or 'SQLSTATE xxxxx' for an error (rolled back)."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()[0] if cur.description else None
    except psycopg2.Error as e:
        if not conn.autocommit:
            conn.rollback()
        return 'SQLSTATE %s' % e.pgcode


def auth(conn, token):
    """authenticate() in a statement of its own: the user id as text, or the SQLSTATE."""
    return outcome(conn, 'SELECT taskauth.authenticate(%s)::text', (token,))


def hits(session):
    """(cache hits, cache misses) of a session's backend (taskauth.backend_stats)."""
    with session.cursor() as cur:
        cur.execute('SELECT token_cache_hits, token_cache_misses FROM taskauth.backend_stats()')
        return cur.fetchone()


def twice(session, token, expect):
    """Authenticate token twice in session: both give expect, the first a cache miss and the
    second a hit."""
    h0, m0 = hits(session)
    ids = (auth(session, token), auth(session, token))
    h1, m1 = hits(session)
    return ids == (expect, expect) and (h1 - h0, m1 - m0) == (1, 1)


def follow_refusal(session, token, change, label):
    """Run change() on the primary, then alternately ask the standby how far it has replayed
    and authenticate token in session (which has it cached). Passes when every authenticate made
    after the commit was seen replayed is refused with 28000; prints how long after the commit
    replay and refusal came."""
    change()
    t0 = time.monotonic()
    lsn = primary_lsn()
    t_replay = t_refused = None
    after_replay = []
    while time.monotonic() - t0 < 180:
        seen = replayed(lsn)
        if seen and t_replay is None:
            t_replay = time.monotonic() - t0
        got = auth(session, token)
        if got == 'SQLSTATE 28000' and t_refused is None:
            t_refused = time.monotonic() - t0
        if seen:
            after_replay.append(got)
            if len(after_replay) >= 3:
                break
    ok = t_replay is not None and after_replay == ['SQLSTATE 28000'] * 3
    tap(ok, '%s: refused on the standby after replay, in a session that had it cached' % label,
        'replayed: %s; authenticate after replay: %r' % (t_replay is not None, after_replay))
    if t_replay is not None and t_refused is not None:
        print('# %s: commit to replay seen %.1f ms, commit to first refusal %.1f ms (a poll is '
              'two round trips, so either may come first)' % (label, t_replay * 1e3, t_refused * 1e3),
              flush=True)


def ed25519_key(kid):
    """A fresh Ed25519 key: (private key, its public JWK as JSON text, the kid)."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = jwt.utils.base64url_encode(raw).decode()
    return key, '{"kty":"OKP","crv":"Ed25519","x":"%s","kid":"%s"}' % (x, kid), kid


def issuer_token(key, kid, sub):
    """An EdDSA token from the external issuer, as Better Auth's jwt plugin makes them."""
    now = int(time.time())
    return jwt.encode({'sub': sub, 'iss': ISSUER, 'aud': ISSUER, 'iat': now, 'exp': now + 600,
                       'email': 'ext@example.com'}, key, algorithm='EdDSA', headers={'kid': kid})


def run():
    # --- the primary: accounts, tasks, two signing keys, an external issuer with a key table
    prim.init(['wal_level = replica', 'max_wal_senders = 4'])
    prim.start()
    admin = prim.connect('postgres')
    with admin.cursor() as cur:
        cur.execute('CREATE DATABASE %s' % DB)
        cur.execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API, (API_PASSWORD,))
    admin.close()
    primary('CREATE EXTENSION taskauth')
    primary('SELECT taskauth.grant_api_access(%s::regrole)', (API,))
    # so that a standby session can show which path its authenticate took
    primary('GRANT EXECUTE ON FUNCTION taskauth.backend_stats() TO %s' % API)
    # fast hashes; keys read from the key table on every call, so a change shows at replay
    primary('ALTER DATABASE %s SET taskauth.bcrypt_cost = 4' % DB)
    primary('ALTER DATABASE %s SET taskauth.issuer_keys_refresh = 0' % DB)
    primary("SELECT taskauth.add_signing_key(%s, 'k1')", ('standby-k1-'.ljust(40, 'x'),))
    primary("SELECT taskauth.add_signing_key(%s, 'k2')", ('standby-k2-'.ljust(40, 'y'),))
    primary('SET taskauth.bcrypt_cost = 4')
    alice = primary("SELECT taskauth.register('alice@example.com', %s)::text", (PASSWORD,))
    bob = primary("SELECT taskauth.register('bob@example.com', %s)::text", (PASSWORD,))
    # a hash login would upgrade ($2a$ is not today's prefix): its login must write
    primary("SELECT taskauth.register('carol@example.com', %s)", (PASSWORD,))
    primary("UPDATE taskauth.users SET hashed_password = '$2a$' || substr(hashed_password, 5) "
            "WHERE email = 'carol@example.com'")
    primary("INSERT INTO taskauth.tasks (user_id, title) VALUES (%s, 'alice 1'), "
            "(%s, 'alice 2'), (%s, 'bob 1')", (alice, alice, bob))
    primary('CREATE TABLE public.jwks (id text PRIMARY KEY, "publicKey" text NOT NULL, '
            '"privateKey" text NOT NULL, "createdAt" timestamptz NOT NULL DEFAULT now(), '
            '"expiresAt" timestamptz, alg text, crv text)')
    primary("SELECT taskauth.add_issuer(%s, audience => %s, key_table => 'public.jwks')",
            (ISSUER, ISSUER))
    ek1, ejwk1, ekid1 = ed25519_key('ed-1')
    primary("INSERT INTO public.jwks (id, \"publicKey\", \"privateKey\", alg, crv) "
            "VALUES (%s, %s, 'not stored here', 'EdDSA', 'Ed25519')", (ekid1, ejwk1))
    token_k2 = primary("SELECT taskauth.login('alice@example.com', %s)", (PASSWORD,))
    token_bob = primary("SELECT taskauth.login('bob@example.com', %s)", (PASSWORD,))

    # --- the standby
    stby.init_standby_of(prim)
    stby.start()
    wait_replay('the standby to catch up')
    tap(outcome(connect(stby), 'SELECT pg_is_in_recovery()') is True,
        'a pg_basebackup standby streams from the primary and is in recovery')

    api = connect(stby, api=True)
    tap(auth(api, token_k2) == alice,
        'the standby authenticates a token the primary issued', auth(api, token_k2))

    # row-level security reads
    api.autocommit = False
    outcome(api, 'SELECT taskauth.authenticate(%s)', (token_k2,))
    rows = outcome(api, 'SELECT array_agg(title ORDER BY title) FROM taskauth.tasks')
    api.rollback()
    outcome(api, 'SELECT taskauth.authenticate(%s)', (token_bob,))
    rows_bob = outcome(api, 'SELECT array_agg(title ORDER BY title) FROM taskauth.tasks')
    api.rollback()
    anon = outcome(api, 'SELECT count(*) FROM taskauth.tasks')
    api.rollback()
    tap(rows == ['alice 1', 'alice 2'] and rows_bob == ['bob 1'] and anon == 0,
        'row-level security on the standby: alice and bob see only their own tasks, '
        'anonymous none', (rows, rows_bob, anon))

    # the lazy identity on the standby: only request.headers, as PostgREST sets it
    outcome(api, "SELECT set_config('request.headers', %s, true)",
            (json.dumps({'authorization': 'Bearer ' + token_bob}),))
    lazy_rows = outcome(api, 'SELECT array_agg(title ORDER BY title) FROM taskauth.tasks')
    api.rollback()
    outcome(api, "SELECT set_config('request.headers', %s, true)",
            (json.dumps({'authorization': 'Bearer not.a.token'}),))
    lazy_bad = outcome(api, 'SELECT count(*) FROM taskauth.tasks')
    api.rollback()
    tap(lazy_rows == ['bob 1'] and lazy_bad == 'SQLSTATE PGRST',
        'the lazy identity on the standby: the token of request.headers gives bob his task, '
        'a bad one the 401 error', (lazy_rows, lazy_bad))

    # writes
    outcome(api, 'SELECT taskauth.authenticate(%s)', (token_k2,))
    ins = outcome(api, "INSERT INTO taskauth.tasks (title) VALUES ('on the standby')")
    outcome(api, 'SELECT taskauth.authenticate(%s)', (token_k2,))
    upd = outcome(api, 'UPDATE taskauth.tasks SET is_completed = true')
    api.autocommit = True
    reg = outcome(api, "SELECT taskauth.register('dave@example.com', %s)", (PASSWORD,))
    key = outcome(connect(stby), 'SELECT taskauth.add_signing_key(%s)', ('standby-k9-'.ljust(40, 'z'),))
    tap((ins, upd, reg, key) == ('SQLSTATE 25006',) * 4,
        'the standby refuses writes with 25006: insert and update of tasks, register, '
        'add_signing_key', (ins, upd, reg, key))

    # login and sign_in start a session (a row), so they write: the primary's job
    tok = outcome(api, "SELECT taskauth.login('alice@example.com', %s)", (PASSWORD,))
    wrong = outcome(api, "SELECT taskauth.login('alice@example.com', 'wrong-password')")
    tap(tok == 'SQLSTATE 25006' and wrong == 'SQLSTATE 25006',
        'login on the standby fails with 25006 before any password is checked, right or wrong: '
        'a standby can neither start a session nor count the attempt', (tok, wrong))

    # --- a server signing key retired on the primary
    cached = connect(stby, api=True)
    tap(twice(cached, token_k2, alice),
        'a standby session authenticates the k2 token twice (a cache miss, then a hit)')
    follow_refusal(cached, token_k2, lambda: primary("SELECT taskauth.retire_signing_key('k2')"),
                   'signing key k2 retired on the primary')
    fresh = connect(stby, api=True)
    token_k1 = primary("SELECT taskauth.issue_token(%s, 'alice@example.com')", (alice,))
    wait_replay()
    tap(auth(fresh, token_k2) == 'SQLSTATE 28000' and auth(fresh, token_k1) == alice,
        'a new standby session refuses the k2 token and accepts one signed with k1')

    # --- an external issuer's key table changed on the primary
    ext_user = str(uuid.uuid4())
    t_ed1 = issuer_token(ek1, ekid1, ext_user)
    iss = connect(stby, api=True)
    tap(twice(iss, t_ed1, ext_user),
        "the standby authenticates the issuer's EdDSA token (key from its key table), twice: a "
        "cache miss, then a hit")
    ek2, ejwk2, ekid2 = ed25519_key('ed-2')
    t_ed2 = issuer_token(ek2, ekid2, ext_user)
    before = auth(iss, t_ed2)
    primary("INSERT INTO public.jwks (id, \"publicKey\", \"privateKey\", alg, crv) "
            "VALUES (%s, %s, 'not stored here', 'EdDSA', 'Ed25519')", (ekid2, ejwk2))
    waited = wait_replay()
    tap(before == 'SQLSTATE 28000' and auth(iss, t_ed2) == ext_user,
        "a key row added on the primary: refused before, accepted on the standby after replay",
        (before, auth(iss, t_ed2)))
    print('# issuer key added: commit to replay %.1f ms' % (waited * 1e3), flush=True)
    follow_refusal(iss, t_ed1, lambda: primary('DELETE FROM public.jwks WHERE id = %s', (ekid1,)),
                   "issuer key ed-1 deleted from the key table on the primary")
    tap(auth(iss, t_ed2) == ext_user, "the issuer's other key still works on the standby")

    # --- revocations made on the primary: a session ended, a user revoked
    sess = connect(stby, api=True)
    token_bob = primary("SELECT taskauth.login('bob@example.com', %s)", (PASSWORD,))   # signed with k1
    wait_replay()
    tap(twice(sess, token_bob, bob),
        "a standby session authenticates bob's login token twice (a cache miss, then a hit)",
        auth(sess, token_bob))
    sid = json.loads(base64.urlsafe_b64decode(token_bob.split('.')[1] + '=='))['sid']
    follow_refusal(sess, token_bob, lambda: primary('SELECT taskauth.revoke_session(%s)', (sid,)),
                   "bob's session revoked on the primary")
    time.sleep(1.1)             # revoke_user refuses tokens of its own second too
    t_ed3 = issuer_token(ek2, ekid2, ext_user)
    tap(auth(iss, t_ed3) == ext_user, 'an external token cached on the standby')
    follow_refusal(iss, t_ed3, lambda: primary('SELECT taskauth.revoke_user(%s)', (ext_user,)),
                   "the external user revoked (revoke_user) on the primary")

    # --- revocations committing on the primary out of the order they were made (no lock orders
    # them): a standby session that read the later one first still refuses the earlier one from
    # its replayed commit on
    def sid_of(token):
        return json.loads(base64.urlsafe_b64decode(token.split('.')[1] + '=='))['sid']
    t_a = primary("SELECT taskauth.login('alice@example.com', %s)", (PASSWORD,))
    t_b = primary("SELECT taskauth.login('bob@example.com', %s)", (PASSWORD,))
    wait_replay()
    rd = connect(stby, api=True)
    cached = [auth(rd, t_a), auth(rd, t_b), auth(rd, t_a), auth(rd, t_b)] == [alice, bob, alice, bob]
    first = connect(prim)
    fc = first.cursor()
    fc.execute('BEGIN')
    fc.execute('SELECT taskauth.revoke_session(%s)', (sid_of(t_a),))     # made first, left open
    primary('SELECT taskauth.revoke_session(%s)', (sid_of(t_b),))        # made second, committed
    wait_replay()
    got_b, got_a_open = auth(rd, t_b), auth(rd, t_a)
    fc.execute('COMMIT')
    wait_replay()
    got_a = auth(rd, t_a)
    tap(cached and got_b == 'SQLSTATE 28000' and got_a_open == alice and got_a == 'SQLSTATE 28000',
        'revocations committed out of order on the primary: a standby session with both tokens '
        'cached refuses the later one at its replay, and the earlier one from its own',
        (cached, got_b, got_a_open, got_a))


def main():
    # a runner that stops the test still stops the servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(1))
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', '%r\nprimary log:\n%s\nstandby log:\n%s'
            % (e, prim.log_tail(), stby.log_tail()))
    finally:
        for c in conns:
            try:
                c.close()
            except Exception:
                pass
        stby.stop()
        prim.stop()
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
