#!/usr/bin/python3
"""Sign-outs through pgbouncer in transaction mode: clients share two server
connections and interleave requests with sign-outs and new sign-ins. Every token is refused in
the first transaction after its sign-out commits, whichever server connection runs it (and again
later); every token not signed out keeps working; no identity leaks between transactions.

Reuses pooling_pgbouncer.py's pgbouncer (pool_mode = transaction, default_pool_size = 2) and
database setup. Emits TAP.
"""
import atexit
import contextlib
from concurrent.futures import ThreadPoolExecutor
import os
import random
import signal
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pooling_pgbouncer as pool  # noqa: E402

CLIENTS = 4
TXNS_PER_CLIENT = 500
SIGNOUT_EVERY = 10      # about one transaction in this many is a sign-out


def client(args):
    """One client: its own user, requests, sign-outs and sign-ins through pgbouncer."""
    port, user, seed = args
    rng = random.Random(seed)
    counts = {'requests': 0, 'signouts': 0, 'refused_after': 0, 'accepted_after': 0,
              'old_refused': 0, 'old_accepted': 0, 'valid_refused': 0, 'leaks': 0, 'other_rows': 0,
              'refused_on_another_backend': 0, 'backends': set()}
    conn = pool.bouncer_connect(port)
    conn.autocommit = False
    cur = conn.cursor()

    def sign_in():
        cur.execute('SELECT access_token FROM taskauth.sign_in(%s, %s)', (user['email'], pool.PASSWORD))
        at = cur.fetchone()[0]
        conn.commit()
        return at

    def backend():
        """The server connection (backend pid) this transaction runs on."""
        cur.execute('SELECT pg_backend_pid()')
        pid = cur.fetchone()[0]
        counts['backends'].add(pid)
        return pid

    def authenticate(token):
        """(user id or None, SQLSTATE and message or None); the transaction is left open."""
        try:
            cur.execute('SELECT taskauth.authenticate(%s)::text', (token,))
            return cur.fetchone()[0], None
        except psycopg2.Error as e:
            conn.rollback()
            return None, '%s %s' % (e.pgcode, e.diag.message_primary)

    token = sign_in()
    revoked = []
    for _ in range(TXNS_PER_CLIENT):
        # every transaction starts anonymous, whichever server connection it lands on
        cur.execute('SELECT taskauth.current_user_id()')
        if cur.fetchone()[0] is not None:
            counts['leaks'] += 1
        if rng.randrange(SIGNOUT_EVERY) == 0:
            uid, e = authenticate(token)
            if uid is None:
                counts['valid_refused'] += 1
                token = sign_in()
                continue
            signed_out_on = backend()
            cur.execute('SELECT taskauth.logout()')
            conn.commit()
            counts['signouts'] += 1
            refused_on = backend()           # the very next transaction
            uid, e = authenticate(token)
            if uid is None and e == '28000 token revoked':
                counts['refused_after'] += 1
                if refused_on != signed_out_on:
                    counts['refused_on_another_backend'] += 1
            else:
                counts['accepted_after'] += 1
                conn.rollback()
            revoked.append(token)
            token = sign_in()
        elif revoked and rng.randrange(5) == 0:
            uid, e = authenticate(rng.choice(revoked))   # an old, signed-out token
            if uid is None and e == '28000 token revoked':
                counts['old_refused'] += 1
            else:
                counts['old_accepted'] += 1
                conn.rollback()
        else:
            uid, e = authenticate(token)
            if uid != user['id']:
                counts['valid_refused'] += 1
                continue
            cur.execute('SELECT count(*) FROM taskauth.tasks WHERE user_id <> %s', (user['id'],))
            counts['other_rows'] += cur.fetchone()[0]
            conn.commit()
            counts['requests'] += 1
    conn.close()
    return counts


