#!/usr/bin/python3
"""Sessions, sign-out and throttling fail closed with transactions racing, held open, rolled
back and starved of worker slots (the second security review's findings 1-4 and 8):

- a sign_in (or a refresh) held open across logout_everywhere, change_password or revoke_user:
  the sign-out waits for it, and afterwards neither its access token nor its refresh token works;
- 40 sign_ins of one user racing with revoke_user: every one that began before the call is
  refused afterwards, and a sign_in after it works;
- one user's open transaction, holding a sign-out or a refresh, stalls no other user's sign-out,
  and no replay of a refresh token of the session whose row it holds;
- revocations that commit out of the order they were made are all seen by a backend that read
  the later one first (no lock orders them any more);
- a replayed refresh token ends its session without the old false warning;
- change_password's old-password check counts against the per-email login throttle;
- with every background worker slot taken by another role's parallel queries, a login is
  refused unchecked (PT503), never an uncounted guess.
Uses the cluster from the PG* environment; emits TAP.
"""
import contextlib
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402

tag = 'ta_failclosed_%d' % os.getpid()
DB = tag
API_ROLE = tag + '_api'
API_PASSWORD = 'fc-' + os.urandom(8).hex()
OTHER_ROLE = tag + '_other'
PASSWORD = 'failclosed-password'
REVOKED = '28000 token revoked'


def connect(api=False, dbname=DB, role=None):
    """An autocommit connection: the superuser from the PG* environment, or the API role."""
    if role is not None:
        return connect_as(dbname, role, API_PASSWORD)
    return connect_as(dbname, *((API_ROLE, API_PASSWORD) if api else ()))


