#!/usr/bin/python3
"""Refresh tokens take storage that stays bounded: a session's refreshes add no row anywhere and
its tables do not grow (the session's refresh generation moves instead), while reuse detection
holds: a spent token presented again ends the session (two refreshes racing with one token:
sessions_multisession.py and races.py), and a forged token (a flipped bit, another key, a made-up session) ends nothing. Revocations
expire when the tokens they refuse do. Uses the cluster from the PG* environment; emits TAP.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import uuid

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402

DB = 'ta_refresh_storage_%d' % os.getpid()
REFRESHES = 200


def b64d(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def claims(token):
    return json.loads(b64d(token.split('.')[1]))


def err(conn, sql, args=()):
    """The error a statement raises, as 'SQLSTATE message', or None."""
    try:
        one(conn, sql, args)
        return None
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def refresh(conn, token):
    with conn.cursor() as cur:
        cur.execute('SELECT access_token, refresh_token FROM taskauth.refresh(%s)', (token,))
        return cur.fetchone()


def sign_in(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT access_token, refresh_token FROM taskauth.sign_in('sam@storage.test', 'storage-password')")
        return cur.fetchone()


def table_rows(admin):
    """Rows of every table of the extension's schema."""
    with admin.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'taskauth'::regnamespace "
                    "AND c.relkind = 'r' ORDER BY 1")
        names = [r[0] for r in cur.fetchall()]
        out = {}
        for n in names:
            cur.execute('SELECT count(*) FROM taskauth.%s' % n)
            out[n] = cur.fetchone()[0]
        return out


