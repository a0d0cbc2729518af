#!/usr/bin/python3
"""Login throttling under synchronous replication: a failed login is answered 28P01 only once
its count is on the synchronous standby. In a server of its own whose synchronous_standby_names
names a standby that never connects ('nobody'), so that a commit that waits for it waits for
ever:

- the counting worker waits for the standby (wait event SyncRep) although the database, or the
  server, sets synchronous_commit to off, local or remote_write;
- a worker ended in that wait (pg_terminate_backend, pg_cancel_backend) has committed its count
  locally only: the login then waits for the standby itself (SyncRep), for a bounded time, and
  is refused with PT503, not 28P01;
- that wait can be canceled (57014), and ends as soon as synchronous replication is turned off
  (the login then answers 28P01);
- the worker that ends a replayed refresh token's session waits for the standby too; ended in
  that wait, the refresh warns after the same bound that the end is not confirmed;
- without synchronous_standby_names, failed logins answer 28P01 at once, as before;
- an unknown email gets exactly what a known one gets, in each case.

Uses no cluster of the PG* environment beyond the binaries (PG_CONFIG); emits TAP.
"""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from cluster import Cluster  # noqa: E402
from taptest import one, results, tap  # noqa: E402

DB = 'throttle_sync'
API = 'throttle_sync_api'
API_PASSWORD = 'sync-' + os.urandom(8).hex()
PASSWORD = 'the-right-password'
KNOWN = 'known@sync.test'
UNKNOWN = 'nobody@sync.test'
# the login's own wait for the standby, src/sessions.c (SYNC_CONFIRM_TIMEOUT_MS)
BOUND = 5.0

server = Cluster('throttle-sync')
standby = Cluster('throttle-sync-standby')


def admin(dbname=DB):
    """The superuser, whose own commits never wait for the standby that is not there."""
    return server.connect(dbname, options='-c synchronous_commit=local')


def api():
    return server.connect(DB, user=API, password=API_PASSWORD)


def login(conn, email, password='wrong'):
    """'ok', or (SQLSTATE, message, detail, hint, context)."""
    try:
        one(conn, 'SELECT taskauth.login(%s, %s)', (email, password))
        return 'ok'
    except psycopg2.Error as e:
        d = e.diag
        return (e.pgcode, d.message_primary, d.message_detail, d.message_hint, d.context)


def failures(conn, email):
    return one(conn, "SELECT failures FROM taskauth.login_throttle "
                     "WHERE key = taskauth.login_throttle_key(%s)", (email,)) or 0


