#!/usr/bin/python3
"""kill -9 of a backend in the middle of a login (a bcrypt cost 14 hash, so the window is wide,
inside a transaction that also wrote a task) and in the middle of an UPDATE of 100,000 tasks, on
a throwaway server of its own. After each crash the server restarts every backend; the test
waits for recovery, reconnects and checks that everything committed is there, that nothing of
the killed transaction is visible, and that login and authenticate work again. Emits TAP.
"""
import os
import signal
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from cluster import Cluster, wait_for  # noqa: E402
from taptest import results, tap  # noqa: E402

DB = 'ta_kill9'
API = 'ta_kill9_api'
API_PASSWORD = 'kill9-' + os.urandom(8).hex()
PASSWORD = 'kill9-password-1'
N_TASKS = 100000

server = Cluster('kill9')


def su():
    """A superuser connection to the test database (autocommit)."""
    return server.connect(DB)


def api():
    """An API-role connection to the test database (autocommit)."""
    return server.connect(DB, user=API, password=API_PASSWORD)


def one(conn, sql, args=()):
    """First column of the first row."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def state(conn):
    """A fingerprint of everything in users and tasks, seen by the superuser (RLS bypassed)."""
    return one(conn, "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
                     "SELECT concat_ws(',', id, email, hashed_password, updated_at) AS x "
                     "FROM taskauth.users UNION ALL "
                     "SELECT concat_ws(',', id, user_id, title, is_completed, updated_at) "
                     "FROM taskauth.tasks) s")


def in_background(conn, statements):
    """Run statements on conn in a thread; returns the thread and a dict that receives the
    error (or 'finished')."""
    out = {}

    def work():
        try:
            with conn.cursor() as cur:
                for sql, args in statements:
                    cur.execute(sql, args)
            out['result'] = 'finished'
        except psycopg2.Error as e:
            out['result'] = e
    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t, out


def running(pid, like, at_least_ms=50):
    """Whether backend pid has been running a statement matching like for at_least_ms."""
    c = su()
    try:
        return one(c, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active' "
                      "AND query LIKE %s AND now() - query_start >= %s * interval '1 ms'",
                   (pid, like, at_least_ms)) == 1
    finally:
        c.close()


def server_log():
    """The server's log so far."""
    with open(server.logfile, errors='replace') as f:
        return f.read()


def crash(pid, what):
    """kill -9 pid, wait until the postmaster has seen it and restarted every backend, then until
    the server takes connections again; returns seconds waited."""
    restarts = server_log().count('all server processes terminated; reinitializing')
    os.kill(pid, signal.SIGKILL)
    _, seen = wait_for(lambda: server_log().count('all server processes terminated; '
                                                  'reinitializing') > restarts,
                       timeout=300, interval=0.02, what='the crash restart')

    def back():
        try:
            c = su()
            try:
                return one(c, 'SELECT 1') == 1
            finally:
                c.close()
        except psycopg2.Error:
            return False
    _, waited = wait_for(back, timeout=300, interval=0.05, what='recovery after kill -9')
    tap(('(PID %d) was terminated by signal 9' % pid) in server_log(),
        '%s: the backend was killed with signal 9 and the server restarted all backends' % what,
        server.log_tail())
    print('# %s: accepting connections again %.2f s after the kill' % (what, seen + waited),
          flush=True)


