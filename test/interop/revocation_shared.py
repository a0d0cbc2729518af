#!/usr/bin/python3
"""The shared revoked sets (taskauth.shared_revocations): in a server of its own with taskauth in
shared_preload_libraries, revocations are held once per server, per database. Shows that lookups
use the shared area (backend_stats), that a backend keeps no revoked set of its own, that a new
backend's first authenticate reads only what is new, that many backends learning of one sign-out
share reads, that revocations committed out of order are all refused by backends with the tokens
cached, that a rolled-back revocation refuses nothing, that an un-revocation reaches backends
started after it, that a database without a slot (15, 16) and an area too small fall back to
per-backend sets that still refuse what they must. The server runs docs/operations.md's
configuration block, with one database slot instead of its two. TAP.
"""
# readme-blocks: docs/operations.md shared-revocations-conf
import base64
import json
import os
import sys
import threading

import subprocess

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from cluster import Cluster  # noqa: E402
from taptest import tap  # noqa: E402

DB = 'ta_revshared'
DB2 = 'ta_revshared_two'
SECRET = 'shared-revocations-secret-0123456789abcdef'
PGV = int(os.popen("%s --version" % os.environ.get('PG_CONFIG', 'pg_config')).read().split()[1].split('.')[0])


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        if cur.description is None:
            return None
        row = cur.fetchone()
        return None if row is None else row[0]


def stats(conn):
    with conn.cursor() as cur:
        cur.execute('SELECT revocations_shared, revocation_full_loads, revocation_loads, '
                    'revoked_sessions, revoked_users, revocation_bytes, revocation_shared_bytes, '
                    'revocations_unshared_reason FROM taskauth.backend_stats()')
        return dict(zip(('shared', 'full', 'loads', 'sessions', 'users', 'bytes', 'shared_bytes',
                         'reason'), cur.fetchone()))


def refused(conn, token):
    """Whether authenticate() refuses the token as revoked (anything else raises)."""
    try:
        one(conn, 'SELECT taskauth.authenticate(%s)', (token,))
        return False
    except psycopg2.Error as e:
        if 'revoked' in (e.pgerror or ''):
            return True
        raise


def setup(server, db, users=40):
    """A database with the extension, users with one token each; returns {email: token}."""
    su = server.connect()
    su.cursor().execute('CREATE DATABASE %s' % db)
    su.close()
    c = server.connect(db)
    one(c, 'CREATE EXTENSION taskauth')
    one(c, "SET taskauth.bcrypt_cost = 4")
    one(c, 'SELECT taskauth.add_signing_key(%s)', (SECRET,))
    tokens = {}
    for i in range(users):
        email = 'u%d@revshared.test' % i
        one(c, 'SELECT taskauth.register(%s, %s)', (email, 'revshared-password'))
        tokens[email] = one(c, 'SELECT access_token FROM taskauth.sign_in(%s, %s)',
                            (email, 'revshared-password'))
    c.close()
    return tokens


def bulk_revocations(conn, n):
    """n revoked sessions of nobody's current tokens (as a sign-out storm leaves them)."""
    one(conn, "INSERT INTO taskauth.revocations (session_id, user_id, revoked_at, expires_at, reason) "
              "SELECT gen_random_uuid(), gen_random_uuid(), now(), now() + interval '1 hour', 'logout' "
              "FROM generate_series(1, %s)", (n,))


def sid_of(token):
    """The sid claim of a token (the payload read without verifying: the test made it)."""
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))['sid']


def logout(server, db, token):
    c = server.connect(db, autocommit=False)
    one(c, 'SELECT taskauth.authenticate(%s)', (token,))
    one(c, 'SELECT taskauth.logout()')
    c.commit()
    c.close()


