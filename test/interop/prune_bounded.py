#!/usr/bin/python3
"""prune() is bounded and incremental: each call deletes at most max_rows rows of each kind, the
oldest expired revocations first, never waits for a row another transaction holds (it skips it,
and a later call takes it), refuses a max_rows below 1, and makes no backend read the
revocations again. Uses the cluster from the PG* environment; emits TAP.
"""
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402

DB = 'ta_prune_%d' % os.getpid()


def run():
    admin = connect_as(DB)
    one(admin, 'CREATE EXTENSION taskauth')
    one(admin, "SELECT taskauth.add_signing_key('prune-secret-0123456789abcdefghijklmnop', 'p1')")
    uid = one(admin, "SELECT taskauth.register('pruned@prune.test', 'prune-password')")
    one(admin, "SELECT taskauth.register('kept@prune.test', 'prune-password')")
    token = one(admin, "SELECT taskauth.login('kept@prune.test', 'prune-password')")
    # 25 revocations of a user, expired 1..25 hours ago, and 5 not expired yet
    one(admin, "INSERT INTO taskauth.revocations (user_id, revoked_at, expires_at, reason) "
               "SELECT %s, now() - interval '40 days', now() - make_interval(hours => g), 'user_revoked' "
               "FROM generate_series(1, 25) g", (uid,))
    one(admin, "INSERT INTO taskauth.revocations (user_id, revoked_at, expires_at, reason) "
               "SELECT %s, now(), now() + interval '1 hour', 'user_revoked' FROM generate_series(1, 5)", (uid,))

    # a backend that has read the revocations, to show prune() makes it read nothing again
    other = connect_as(DB)
    one(other, 'SELECT taskauth.authenticate(%s)', (token,))
    with other.cursor() as cur:
        cur.execute('SELECT revocation_full_loads FROM taskauth.backend_stats()')
        loads0 = cur.fetchone()[0]

    n = one(admin, 'SELECT taskauth.prune(10)')
    left = one(admin, 'SELECT count(*) FROM taskauth.revocations WHERE expires_at < now()')
    oldest_gone = one(admin, "SELECT min(now() - expires_at) < interval '16 hours' "
                             "FROM taskauth.revocations WHERE expires_at < now()")
    tap(n == 10 and left == 15 and oldest_gone,
        'prune(10) deletes 10 expired revocations, the oldest first (%s deleted, %s left)' % (n, left))

    # another transaction holds the oldest expired row: prune neither waits nor takes it
    holder = psycopg2.connect(dbname=DB)
    with holder.cursor() as cur:
        cur.execute('SELECT seq FROM taskauth.revocations WHERE expires_at < now() '
                    'ORDER BY expires_at LIMIT 1 FOR UPDATE')
        held = cur.fetchone()[0]
    one(admin, "SET statement_timeout = '5s'")
    t0 = time.monotonic()
    try:
        n = one(admin, 'SELECT taskauth.prune()')
        err = None
    except psycopg2.Error as e:
        n, err = None, e.pgcode
    took = time.monotonic() - t0
    still = one(admin, 'SELECT count(*) FROM taskauth.revocations WHERE seq = %s', (held,))
    tap(err is None and n == 14 and still == 1 and took < 2,
        'a row another transaction holds is skipped, not waited for (%s deleted in %.2f s)' % (n, took), err)
    holder.rollback()
    holder.close()
    n = one(admin, 'SELECT taskauth.prune()')
    tap(n == 1 and one(admin, 'SELECT count(*) FROM taskauth.revocations') == 5,
        'the next call takes it; the 5 unexpired revocations stay', n)

    with other.cursor() as cur:
        cur.execute('SELECT taskauth.authenticate(%s)', (token,))
        cur.execute('SELECT revocation_full_loads FROM taskauth.backend_stats()')
        loads1 = cur.fetchone()[0]
    tap(loads0 == 1 and loads1 == 1,
        'a backend that read the revocations before reads them all no more after the prunes', (loads0, loads1))
    other.close()

    for bad in ('0', '-1', 'NULL'):
        try:
            one(admin, 'SELECT taskauth.prune(%s)' % bad)
            code = None
        except psycopg2.Error as e:
            code = e.pgcode
        tap(code == '22023', 'prune(%s) is refused with 22023' % bad, code)
    admin.close()


if __name__ == '__main__':
    run_with_database(DB, {}, run)