def run():
    server.init()
    server.start()
    c = server.connect('postgres')
    c.cursor().execute('CREATE DATABASE %s' % DB)
    c.cursor().execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API, (API_PASSWORD,))
    c.close()
    s = su()
    cur = s.cursor()
    cur.execute('CREATE EXTENSION taskauth')
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API,))
    cur.execute("SELECT taskauth.add_signing_key(%s, 'k1')", (os.urandom(24).hex(),))
    # alice's hash is slow (cost 14, the default maximum) and due for an upgrade ($2a$), so
    # her login checks it and then rewrites it; bob's is fast
    cur.execute('SET taskauth.bcrypt_cost = 14')
    alice = one(s, "SELECT taskauth.register('alice@example.com', %s)", (PASSWORD,))
    cur.execute("UPDATE taskauth.users SET hashed_password = '$2a$' || substr(hashed_password, 5)")
    cur.execute('SET taskauth.bcrypt_cost = 4')
    bob = one(s, "SELECT taskauth.register('bob@example.com', %s)", (PASSWORD,))
    cur.execute("INSERT INTO taskauth.tasks (user_id, title) SELECT %s, 'alice ' || g "
                "FROM generate_series(1, %s) g", (alice, N_TASKS))
    cur.execute("INSERT INTO taskauth.tasks (user_id, title) VALUES (%s, 'bob 1')", (bob,))
    cur.execute('ALTER DATABASE %s SET taskauth.bcrypt_cost = 14' % DB)
    token = one(s, "SELECT taskauth.issue_token(%s, 'alice@example.com')", (alice,))
    before = state(s)
    s.close()

    # --- in the middle of a login, in a transaction that has also added a task
    victim = api()
    victim.autocommit = False
    pid = victim.get_backend_pid()
    thread, out = in_background(victim, [
        ('SELECT taskauth.authenticate(%s)', (token,)),
        ("INSERT INTO taskauth.tasks (title) VALUES ('written before the crash')", ()),
        ('SELECT taskauth.login(%s, %s)', ('alice@example.com', PASSWORD)),
        ('COMMIT', ()),
    ])
    wait_for(lambda: running(pid, '%taskauth.login%') or 'result' in out, timeout=300,
             what='the login to start')
    tap('result' not in out, 'the login is running (bcrypt cost 14) when it is killed', out)
    crash(pid, 'kill -9 during login')
    thread.join(60)
    tap(isinstance(out.get('result'), psycopg2.OperationalError),
        "the killed login's client gets a connection error", out.get('result'))
    s = su()
    after = state(s)
    h = one(s, "SELECT left(hashed_password, 7) FROM taskauth.users WHERE id = %s", (alice,))
    tap(after == before and h == '$2a$14$',
        'after recovery every user and task is as committed: no task from the killed '
        'transaction, the hash not half-upgraded', (before, after, h))

    c = api()
    tok = one(c, 'SELECT taskauth.login(%s, %s)', ('alice@example.com', PASSWORD))
    c.autocommit = False
    uid = one(c, 'SELECT taskauth.authenticate(%s)::text', (tok,))
    n = one(c, 'SELECT count(*) FROM taskauth.tasks')
    c.rollback()
    h = one(s, "SELECT left(hashed_password, 7) FROM taskauth.users WHERE id = %s", (alice,))
    tap(uid == str(alice) and n == N_TASKS and h == '$2b$14$',
        'after recovery login works (and upgrades the hash), authenticate and RLS too',
        (uid, n, h))
    c.close()

    # --- in the middle of an UPDATE of all of alice's tasks; another session commits first
    committed = api()
    committed.autocommit = False
    one(committed, 'SELECT taskauth.authenticate(%s)::text', (tok,))
    committed.cursor().execute("UPDATE taskauth.tasks SET title = 'committed before the crash' "
                               "WHERE title = 'alice 1'")
    committed.commit()
    committed.close()
    before = state(s)
    s.close()
    victim = api()
    victim.autocommit = False
    pid = victim.get_backend_pid()
    thread, out = in_background(victim, [
        ('SELECT taskauth.authenticate(%s)', (tok,)),
        ("UPDATE taskauth.tasks SET is_completed = true, title = title || ' (done)'", ()),
        ("UPDATE taskauth.tasks SET description = 'second pass'", ()),
        ('COMMIT', ()),
    ])
    wait_for(lambda: running(pid, 'UPDATE taskauth.tasks%') or 'result' in out, timeout=300,
             what='the update to start')
    tap('result' not in out, 'the UPDATE of %d tasks is running when it is killed' % N_TASKS, out)
    crash(pid, 'kill -9 during an update of tasks')
    thread.join(60)
    s = su()
    after = state(s)
    counts = one(s, "SELECT array[count(*), count(*) FILTER (WHERE is_completed), "
                    "count(*) FILTER (WHERE description IS NOT NULL), "
                    "count(*) FILTER (WHERE title = 'committed before the crash')] "
                    "FROM taskauth.tasks")
    tap(after == before and counts == [N_TASKS + 1, 0, 0, 1],
        'after recovery the committed rename is there and no row of the killed update is',
        (before, after, counts))
    # the indexes agree with the heap after both recoveries (amcheck, from postgresql-contrib)
    s.cursor().execute('CREATE EXTENSION IF NOT EXISTS amcheck')
    checked = one(s, "SELECT count(bt_index_check(i.indexrelid, true)) FROM pg_index i "
                     "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                     "WHERE a.amname = 'btree' AND i.indrelid IN "
                     "('taskauth.tasks'::regclass, 'taskauth.users'::regclass)")
    tap(checked >= 3, 'amcheck finds the btree indexes of users and tasks consistent with '
        'their rows (%d checked)' % checked)
    c = api()
    c.autocommit = False
    one(c, 'SELECT taskauth.authenticate(%s)::text', (tok,))
    done = one(c, "WITH u AS (UPDATE taskauth.tasks SET is_completed = true "
                  "WHERE title = 'committed before the crash' RETURNING 1) SELECT count(*) FROM u")
    c.commit()
    tap(done == 1, 'after recovery the API role updates its task again', done)
    c.close()
    s.close()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(1))
    try:
        run()
    except Exception as e:  # a crash of the test is one failed test, with its reason
        tap(False, 'test ran to the end', '%r\nserver log:\n%s' % (e, server.log_tail()))
    finally:
        server.stop()
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