def main_server(server):
    tokens = setup(server, DB)
    emails = sorted(tokens)
    admin = server.connect(DB)
    bulk_revocations(admin, 20000)

    # a first backend loads the area; a later one reads only what is new
    a = server.connect(DB)
    ok = not refused(a, tokens[emails[0]])
    s1 = stats(a)
    tap(ok and s1['shared'] and s1['full'] == 1 and s1['sessions'] == 20000 and s1['bytes'] == 0,
        'the first backend reads 20,000 revocations into the shared area and keeps no set of its '
        'own (%s)' % s1)
    b = server.connect(DB)
    refused(b, tokens[emails[1]])
    s2 = stats(b)
    tap(s2['shared'] and s2['full'] == 0 and s2['loads'] == 1 and s2['sessions'] == 20000 and s2['bytes'] == 0,
        'a new backend reads only the rows past the horizon: one incremental read, no full one (%s)' % s2)
    tap(s2['shared_bytes'] > 0, 'backend_stats shows the shared area\'s size (%d bytes)' % s2['shared_bytes'])

    # a sign-out elsewhere: refused by backends that had the token cached
    for c in (a, b):
        tap(not refused(c, tokens[emails[2]]), 'token 2 is accepted (and cached) before its sign-out')
    logout(server, DB, tokens[emails[2]])
    tap(refused(a, tokens[emails[2]]) and refused(b, tokens[emails[2]]),
        'after the sign-out both backends refuse token 2, cached before')
    sa, sb = stats(a), stats(b)
    tap(sa['loads'] + sb['loads'] - s1['loads'] - s2['loads'] in (1, 2),
        'the sign-out cost the two backends at most one incremental read each (a: %d, b: %d reads)'
        % (sa['loads'] - s1['loads'], sb['loads'] - s2['loads']))

    # many backends learning of one sign-out share reads
    conns = [server.connect(DB) for _ in range(12)]
    for c in conns:
        refused(c, tokens[emails[3]])
    before = [stats(c) for c in conns]
    logout(server, DB, tokens[emails[4]])
    results = []

    def check(c):
        results.append(refused(c, tokens[emails[4]]))
    threads = [threading.Thread(target=check, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = [stats(c) for c in conns]
    reads = sum(x['loads'] - y['loads'] for x, y in zip(after, before))
    full = sum(x['full'] - y['full'] for x, y in zip(after, before))
    tap(results == [True] * 12,
        '12 backends checking at once after a sign-out all refuse the token')
    tap(1 <= reads <= 12 and full == 0,
        'reading only what was new: %d incremental read(s) between them (at most one each; one '
        'covers every backend that learnt of the row before it began), no full read' % reads)
    for c in conns:
        c.close()

    # revocations committed out of order, under a backend with both tokens cached
    x, y = tokens[emails[5]], tokens[emails[6]]
    watcher = server.connect(DB)
    tap(not refused(watcher, x) and not refused(watcher, y), 'tokens 5 and 6 accepted and cached')
    t1 = server.connect(DB, autocommit=False)
    t2 = server.connect(DB, autocommit=False)
    one(t1, 'SELECT taskauth.authenticate(%s)', (x,))
    one(t1, 'SELECT taskauth.logout()')          # begins first: the smaller xact
    one(t2, 'SELECT taskauth.authenticate(%s)', (y,))
    one(t2, 'SELECT taskauth.logout()')
    t2.commit()                                   # the later transaction commits first
    tap(refused(watcher, y) and not refused(watcher, x),
        'the later revocation, committed first, is refused; the earlier, still open, is not yet')
    t1.commit()
    fresh = server.connect(DB)
    tap(refused(watcher, x) and refused(watcher, y) and refused(fresh, x) and refused(fresh, y),
        'once both have committed, the cached backend and a new one refuse both tokens')
    t1.close()
    t2.close()

    # a rolled-back revocation refuses nothing
    z = tokens[emails[7]]
    rb = server.connect(DB, autocommit=False)
    one(rb, 'SELECT taskauth.authenticate(%s)', (z,))
    one(rb, 'SELECT taskauth.logout()')
    rb.rollback()
    tap(not refused(rb, z) and not refused(watcher, z) and not refused(server.connect(DB), z),
        'rolled back: the token is accepted again everywhere, the same backend included')

    # an un-revocation reaches a backend that starts after it (it got no invalidation)
    u = tokens[emails[2]]
    one(admin, "DELETE FROM taskauth.revocations WHERE session_id = %s", (sid_of(u),))
    late = server.connect(DB)
    accepted = not refused(late, u)
    sl = stats(late)
    tap(accepted and sl['full'] == 1,
        'a revocation deleted before it expired: a backend started afterwards accepts the token '
        'after a full read (%s)' % sl)
    tap(not refused(a, u), 'and so does a backend that had refused it')
    for c in (a, b, watcher, fresh, rb, late, admin):
        c.close()


def second_database(server):
    """PostgreSQL 15 and 16: one slot (taskauth.shared_revocation_databases = 1), taken by DB."""
    tokens = setup(server, DB2, users=3)
    e = sorted(tokens)
    c = server.connect(DB2)
    ok = not refused(c, tokens[e[0]])
    s = stats(c)
    if PGV >= 17:
        tap(ok and s['shared'], 'PostgreSQL %d: a second database gets an area of its own (%s)' % (PGV, s))
    else:
        tap(ok and not s['shared'] and 'slot' in (s['reason'] or ''),
            'a second database finds no free slot and keeps per-backend sets (%s)' % s['reason'])
    logout(server, DB2, tokens[e[1]])
    tap(refused(c, tokens[e[1]]) and refused(server.connect(DB2), tokens[e[1]]),
        'and refuses a signed-out token there, in a backend that had read before and in a new one')
    c.close()


def overflow(server):
    """An area too small: the load that does not fit turns every backend to its own sets."""
    db = 'ta_revshared_small'
    tokens = setup(server, db, users=3)
    e = sorted(tokens)
    admin = server.connect(db)
    c = server.connect(db)
    one(c, 'SELECT taskauth.authenticate(%s)', (tokens[e[0]],))
    s0 = stats(c)
    bulk_revocations(admin, 6000)
    logout(server, db, tokens[e[1]])
    r = refused(c, tokens[e[1]])
    s1 = stats(c)
    warned = 'revocations do not fit in shared memory' in server.log_tail(400)
    tap(s0['shared'] and r and not s1['shared'] and s1['sessions'] == 6001 and s1['bytes'] > 0 and warned,
        'past the area\'s size: a warning, then this backend\'s own sets, which refuse the '
        'signed-out token (%s)' % {k: s1[k] for k in ('shared', 'sessions', 'reason')})
    d = server.connect(db)
    r2 = refused(d, tokens[e[1]])
    tap(r2 and not stats(d)['shared'] and not refused(d, tokens[e[2]]),
        'a new backend uses its own sets too, refusing the signed-out token and accepting another')
    for x in (admin, c, d):
        x.close()


def main():
    print('1..20')
    server = Cluster('revshared')
    try:
        lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib', 'doc_blocks.py')
        conf = subprocess.check_output(['/usr/bin/python3', lib, 'conf', 'docs/operations.md',
                                        'shared-revocations-conf'], text=True).split()
        tap(len(conf) == 3, 'docs/operations.md\'s block gives three settings: %s' % ' '.join(conf))
        settings = ["%s = '%s'" % tuple(line.split('=', 1)) for line in conf]
        server.init(settings + ['taskauth.shared_revocation_databases = 1', 'max_connections = 60'])
        server.start()
        main_server(server)
        second_database(server)
        server.stop(remove=False)
        # a small area: 4,096 sessions (the smallest size holds 1,024 users)
        with open(os.path.join(server.data, 'postgresql.conf'), 'a') as f:
            f.write('taskauth.shared_revocations = 4096\ntaskauth.shared_revocation_databases = 4\n')
        server.start()
        overflow(server)
    except Exception as e:  # noqa: BLE001
        print('Bail out! %s: %s' % (type(e).__name__, str(e).splitlines()[0] if str(e) else ''))
        print('# ' + server.log_tail().replace('\n', '\n# '))
        server.stop()
        sys.exit(1)
    server.stop()


if __name__ == '__main__':
    main()