def row(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def outcome(conn, sql, args=()):
    """('ok', first column) or 'SQLSTATE message'."""
    try:
        return ('ok', one(conn, sql, args))
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


def auth(conn, token):
    """authenticate() in its own statement: the user id, or 'SQLSTATE message'."""
    r = outcome(conn, 'SELECT taskauth.authenticate(%s)::text', (token,))
    return r[1] if isinstance(r, tuple) else r


def sign_in(conn, email):
    return row(conn, 'SELECT access_token, refresh_token FROM taskauth.sign_in(%s, %s)', (email, PASSWORD))


def refresh(conn, rt):
    """A new (access, refresh) pair, or 'SQLSTATE message'."""
    try:
        return row(conn, 'SELECT access_token, refresh_token FROM taskauth.refresh(%s)', (rt,))
    except psycopg2.Error as e:
        return '%s %s' % (e.pgcode, e.diag.message_primary)


class Blocked(threading.Thread):
    """Runs fn(conn) in a thread; .result is its value or 'SQLSTATE message'."""

    def __init__(self, conn, fn):
        super().__init__(daemon=True)
        self.conn, self.fn, self.result, self.error = conn, fn, None, None

    def run(self):
        try:
            self.result = self.fn(self.conn)
        except psycopg2.Error as e:
            self.error = '%s %s' % (e.pgcode, e.diag.message_primary)
            with contextlib.suppress(psycopg2.Error):
                self.conn.cursor().execute('ROLLBACK')


def in_txn(token, *statements):
    """fn(conn): authenticate with token and run statements in one transaction; the last's value."""
    def fn(conn):
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '20s'")
            cur.execute('BEGIN')
            if token is not None:
                cur.execute('SELECT taskauth.authenticate(%s)', (token,))
            value = None
            for sql in statements:
                cur.execute(sql)
                value = cur.fetchone()[0] if cur.description else None
            cur.execute('COMMIT')
            return value
    return fn


def held_open_sign_in(admin, email, user_id, signout_name, start_signout):
    """A sign_in held open across a sign-out: the sign-out waits for it, and afterwards the
    held sign_in's tokens are refused."""
    x = connect(api=True)
    xc = x.cursor()
    xc.execute('BEGIN')
    xc.execute('SELECT access_token, refresh_token FROM taskauth.sign_in(%s, %s)', (email, PASSWORD))
    at, rt = xc.fetchone()
    t = start_signout()
    t.start()
    time.sleep(1.0)
    waited = t.is_alive()
    xc.execute('COMMIT')
    t.join(30)
    fresh = connect(api=True)
    tap(waited and not t.is_alive() and t.error is None,
        '%s waits for a sign_in of the same user held open, then finishes' % signout_name,
        (waited, t.is_alive(), t.result, t.error))
    got_rt = refresh(fresh, rt)
    got_at = auth(fresh, at)
    tap(isinstance(got_rt, str) and got_rt.startswith('28000') and got_at == REVOKED,
        'after %s, the held sign_in\'s refresh token (28000) and access token (revoked) are '
        'refused' % signout_name, (got_rt, got_at))
    x.close()
    fresh.close()


def main():
    run_with_database(DB, {API_ROLE: API_PASSWORD, OTHER_ROLE: API_PASSWORD}, run)


def run():
    admin = connect()
    cur = admin.cursor()
    cur.execute('CREATE EXTENSION taskauth CASCADE')
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API_ROLE,))
    cur.execute("ALTER DATABASE %s SET taskauth.bcrypt_cost = 4" % DB)
    cur.execute("ALTER DATABASE %s SET taskauth.login_throttle_threshold = 3" % DB)
    cur.execute('SET taskauth.bcrypt_cost = 4')
    cur.execute("SELECT taskauth.add_signing_key(%s, 'fc')", ('failclosed-secret-0123456789abcdefghijkl',))
    users = {}
    for name in ('alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank'):
        users[name] = one(admin, 'SELECT taskauth.register(%s, %s)::text', (name + '@fc.test', PASSWORD))

    # --- 1. a sign_in held open across the user's sign-outs -----------------------------------
    at0, _ = sign_in(connect(api=True), 'alice@fc.test')
    held_open_sign_in(admin, 'alice@fc.test', users['alice'], 'logout_everywhere',
                      lambda: Blocked(connect(api=True), in_txn(at0, 'SELECT taskauth.logout_everywhere()')))
    at0, _ = sign_in(connect(api=True), 'bob@fc.test')
    held_open_sign_in(admin, 'bob@fc.test', users['bob'], 'revoke_user',
                      lambda: Blocked(connect(), in_txn(None, "SELECT taskauth.revoke_user('%s')" % users['bob'])))
    at0, _ = sign_in(connect(api=True), 'dave@fc.test')
    held_open_sign_in(admin, 'dave@fc.test', users['dave'], 'change_password',
                      lambda: Blocked(connect(api=True), in_txn(
                          at0, "SELECT taskauth.change_password('%s', '%s')" % (PASSWORD, PASSWORD))))

    # a refresh held open across logout_everywhere
    x = connect(api=True)
    at_e, rt_e = sign_in(x, 'erin@fc.test')
    xc = x.cursor()
    xc.execute('BEGIN')
    xc.execute('SELECT access_token, refresh_token FROM taskauth.refresh(%s)', (rt_e,))
    at_new, rt_new = xc.fetchone()
    t = Blocked(connect(api=True), in_txn(at_e, 'SELECT taskauth.logout_everywhere()'))
    t.start()
    time.sleep(1.0)
    waited = t.is_alive()
    xc.execute('COMMIT')
    t.join(30)
    fresh = connect(api=True)
    got_rt, got_at = refresh(fresh, rt_new), auth(fresh, at_new)
    tap(waited and t.result == 1 and t.error is None and isinstance(got_rt, str) and got_rt.startswith('28000')
        and got_at == REVOKED,
        'a refresh held open across logout_everywhere: the sign-out waits for it, then ends the '
        'session, and the refreshed pair is refused', (waited, t.result, got_rt, got_at))

    # a transaction above READ COMMITTED could not see what it waited for: refused
    y = connect(api=True)
    at_f, _ = sign_in(y, 'frank@fc.test')
    with y.cursor() as c:
        c.execute('BEGIN ISOLATION LEVEL REPEATABLE READ')
        c.execute('SELECT taskauth.authenticate(%s)', (at_f,))
    got = outcome(y, 'SELECT taskauth.logout_everywhere()')
    y.cursor().execute('ROLLBACK')
    tap(got == '25000 logout_everywhere needs a READ COMMITTED transaction',
        'logout_everywhere at REPEATABLE READ is refused (25000), not run blind', got)

    race_sign_ins(admin, users)
    other_users_signouts(admin, users)
    out_of_order_commits(admin, users)
    replay_with_row_held(admin, users)
    change_password_throttled(admin, users)
    worker_slots_full(admin, users)