def sizes(admin):
    """pg_total_relation_size of every table of the schema, after VACUUM."""
    one(admin, 'VACUUM')
    with admin.cursor() as cur:
        cur.execute("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "WHERE c.relnamespace = 'taskauth'::regnamespace AND c.relkind = 'r' ORDER BY 1")
        return dict(cur.fetchall())


def state(admin, sid):
    with admin.cursor() as cur:
        cur.execute('SELECT refresh_generation, end_reason, '
                    '(SELECT count(*) FROM taskauth.revocations r WHERE r.session_id = s.id) '
                    'FROM taskauth.sessions s WHERE s.id = %s', (sid,))
        return cur.fetchone()


def run():
    admin = connect_as(DB)
    one(admin, 'CREATE EXTENSION taskauth')
    one(admin, "SELECT taskauth.add_signing_key('storage-secret-0123456789abcdefghijklmnop', 's1')")
    one(admin, "SELECT taskauth.register('sam@storage.test', 'storage-password')")
    one(admin, 'CREATE ROLE ta_storage_api NOLOGIN')
    one(admin, "SELECT taskauth.grant_api_access('ta_storage_api')")

    def api():
        c = connect_as(DB)
        one(c, 'SET ROLE ta_storage_api')
        return c

    a = api()

    # --- 200 refreshes: no row added, no table grown ------------------------------------------
    at, rt = sign_in(a)
    sid = claims(at)['sid']
    rows0, size0 = table_rows(admin), sizes(admin)
    tokens = [rt]
    for _ in range(REFRESHES):
        at, rt = refresh(a, rt)
        tokens.append(rt)
    rows1, size1 = table_rows(admin), sizes(admin)
    tap(state(admin, sid) == (1 + REFRESHES, None, 0),
        '%d refreshes moved the session from generation 1 to %d' % (REFRESHES, 1 + REFRESHES), state(admin, sid))
    tap(rows1 == rows0, 'and left the row count of every taskauth table unchanged', (rows0, rows1))
    tap(size1['sessions'] == size0['sessions'],
        'the sessions table is as large as before, after VACUUM (%d bytes)' % size1['sessions'],
        (size0['sessions'], size1['sessions']))
    tap(size1 == size0, 'and so is every other taskauth table', (size0, size1))
    tap(len(set(tokens)) == len(tokens) and all(len(t) == 76 for t in tokens),
        'each refresh handed out a new 76-character token')

    # --- forgeries end nothing -----------------------------------------------------------------------
    spent = tokens[REFRESHES // 2]   # a real, spent token: what a replay would present
    raw = b64d(spent)
    forged = []
    for bit in (0, 8 * 17 + 7, 8 * 24, 8 * 24 + 7, 8 * 25, 8 * 57 - 1):   # version, sid, generation, MAC
        b = bytearray(raw)
        b[bit // 8] ^= 1 << (bit % 8)
        forged.append(('bit %d of a spent token flipped' % bit, b64e(bytes(b))))
    other_key = os.urandom(32)
    body = bytes([1]) + uuid.UUID(sid).bytes + struct.pack('>q', 1)
    forged.append(('generation 1 of the session under another key',
                   b64e(body + hmac.new(other_key, body, hashlib.sha256).digest())))
    made_up = bytes([1]) + uuid.uuid4().bytes + struct.pack('>q', 1)
    forged.append(('a made-up session id with a spent token\'s MAC', b64e(made_up + raw[25:])))
    forged.append(('a made-up session id under another key',
                   b64e(made_up + hmac.new(other_key, made_up, hashlib.sha256).digest())))
    forged.append(('the sid of a spent token\'s body with generation 0 and its MAC',
                   b64e(raw[:17] + struct.pack('>q', 0) + raw[25:])))
    forged.append(('a random 43-character token (the old format)', b64e(os.urandom(32))))
    for name, token in forged:
        got = err(a, 'SELECT * FROM taskauth.refresh(%s)', (token,))
        tap(got == '28000 refresh token is not valid' and state(admin, sid) == (1 + REFRESHES, None, 0),
            '%s: 28000, and the session is neither ended, revoked nor moved on' % name, (got, state(admin, sid)))
    tap(one(admin, "SELECT count(*) FROM taskauth.revocations") == 0 and
        one(admin, "SELECT count(*) FROM taskauth.sessions WHERE ended_at IS NOT NULL") == 0,
        'no forgery ended or revoked any session')

    # --- the current token still works; a spent one ends the session -----------------------------
    exp_before = claims(at)['exp']
    at2, rt2 = refresh(a, rt)
    tap(state(admin, sid)[0] == 2 + REFRESHES, 'the current token still refreshes after the forgeries')
    got = err(a, 'SELECT * FROM taskauth.refresh(%s)', (spent,))
    tap(got == '28000 refresh token is not valid', 'a spent token of generation %d presented again: 28000'
        % (1 + REFRESHES // 2), got)
    st = state(admin, sid)
    tap(st[1] == 'refresh_token_reused' and st[2] == 1, 'and the session is ended (refresh_token_reused) and revoked', st)
    got = err(a, 'SELECT * FROM taskauth.refresh(%s)', (rt2,))
    tap(got == '28000 session has ended', 'its current token is refused from then on', got)
    # the revocation lasts as long as the newest access token, no longer than a token lifetime more
    with admin.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM r.expires_at), "
                    "extract(epoch FROM now() + current_setting('taskauth.token_lifetime')::interval "
                    "                         + current_setting('taskauth.leeway')::interval), "
                    "current_setting('taskauth.leeway')::interval "
                    "FROM taskauth.revocations r WHERE r.session_id = %s", (sid,))
        r_exp, bound, leeway = cur.fetchone()
    newest = claims(at2)['exp'] + leeway.total_seconds()
    tap(newest <= float(r_exp) <= float(bound) + 1,
        'the replay\'s revocation expires once the newest access token has (exp %d plus leeway, by %d)'
        % (claims(at2)['exp'], float(r_exp) - newest), (r_exp, newest, bound, exp_before))

    # --- a logout's revocation expires with the session's newest access token -------------------------
    at3, rt3 = sign_in(a)
    at4, rt4 = refresh(a, rt3)
    one(a, 'BEGIN')
    one(a, 'SELECT taskauth.authenticate(%s)', (at4,))
    one(a, 'SELECT taskauth.logout()')
    one(a, 'COMMIT')
    with admin.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM r.expires_at - current_setting('taskauth.leeway')::interval) "
                    "FROM taskauth.revocations r WHERE r.session_id = %s", (claims(at4)['sid'],))
        r_exp = float(cur.fetchone()[0])
    tap(claims(at4)['exp'] <= r_exp < claims(at4)['exp'] + 1,
        'a logout\'s revocation expires with the newest access token (its exp plus leeway)',
        (r_exp, claims(at4)['exp']))

    for c in (a, admin):
        c.close()


run_with_database(DB, {}, run)