def poll(cond, timeout):
    """cond()'s first true value within timeout seconds, or None."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v or None
        time.sleep(0.01)


DEFAULTS = {'synchronous_standby_names': '', 'synchronous_commit': 'on'}


def reload_with(conn, **system):
    """ALTER SYSTEM SET each setting (None: RESET), reload, and wait until a new session sees
    them, and a moment more for the checkpointer to pass synchronous_standby_names on."""
    for name, value in system.items():
        if value is None:
            one(conn, 'ALTER SYSTEM RESET %s' % name)
        else:
            one(conn, 'ALTER SYSTEM SET %s = %%s' % name, (value,))
    one(conn, 'SELECT pg_reload_conf()')

    def seen():
        c = server.connect('postgres')
        try:
            return all(one(c, 'SELECT current_setting(%s)', (n,)) == (DEFAULTS[n] if v is None else v)
                       for n, v in system.items())
        finally:
            c.close()
    poll(seen, 30)
    time.sleep(0.5)


def waiting(conn, where, pid=None):
    """The pid of a backend that waits for the synchronous standby: a taskauth worker, or the
    backend pid."""
    if where == 'worker':
        return one(conn, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'taskauth worker' "
                         "AND wait_event = 'SyncRep'")
    return one(conn, "SELECT pid FROM pg_stat_activity WHERE pid = %s AND wait_event = 'SyncRep'", (pid,))


def attempt(email, end_worker='terminate', then=None, resume=None):
    """A failed login while synchronous replication cannot complete. Returns what was seen:
    whether its worker waited for the standby (SyncRep) and the login for the worker, whether
    the login then waited for the standby itself, its answer and how long after the worker was
    ended it came. then(watcher, login_pid), if given, runs once the login waits itself."""
    watch = admin()
    conn = api()
    pid = conn.get_backend_pid()
    before = failures(watch, email)
    out = {}

    def run():
        out['answer'] = login(conn, email)
        out['at'] = time.monotonic()
    th = threading.Thread(target=run)
    th.start()
    seen = {'worker_waited': poll(lambda: 'answer' in out or waiting(watch, 'worker'), 30)}
    if seen['worker_waited'] is True:
        seen['worker_waited'] = None  # the login ended first: its worker did not wait
    ended_at = time.monotonic()
    if seen['worker_waited']:
        seen['login_waited_for'] = one(watch, 'SELECT wait_event FROM pg_stat_activity WHERE pid = %s', (pid,))
        if resume is not None:  # a standby whose replay is paused: resume it instead
            one(resume, 'SELECT pg_wal_replay_resume()')
        else:
            fn = 'pg_terminate_backend' if end_worker == 'terminate' else 'pg_cancel_backend'
            one(watch, 'SELECT %s(%%s)' % fn, (seen['worker_waited'],))
        ended_at = time.monotonic()
        seen['login_waited'] = resume is None and bool(poll(lambda: 'answer' in out or waiting(watch, 'login', pid), 10)) \
            and 'answer' not in out
        if then and seen['login_waited']:
            then(watch, pid)
    th.join(60)
    seen['answer'] = out.get('answer', 'no answer within 60 s')
    seen['after'] = out.get('at', time.monotonic()) - ended_at
    seen['counted'] = failures(watch, email) - before
    try:
        seen['usable'] = one(conn, 'SELECT 41 + 1') == 42
    except psycopg2.Error as e:
        seen['usable'] = e.pgcode
    conn.close()
    watch.close()
    return seen


def unavailable(seen):
    """A PT503 refusal that came after the login's own bounded wait."""
    a = seen['answer']
    # the login waited for its worker first (BgWorkerShutdown; PostgreSQL 18: BgworkerShutdown)
    return (seen.get('worker_waited') and (seen.get('login_waited_for') or '').lower() == 'bgworkershutdown'
            and seen.get('login_waited') and a[:2] == ('PT503', 'login is temporarily unavailable')
            and BOUND - 0.5 <= seen['after'] < BOUND + 10)


def setup():
    server.init(settings=('max_worker_processes = 16',))
    server.start()
    c = admin('postgres')
    one(c, 'CREATE DATABASE %s' % DB)
    one(c, 'CREATE ROLE %s LOGIN PASSWORD %%s' % API, (API_PASSWORD,))
    c.close()
    c = admin()
    one(c, 'CREATE EXTENSION taskauth')
    one(c, "SELECT taskauth.add_signing_key('sync-secret-0123456789abcdefghijklmnop')")
    one(c, 'SELECT taskauth.grant_api_access(%s::regrole)', (API,))
    for name, value in (('bcrypt_cost', '4'), ('login_throttle_threshold', '100')):
        one(c, 'ALTER DATABASE %s SET taskauth.%s = %s' % (DB, name, value))
    one(c, 'SELECT taskauth.register(%s, %s)', (KNOWN, PASSWORD))
    return c