def race_sign_ins(admin, users):
    """40 sign_ins of one user, revoke_user in the middle."""
    email = 'gina@fc.test'
    # a slower hash, so that many sign-ins are in flight when the revocation runs
    admin.cursor().execute("UPDATE taskauth.users SET hashed_password = taskauth.hash_password(%s, 9) "
                           "WHERE id = %s", (PASSWORD, users['gina']))
    conns = [connect(api=True) for _ in range(40)]
    started = [None] * 40
    got = [None] * 40
    go = threading.Event()

    def signer(i):
        go.wait()
        time.sleep(i * 0.02)
        started[i] = time.monotonic()
        try:
            got[i] = sign_in(conns[i], email)
        except psycopg2.Error as e:
            got[i] = '%s %s' % (e.pgcode, e.diag.message_primary)
    threads = [threading.Thread(target=signer, args=(i,), daemon=True) for i in range(40)]
    for t in threads:
        t.start()
    go.set()
    time.sleep(0.4)
    call = time.monotonic()
    one(admin, 'SELECT taskauth.revoke_user(%s)', (users['gina'],))
    done = time.monotonic()
    for t in threads:
        t.join(60)
    before = [i for i in range(40) if started[i] is not None and started[i] < call and isinstance(got[i], tuple)]
    fresh = connect(api=True)
    survivors = []
    for i in before:
        at, rt = got[i]
        r, a = refresh(fresh, rt), auth(fresh, at)
        if not (isinstance(r, str) and r.startswith('28000')) or a != REVOKED:
            survivors.append((i, r if isinstance(r, str) else 'refreshed', a))
    in_flight = len([i for i in before if started[i] > call - 0.25])
    tap(len(before) >= 10 and not survivors,
        '40 sign_ins racing with revoke_user: none of the %d that began before the call can '
        'refresh or authenticate afterwards (%d began within 0.25 s of it)' % (len(before), in_flight),
        survivors or (len(before), [g if isinstance(g, str) else 'ok' for g in got]))
    time.sleep(max(0.0, 1.1 - (time.monotonic() - done)))
    at, rt = sign_in(fresh, email)
    r = refresh(fresh, rt)
    tap(isinstance(r, tuple) and auth(fresh, r[0]) == users['gina'],
        'a sign_in after revoke_user committed works (refresh and authenticate)', r)
    for c in conns:
        c.close()


def other_users_signouts(admin, users):
    """One user's open transaction stalls no other user's sign-out."""
    alice_at, _ = sign_in(connect(api=True), 'alice@fc.test')
    x = connect(api=True)
    xc = x.cursor()
    xc.execute('BEGIN')
    xc.execute('SELECT taskauth.authenticate(%s)', (alice_at,))
    xc.execute('SELECT taskauth.logout_everywhere()')   # held open
    y = connect(api=True)
    y.cursor().execute("SET statement_timeout = '3s'")
    bob_at, _ = sign_in(y, 'bob@fc.test')
    bob_at2, _ = sign_in(y, 'bob@fc.test')
    t0 = time.monotonic()
    got1 = outcome(y, 'SELECT 1 FROM (SELECT taskauth.authenticate(%s)) a, taskauth.logout_everywhere() n', (bob_at,))
    took = time.monotonic() - t0
    tap(got1 == ('ok', 1) and took < 2.5,
        "bob's logout_everywhere finishes at once while alice's sign-out is held open (%.2f s)" % took,
        (got1, took))
    a = connect()
    t0 = time.monotonic()
    a.cursor().execute("SET statement_timeout = '3s'")
    got3 = outcome(a, "SELECT taskauth.revoke_user(%s)", (users['hank'],))
    tap(got3 == ('ok', '') and time.monotonic() - t0 < 2.5,
        "the owner's revoke_user of another user finishes at once too", got3)
    xc.execute('COMMIT')
    tap(auth(connect(api=True), bob_at2) == REVOKED and auth(connect(api=True), alice_at) == REVOKED,
        'both sign-outs took effect', None)