def check_pool(port):
    """(ok, what was seen): pgbouncer in front of the test cluster, in transaction mode, with a
    pool of POOL_SIZE server connections. POOL_SIZE clients each hold a transaction open; one
    client more waits until one of them commits, then runs on the server connection that one
    released. (In session mode it would wait until a client disconnects; with a bigger pool it
    would not wait.)"""
    def server(conn):
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid(), current_setting('port'), current_database()")
            return cur.fetchone()

    clients = [pool.bouncer_connect(port) for _ in range(pool.POOL_SIZE)]
    extra = pool.bouncer_connect(port)
    last = {}
    waiter = threading.Thread(target=lambda: last.update(row=server(extra)), daemon=True)
    try:
        held = [server(c) for c in clients]       # their transactions stay open
        waiter.start()
        waiter.join(1.0)
        waited = waiter.is_alive()
        clients[0].commit()
        waiter.join(10)
        row = last.get('row')    # what ran once the commit was made, before any client left
    finally:
        for c in clients:
            c.close()        # lets a client still waiting run, whatever happened
        waiter.join(10)
        extra.close()
    ok = (all(h[1:] == (os.environ.get('PGPORT', '5432'), pool.DB) for h in held)
          and len({h[0] for h in held}) == pool.POOL_SIZE
          and waited and row is not None and row[0] == held[0][0])
    return ok, {'held (pid, port, database)': held, 'waited 1 s': waited, 'then ran on': row}


def main():
    atexit.register(pool.cleanup)
    signal.signal(signal.SIGTERM, pool.on_signal)
    signal.signal(signal.SIGINT, pool.on_signal)
    users = pool.setup_database()
    with contextlib.closing(pool.admin(pool.DB)) as c, c.cursor() as cur:
        cur.execute('ALTER DATABASE %s SET taskauth.bcrypt_cost = 4' % pool.DB)
    port = pool.start_pgbouncer()
    ok, seen = check_pool(port)
    pool.tap(ok, 'pgbouncer in transaction mode, pool of %d, in front of the cluster: with every '
             'server connection in a transaction, one client more waited, then ran on the one '
             'a commit released' % pool.POOL_SIZE, seen)

    # threads, not processes: each client waits on its connection, and psycopg2 releases the GIL
    with ThreadPoolExecutor(CLIENTS) as ex:
        results = list(ex.map(client, [(port, users[i], 1000 + i) for i in range(CLIENTS)], timeout=600))
    backends = set().union(*(r.pop('backends') for r in results))
    tot = {k: sum(r[k] for r in results) for k in results[0]}
    print('# %s; server connections used: %s' % (tot, sorted(backends)), flush=True)
    pool.tap(len(backends) > 1 and tot['refused_on_another_backend'] > 0,
             'the case "whichever server connection runs it" was taken: %d server connections '
             'served the clients, and %d refusals ran on another connection than their sign-out'
             % (len(backends), tot['refused_on_another_backend']), (sorted(backends), tot))
    pool.tap(tot['signouts'] >= CLIENTS * TXNS_PER_CLIENT // SIGNOUT_EVERY // 2 and tot['requests'] > 0,
             '%d sign-outs interleaved with %d requests from %d clients'
             % (tot['signouts'], tot['requests'], CLIENTS))
    pool.tap(tot['refused_after'] == tot['signouts'] and tot['accepted_after'] == 0,
             'every token is refused ("token revoked") in the first transaction after its sign-out (%d of %d)'
             % (tot['refused_after'], tot['signouts']), tot)
    pool.tap(tot['old_accepted'] == 0 and tot['old_refused'] > 0,
             'signed-out tokens presented again later are refused (%d times)' % tot['old_refused'], tot)
    pool.tap(tot['valid_refused'] == 0, 'no token that was not signed out is ever refused', tot)
    pool.tap(tot['leaks'] == 0 and tot['other_rows'] == 0,
             'no transaction starts with an identity or sees another user\'s rows', tot)
    with contextlib.closing(pool.admin(pool.DB)) as c, c.cursor() as cur:
        cur.execute("SELECT count(*) FROM taskauth.sessions WHERE end_reason = 'logout'")
        ended = cur.fetchone()[0]
    pool.tap(ended == tot['signouts'], 'the server recorded exactly those %d sign-outs' % ended)
    pool.cleanup()
    print('1..%d' % len(pool.tests), flush=True)
    sys.exit(0 if all(pool.tests) else 1)


if __name__ == '__main__':
    main()