def run():
    c = setup()

    # (c) no synchronous standby named: synchronous_commit off changes nothing, no wait
    one(c, 'ALTER DATABASE %s SET synchronous_commit = off' % DB)
    a = api()
    t0 = time.monotonic()
    k, u = login(a, KNOWN), login(a, UNKNOWN)
    took = time.monotonic() - t0
    a.close()
    tap(k[:2] == ('28P01', 'invalid email or password') and k == u
        and failures(c, KNOWN) == 1 and failures(c, UNKNOWN) == 1,
        'no synchronous standby named: a known and an unknown email fail alike (28P01), counted', (k, u))
    print('# two failed logins took %.0f ms without synchronous replication' % (took * 1e3), flush=True)

    # a standby that never connects: every commit that waits for it waits for ever
    reload_with(c, synchronous_standby_names='nobody')

    # (a)+(b)+(d) the worker waits for the standby whatever synchronous_commit it is given; ended
    # in that wait, its count is on this server only: the login waits itself, then PT503
    runs = {}
    for label, level, where, email, how in (
            ('off (database), known email, worker terminated', 'off', 'database', KNOWN, 'terminate'),
            ('off (database), unknown email, worker terminated', 'off', 'database', UNKNOWN, 'terminate'),
            ('local (database), known email, worker canceled', 'local', 'database', KNOWN, 'cancel'),
            ('remote_write (database), unknown email, worker terminated', 'remote_write', 'database', UNKNOWN, 'terminate'),
            ('off (server), unknown email, worker canceled', 'off', 'server', UNKNOWN, 'cancel')):
        if where == 'database':
            one(c, 'ALTER DATABASE %s SET synchronous_commit = %s' % (DB, level))
        else:
            one(c, 'ALTER DATABASE %s RESET synchronous_commit' % DB)
            reload_with(c, synchronous_commit=level)
        s = runs[label] = attempt(email, how)
        tap(s['worker_waited'], 'synchronous_commit %s: the worker waits for the synchronous standby '
            '(SyncRep)' % label.split(',')[0], s)
        tap(unavailable(s) and s['counted'] == 1 and s['usable'] is True,
            '%s: counted here, then the login waited for the standby itself (SyncRep) and was '
            'refused PT503 after its bound (%.1f s), not 28P01' % (label, s['after']), s)
    reload_with(c, synchronous_commit=None)
    one(c, 'ALTER DATABASE %s SET synchronous_commit = off' % DB)
    known = runs['off (database), known email, worker terminated']['answer']
    unknown = runs['off (database), unknown email, worker terminated']['answer']
    tap(known == unknown and known[0] == 'PT503',
        'a known and an unknown email get the same PT503, every field', (known, unknown))
    tap(all(s['answer'][2] and 'no password was checked' in s['answer'][2] for s in runs.values()),
        'each refusal says that no password was checked', [s['answer'] for s in runs.values()])

    # the login's own wait can be canceled
    def cancel(watch, pid):
        one(watch, 'SELECT pg_cancel_backend(%s)', (pid,))
    for email in (KNOWN, UNKNOWN):
        s = attempt(email, 'terminate', then=cancel)
        tap(s.get('login_waited') and s['answer'][0] == '57014' and s['after'] < BOUND
            and s['usable'] is True,
            '%s email: pg_cancel_backend ends the login\'s wait for the standby (57014, %.1f s after '
            'the worker ended) and the session goes on' % (email.split('@')[0], s['after']), s)

    # the wait ends when synchronous replication is turned off: then the failure is answered
    def turn_off(watch, pid):
        reload_with(watch, synchronous_standby_names=None)
    answers = []
    for email in (KNOWN, UNKNOWN):
        reload_with(c, synchronous_standby_names='nobody')
        s = attempt(email, 'terminate', then=turn_off)
        answers.append(s['answer'])
        tap(s.get('login_waited') and s['answer'][:2] == ('28P01', 'invalid email or password')
            and s['counted'] == 1 and s['after'] < BOUND,
            '%s email: synchronous_standby_names emptied during the login\'s wait: it ends '
            '(%.1f s after the worker ended), 28P01' % (email.split('@')[0], s['after']), s)
    tap(answers[0] == answers[1], 'the same 28P01 for both, every field', answers)

    # a replayed refresh token: the worker that ends its session waits for the standby too, and
    # one ended in that wait leaves the end on this server only: refresh warns, after its bound
    first = one(c, 'SELECT refresh_token FROM taskauth.sign_in(%s, %s)', (KNOWN, PASSWORD))
    second = one(c, 'SELECT refresh_token FROM taskauth.refresh(%s)', (first,))
    reload_with(c, synchronous_standby_names='nobody')
    a = api()
    out = {}

    def replay():
        try:
            one(a, 'SELECT taskauth.refresh(%s)', (first,))
            out['answer'] = 'ok'
        except psycopg2.Error as e:
            out['answer'] = (e.pgcode, e.diag.message_primary)
        out['at'] = time.monotonic()
    th = threading.Thread(target=replay)
    th.start()
    worker = poll(lambda: 'answer' in out or waiting(c, 'worker'), 30)
    ended_at = time.monotonic()
    if worker and worker is not True:
        one(c, 'SELECT pg_terminate_backend(%s)', (worker,))
        ended_at = time.monotonic()
    th.join(60)
    after = out.get('at', time.monotonic()) - ended_at
    warned = [n for n in a.notices if 'has not confirmed it' in n]
    reload_with(c, synchronous_standby_names=None)
    ended = one(c, "SELECT end_reason FROM taskauth.sessions WHERE id = "
                   "(SELECT session_id FROM taskauth.refresh_token_open(%s))", (second,))
    tap(worker and worker is not True and out.get('answer') == ('28000', 'refresh token is not valid')
        and len(warned) == 1 and BOUND - 0.5 <= after < BOUND + 10 and ended is not None,
        'a replayed refresh token: the worker ending its session waits for the standby (SyncRep); '
        'terminated there, the refresh is refused after the bound (%.1f s) with a warning that the '
        'standby has not confirmed the end (session ended here: %s)' % (after, ended),
        (worker, out, a.notices))
    a.close()

    # (c) again, after all that: no standby named, no wait, 28P01
    a = api()
    t0 = time.monotonic()
    k, u = login(a, KNOWN), login(a, UNKNOWN)
    took = time.monotonic() - t0
    a.close()
    tap(k[:2] == ('28P01', 'invalid email or password') and k == u and took < BOUND,
        'synchronous_standby_names empty again: 28P01 with no wait (two logins in %.0f ms), '
        'known and unknown alike' % (took * 1e3), (k, u))
    tap(one(c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'taskauth worker'") == 0,
        'no worker is left running')

    # a real synchronous standby: failures are answered 28P01 as before, counted on it; a
    # database's remote_apply is kept by the worker (it waits for the standby's replay)
    standby.init_standby_of(server)
    standby.start()
    reload_with(c, synchronous_standby_names='*')
    sb = standby.connect(DB)
    poll(lambda: one(c, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1, 60)
    a = api()
    got = [login(a, e) for e in (KNOWN, UNKNOWN)]
    applied = poll(lambda: [failures(sb, e) for e in (KNOWN, UNKNOWN)] == [failures(c, e) for e in (KNOWN, UNKNOWN)], 30)
    tap(all(g[:2] == ('28P01', 'invalid email or password') for g in got) and got[0] == got[1] and applied,
        'with a synchronous standby connected: 28P01 for a known and an unknown email, the counts on the standby',
        (got, applied))
    one(sb, 'SELECT pg_wal_replay_pause()')
    one(c, 'ALTER DATABASE %s SET synchronous_commit = remote_apply' % DB)
    s = attempt(KNOWN, 'none', then=None, resume=sb)
    tap(s['worker_waited'] and s['answer'][:2] == ('28P01', 'invalid email or password') and s['counted'] == 1,
        'synchronous_commit remote_apply (database), standby replay paused: the worker waits for '
        'the replay (SyncRep), not lowered to on, and the login answers 28P01 once it resumes', s)
    one(c, 'ALTER DATABASE %s SET synchronous_commit = off' % DB)
    one(sb, 'SELECT pg_wal_replay_pause()')
    t0 = time.monotonic()
    r = login(a, UNKNOWN)
    took = time.monotonic() - t0
    one(sb, 'SELECT pg_wal_replay_resume()')
    tap(r[:2] == ('28P01', 'invalid email or password') and took < BOUND,
        'synchronous_commit off, replay paused: flushed on the standby is enough, 28P01 in %.0f ms'
        % (took * 1e3), r)
    a.close()
    sb.close()
    c.close()


def main():
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', '%r\n%s' % (e, server.log_tail()))
    finally:
        standby.stop()
        server.stop()
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