def out_of_order_commits(admin, users):
    """Revocations committing out of the order they were made: a backend that read the later
    one first still sees the earlier one at its commit, cached tokens included."""
    c = connect(api=True)
    at_a, _ = sign_in(c, 'alice@fc.test')
    at_b, _ = sign_in(c, 'bob@fc.test')
    reader = connect(api=True)
    cached = auth(reader, at_a) == users['alice'] and auth(reader, at_b) == users['bob'] and \
        auth(reader, at_a) == users['alice'] and auth(reader, at_b) == users['bob']
    first = connect(api=True)
    fc = first.cursor()
    fc.execute('BEGIN')
    fc.execute('SELECT taskauth.authenticate(%s)', (at_a,))
    fc.execute('SELECT taskauth.logout()')           # made first (lower xact and seq), open
    second = connect(api=True)
    sc = second.cursor()
    sc.execute("SET statement_timeout = '5s'")
    sc.execute('BEGIN')
    sc.execute('SELECT taskauth.authenticate(%s)', (at_b,))
    sc.execute('SELECT taskauth.logout()')
    sc.execute('COMMIT')                             # committed first
    got_b = auth(reader, at_b)
    got_a_open = auth(reader, at_a)
    fc.execute('COMMIT')
    got_a = auth(reader, at_a)
    seqs = row(admin, 'SELECT min(seq), max(seq), count(*) FROM taskauth.revocations r, taskauth.sessions s '
                      "WHERE r.session_id = s.id AND s.end_reason = 'logout'")
    tap(cached and got_b == REVOKED and got_a_open == users['alice'] and got_a == REVOKED,
        'revocations committing out of order: the later one is refused, the earlier one accepted '
        'while open and refused from its commit, by a backend that had both tokens cached',
        (cached, got_b, got_a_open, got_a, seqs))
    # and a rolled-back one refuses nothing
    rb = connect(api=True)
    at_c, _ = sign_in(rb, 'alice@fc.test')
    auth(reader, at_c)
    rc = rb.cursor()
    rc.execute('BEGIN')
    rc.execute('SELECT taskauth.authenticate(%s)', (at_c,))
    rc.execute('SELECT taskauth.logout()')
    rc.execute('ROLLBACK')
    tap(auth(reader, at_c) == users['alice'], 'a sign-out rolled back refuses nothing')


def replay_with_row_held(admin, users):
    """A replayed refresh token while another transaction holds its session's row."""
    c = connect(api=True)
    at0, rt0 = sign_in(c, 'erin@fc.test')
    at1, rt1 = refresh(c, rt0)
    x = connect(api=True)
    xc = x.cursor()
    xc.execute('BEGIN')
    xc.execute('SELECT access_token, refresh_token FROM taskauth.refresh(%s)', (rt1,))
    at2, rt2 = xc.fetchone()                          # holds the session's row
    y = connect(api=True)
    y.cursor().execute("SET statement_timeout = '10s'")
    del y.notices[:]
    t0 = time.monotonic()
    got = refresh(y, rt0)                             # the replay
    took = time.monotonic() - t0
    warned = [n for n in y.notices if 'could not be ended' in n]
    xc.execute('COMMIT')
    fresh = connect(api=True)
    r2, a2, a1 = refresh(fresh, rt2), auth(fresh, at2), auth(fresh, at1)
    tap(isinstance(got, str) and got.startswith('28000') and took < 3 and not warned,
        'a replayed refresh token is refused at once (%.2f s), without a warning, while another '
        'transaction holds its session' % took, (got, took, warned))
    tap(isinstance(r2, str) and r2.startswith('28000') and a2 == REVOKED and a1 == REVOKED,
        'after the holder commits, the pair it got is refused: the replay ended the session',
        (r2, a2, a1))
    state = row(admin, 'SELECT s.ended_at IS NULL, (SELECT count(*) FROM taskauth.revocations r '
                       'WHERE r.session_id = s.id) FROM taskauth.sessions s '
                       'WHERE s.user_id = %s ORDER BY s.created_at DESC LIMIT 1', (users['erin'],))
    one(admin, 'SELECT taskauth.prune()')
    marked = one(admin, "SELECT end_reason FROM taskauth.sessions s WHERE s.user_id = %s "
                        "ORDER BY s.created_at DESC LIMIT 1", (users['erin'],))
    tap(state == (True, 1) and marked == 'refresh_token_reused',
        'the held row was left unmarked with a revocation, and prune() marks it ended',
        (state, marked))

    # no one holds the row: ended by the worker, and no false warning
    at0, rt0 = sign_in(c, 'erin@fc.test')
    _, rt1 = refresh(c, rt0)
    del y.notices[:]
    got = refresh(y, rt0)
    warned = [n for n in y.notices if 'could not be ended' in n]
    reason = one(admin, "SELECT end_reason FROM taskauth.sessions s WHERE s.user_id = %s "
                        "ORDER BY s.created_at DESC LIMIT 1", (users['erin'],))
    tap(got.startswith('28000') and reason == 'refresh_token_reused' and not warned
        and refresh(y, rt1).startswith('28000') and auth(y, at0) == REVOKED,
        'a plain replay ends the session (refresh_token_reused) and warns of nothing',
        (got, reason, warned))


