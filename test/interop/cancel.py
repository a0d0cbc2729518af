#!/usr/bin/python3
"""pg_cancel_backend and statement_timeout during a password hash at the largest cost the
default maxima allow (bcrypt cost 14; argon2id m=262144 KiB, t=10, p=8) and during a login whose
stored hash is at cost 14: each statement ends with 57014 and the same connection then works
(its next statements succeed). How long after the cancel (or the timeout) each statement ended,
and how long one uncancelled hash takes, are printed as TAP comments, never asserted: the
hashing libraries' inner loops cannot be interrupted, so a cancel is served when the hash that is
running ends, within one hash. Uses the PG* cluster; emits TAP.
"""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from cluster import wait_for  # noqa: E402
from taptest import connect_as, one, results, tap  # noqa: E402

tag = 'ta_cancel_%d' % os.getpid()
DB = tag
API = tag + '_api'
API_PASSWORD = 'cancel-' + os.urandom(8).hex()
PASSWORD = 'cancel-password-1'

BCRYPT_MAX = ("SELECT taskauth.hash_password(%s, current_setting('taskauth.max_bcrypt_cost')::int)",
              (PASSWORD,))
ARGON2_MAX = ("SELECT taskauth.hash_password_argon2id(%s, "
              "current_setting('taskauth.max_argon2_memory_kib')::int, "
              "current_setting('taskauth.max_argon2_time')::int, "
              "current_setting('taskauth.max_argon2_parallelism')::int)", (PASSWORD,))
LOGIN = ("SELECT taskauth.login('slow@example.com', %s)", (PASSWORD,))


def connect(api=False, dbname=DB):
    """An autocommit connection: the superuser from the PG* environment, or the API role."""
    return connect_as(dbname, *((API, API_PASSWORD) if api else ()))


def timed(conn, sql, args):
    """Run a statement; (SQLSTATE or 'ok', when it ended, monotonic)."""
    try:
        one(conn, sql, args)
        return 'ok', time.monotonic()
    except psycopg2.Error as e:
        return e.pgcode, time.monotonic()


def usable(conn, api):
    """The connection's next statements work: a plain query and a taskauth call."""
    try:
        if one(conn, 'SELECT 41 + 1') != 42:
            return False
        if api:
            return one(conn, "SELECT taskauth.login('fast@example.com', %s) IS NOT NULL",
                       (PASSWORD,))
        return one(conn, "SELECT taskauth.verify_password('x', taskauth.hash_password('x', 4))")
    except psycopg2.Error as e:
        return 'SQLSTATE %s' % e.pgcode


def cancelled(label, stmt, api=False):
    """Run stmt in one session; once it has run 100 ms, pg_cancel_backend it from another."""
    conn = connect(api=api)
    pid = conn.get_backend_pid()
    out = {}
    th = threading.Thread(target=lambda: out.update(r=timed(conn, *stmt)))
    start = time.monotonic()
    th.start()
    watcher = connect()
    wait_for(lambda: 'r' in out or one(watcher, "SELECT count(*) FROM pg_stat_activity WHERE "
                                                "pid = %s AND state = 'active' AND now() - "
                                                "query_start >= interval '100 ms'", (pid,)) == 1,
             timeout=300, what='the statement to run')
    sent = time.monotonic()
    one(watcher, 'SELECT pg_cancel_backend(%s)', (pid,))
    th.join(300)
    code, ended = out.get('r', ('did not end', time.monotonic()))
    after = usable(conn, api)
    tap(code == '57014' and after is True,
        '%s: pg_cancel_backend ends it with 57014 and the session is usable afterwards' % label,
        'ended with %s; next statements: %s' % (code, after))
    print('# %s: cancel sent %.0f ms after the start, statement ended %.0f ms after the cancel'
          % (label, (sent - start) * 1e3, (ended - sent) * 1e3), flush=True)
    watcher.close()
    conn.close()


def timed_out(label, stmt, api=False, timeout_ms=100):
    """Run stmt under statement_timeout in a session that then goes on."""
    conn = connect(api=api)
    one(conn, "SELECT set_config('statement_timeout', %s, false)", (str(timeout_ms),))
    start = time.monotonic()
    code, ended = timed(conn, *stmt)
    one(conn, "SELECT set_config('statement_timeout', '0', false)")
    after = usable(conn, api)
    tap(code == '57014' and after is True,
        '%s: statement_timeout = %d ms ends it with 57014 and the session is usable afterwards'
        % (label, timeout_ms), 'ended with %s; next statements: %s' % (code, after))
    print('# %s: statement ended %.0f ms after the timeout fired'
          % (label, (ended - start) * 1e3 - timeout_ms), flush=True)
    conn.close()


def run():
    admin = connect()
    cur = admin.cursor()
    cur.execute('CREATE EXTENSION taskauth')
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API,))
    cur.execute("SELECT taskauth.add_signing_key(%s)", (os.urandom(24).hex(),))
    # login checks the stored hash in the time a check at today's settings takes: both at the
    # bcrypt maximum, so the hash is a full cost-14 one
    cur.execute("ALTER DATABASE %s SET taskauth.bcrypt_cost = %s" % (
        DB, one(admin, "SELECT current_setting('taskauth.max_bcrypt_cost')")))
    cur.execute('SET taskauth.bcrypt_cost = 4')
    cur.execute("SELECT taskauth.register('fast@example.com', %s)", (PASSWORD,))
    cur.execute('RESET taskauth.bcrypt_cost')
    cur.execute("SELECT taskauth.register('slow@example.com', %s)", (PASSWORD,))
    admin.close()
    cases = (('hash_password, bcrypt at max_bcrypt_cost', BCRYPT_MAX, False),
             ('hash_password_argon2id at the max_argon2_* settings', ARGON2_MAX, False),
             ('login of a cost-14 hash, as the API role', LOGIN, True))
    for label, stmt, as_api in cases:
        cancelled(label, stmt, as_api)
    for label, stmt, as_api in cases:
        timed_out(label, stmt, as_api)


def main():
    print('1..6', flush=True)
    top = connect(dbname=os.environ.get('PGDATABASE', 'postgres'))
    top.cursor().execute('CREATE DATABASE %s' % DB)
    top.cursor().execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API, (API_PASSWORD,))
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        top.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
        top.cursor().execute('DROP ROLE IF EXISTS %s' % API)
        top.close()
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