def change_password_throttled(admin, users):
    """A wrong old password counts against the per-email throttle (threshold 3 here)."""
    c = connect(api=True)
    at, _ = sign_in(c, 'carol@fc.test')
    got = []
    for guess in ('guess-1', 'guess-2', 'guess-3', PASSWORD):
        got.append(outcome(c, 'SELECT 1 FROM (SELECT taskauth.authenticate(%s)) a, '
                              'taskauth.change_password(%s, %s) p', (at, guess, 'a-new-password-123')))
    failures = one(admin, "SELECT failures FROM taskauth.login_throttle "
                          "WHERE key = sha256(convert_to('carol@fc.test', 'UTF8'))")
    login = outcome(c, 'SELECT taskauth.login(%s, %s)', ('carol@fc.test', PASSWORD))
    tap(got[:3] == ['28P01 current password is incorrect'] * 3 and got[3].startswith('PT429 ')
        and failures == 3 and login.startswith('PT429 '),
        'change_password: three wrong old passwords are counted (3), then the right one is '
        'refused while the email is locked, and so is login', (got, failures, login))
    one(admin, 'DELETE FROM taskauth.login_throttle')
    got = outcome(c, 'SELECT 1 FROM (SELECT taskauth.authenticate(%s)) a, '
                     'taskauth.change_password(%s, %s) p', (at, PASSWORD, PASSWORD))
    rows = one(admin, 'SELECT count(*) FROM taskauth.login_throttle')
    tap(got == ('ok', 1) and rows == 1,
        'the right old password is accepted; its attempt stays counted (it starts no session)',
        (got, rows))
    # a DO block catching every failure: each guess is still counted
    with c.cursor() as cur:
        cur.execute('BEGIN')
        cur.execute('SELECT taskauth.authenticate(%s)', (at,))
        try:
            cur.execute("""DO $$
                BEGIN
                    FOR i IN 1..10 LOOP
                        BEGIN
                            PERFORM taskauth.change_password('guess-' || i, 'x-new-password-1');
                        EXCEPTION WHEN invalid_password THEN NULL;
                        END;
                    END LOOP;
                END $$""")
            loop = 'no error'
        except psycopg2.Error as e:
            loop = '%s %s' % (e.pgcode, e.diag.message_primary)
        cur.execute('ROLLBACK')
    failures = one(admin, "SELECT failures FROM taskauth.login_throttle "
                          "WHERE key = sha256(convert_to('carol@fc.test', 'UTF8'))")
    tap(loop.startswith('PT429 ') and failures == 3,
        'guesses in a DO block that catches each failure: the 4th is refused (PT429), 3 counted',
        (loop, failures))
    one(admin, 'DELETE FROM taskauth.login_throttle')


def worker_slots_full(admin, users):
    """Every max_worker_processes slot taken by another role's parallel queries."""
    slots = int(one(admin, 'SHOW max_worker_processes'))
    par = 'debug_parallel_query' if int(one(admin, 'SHOW server_version_num')) >= 160000 else 'force_parallel_mode'
    one(admin, 'GRANT CONNECT ON DATABASE %s TO %s' % (DB, OTHER_ROLE))
    hogs = []
    for _ in range(slots + 2):
        h = connect(role=OTHER_ROLE)
        h.cursor().execute('SET %s = on' % par)
        h.cursor().execute('SET max_parallel_workers = %d' % (slots + 2))
        hogs.append(h)
    threads = [Blocked(h, lambda conn: one(conn, 'SELECT count(*) FROM pg_sleep(19)')) for h in hogs]
    for t in threads:
        t.start()
    time.sleep(1.5)
    running = one(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'")
    c = connect(api=True)
    wrong = outcome(c, 'SELECT taskauth.login(%s, %s)', ('alice@fc.test', 'wrong-password'))
    right = outcome(c, 'SELECT taskauth.login(%s, %s)', ('alice@fc.test', PASSWORD))
    unknown = outcome(c, 'SELECT taskauth.login(%s, %s)', ('nobody@fc.test', PASSWORD))
    for t in threads:
        t.join(30)
    tap(running >= slots - 2 and wrong.startswith('PT503 ') and right.startswith('PT503 ')
        and unknown == wrong,
        'with every worker slot taken (%d parallel workers of another role running), login is '
        'refused unchecked (PT503), the right password and an unknown email alike' % running,
        (running, wrong, right, unknown))
    after = outcome(c, 'SELECT taskauth.login(%s, %s)', ('alice@fc.test', PASSWORD))
    tap(isinstance(after, tuple) and auth(c, after[1]) == users['alice'],
        'once the slots are free, the right password logs in', after)


if __name__ == '__main__':
    main()
