#!/usr/bin/python3
"""Automatic failover with pg_auto_failover (Debian's postgresql-NN-auto-failover, pg_autoctl): a
monitor and two nodes on loopback with synchronous replication, set up by
docs/high-availability.md's blocks run verbatim, in a private directory, started and stopped
here. A load runs against it through libpq's multi-host string (sign-ups, sign_in, refresh,
task writes through the API role under row-level security, logout, revoke_user, failed logins
until each email is locked, and a write probe every 50 ms), and every write whose commit a
client saw is recorded. Then the primary fails three times: kill -9 of its pg_autoctl service
and postmaster (node1, then started again: the page's rejoin block), `pg_autoctl perform
switchover` (back to node1), and kill -9 of its postmaster alone (its pg_autoctl restarts it in
place). After each, on the primary the monitor reports (checked out of recovery on the node),
every recorded write must be there, every token revoked before the failure must be refused in
every backend (three that had it cached, connected to the standby before the failure, and three
new ones), every live token accepted, and every spent refresh token refused. Last, the standby
is killed: commits wait until the monitor turns synchronous replication off, and nothing is
lost. The figures (writes lost, revoked tokens accepted, spent refresh tokens that worked,
seconds without a writable primary, and what the clients saw, by SQLSTATE) are printed as TAP
comments. About 3 minutes. Emits TAP; bails out (a failed file) when pg_autoctl is missing.
"""
# readme-blocks: docs/high-availability.md ha-monitor ha-nodes ha-extension ha-uri ha-pgbouncer ha-rejoin ha-switchover ha-stop
import base64
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from autofailover import Formation, doc_block  # noqa: E402
from taptest import results, tap  # noqa: E402

API = 'ha_api'
PASSWORD = 'failover-password-1'
WRONG = 'not-the-password'
CACHED_BACKENDS = 3
FRESH_BACKENDS = 3
LOAD_SECONDS = float(os.environ.get('TASKAUTH_FAILOVER_LOAD', '8'))

ha = None


def sid_of(token):
    return json.loads(base64.urlsafe_b64decode(token.split('.')[1] + '=='))['sid']


def generation_of(refresh_token):
    """The refresh generation a refresh token names (bytes 17-24 of its 57, big-endian)."""
    raw = base64.urlsafe_b64decode(refresh_token + '=' * (-len(refresh_token) % 4))
    return int.from_bytes(raw[17:25], 'big')


class Ledger:
    """What the clients saw committed, and what they saw go wrong."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}          # email -> id
        self.sessions = {}       # sid -> dict(user, access [tokens], refresh, spent [tokens])
        self.uncertain_sessions = set()   # an operation on them had an unknown outcome
        self.uncertain_users = set()
        self.revoked = []        # access tokens whose revocation committed
        self.revoked_users = set()
        self.ended_sessions = set()
        self.tasks = {}          # task id -> (user id, title, completed)
        self.throttle = {}       # email -> dict(answered, uncertain, locked)
        self.probes = []         # (monotonic time, id, server port) of committed probe writes
        self.bprobes = []        # the same, through pgbouncer
        self.breconnects = 0     # connections to pgbouncer opened again after the first
        self.errors = collections.Counter()
        self.cached = set()      # tokens authenticated in every cached backend

    def error(self, what):
        with self.lock:
            self.errors[what] += 1


class Load:
    """Client threads against the formation's multi-host string, until stop()."""

    def __init__(self, uri, ledger, tag, cache_conns):
        self.uri = uri
        self.ledger = ledger
        self.tag = tag
        self.cache_conns = cache_conns
        self.bouncer = getattr(ha, 'bouncer', None)
        self.cache_lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def connect(self, user):
        while not self.stopping.is_set():
            try:
                c = psycopg2.connect(self.uri, user=user, dbname='app', connect_timeout=2)
                c.autocommit = True
                return c
            except psycopg2.Error as e:
                self.ledger.error('connect: ' + classify(e))
                time.sleep(0.1)
        return None

    def call(self, conn_box, user, fn, expected=()):
        """fn(conn) on the box's connection (reconnecting first if needed): ('ok', value),
        ('error', sqlstate) or ('unknown', None) when the connection broke."""
        if conn_box[0] is None or conn_box[0].closed:
            conn_box[0] = self.connect(user)
            if conn_box[0] is None:
                return 'stopped', None
        conn = conn_box[0]
        try:
            return 'ok', fn(conn)
        except psycopg2.Error as e:
            if e.pgcode and not conn.closed:
                try:
                    conn.rollback()
                    conn.autocommit = True
                except psycopg2.Error:
                    conn.close()
                    conn_box[0] = None
                if e.pgcode not in expected:
                    self.ledger.error(e.pgcode)
                return 'error', e.pgcode
            self.ledger.error(classify(e))
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn_box[0] = None
            return 'unknown', None

    def cache(self, token):
        """Authenticate token in every cached backend (on the standby about to be promoted)."""
        if not self.cache_conns:
            return
        with self.cache_lock:
            ok = True
            for c in self.cache_conns:
                try:
                    with c.cursor() as cur:
                        cur.execute('SELECT taskauth.authenticate(%s)', (token,))
                except psycopg2.Error:
                    ok = False
            if ok:
                with self.ledger.lock:
                    self.ledger.cached.add(token)

    def user_loop(self, k):
        L = self.ledger
        api = [None]
        owner = [None]
        n = 0
        while not self.stopping.is_set():
            n += 1
            email = 'u-%s-%d-%d@example.com' % (self.tag, k, n)
            st, uid = self.call(api, API, lambda c: one(c, 'SELECT taskauth.register(%s, %s)::text',
                                                          (email, PASSWORD)))
            if st != 'ok':
                continue
            with L.lock:
                L.users[email] = uid
            st, pair = self.call(api, API, lambda c: row(c, 'SELECT access_token, refresh_token '
                                                            'FROM taskauth.sign_in(%s, %s)',
                                                         (email, PASSWORD)))
            if st != 'ok':
                if st == 'unknown':
                    with L.lock:
                        L.uncertain_users.add(uid)
                continue
            access, refresh = pair
            sid = sid_of(access)
            sess = {'user': uid, 'access': [access], 'refresh': refresh, 'spent': []}
            with L.lock:
                L.sessions[sid] = sess
            self.cache(access)
            for step in range(3):
                title = 'task %s %d %d %d' % (self.tag, k, n, step)
                st, tid = self.call(api, API, lambda c: in_txn(c, sess['access'][-1],
                                                               'INSERT INTO taskauth.tasks (title) '
                                                               'VALUES (%s) RETURNING id::text',
                                                               (title,)))
                if st == 'ok':
                    with L.lock:
                        L.tasks[tid] = (uid, title, False)
                    if step == 1:
                        st2, _ = self.call(api, API, lambda c: in_txn(
                            c, sess['access'][-1],
                            'UPDATE taskauth.tasks SET is_completed = true WHERE id = %s '
                            'RETURNING id', (tid,)))
                        if st2 == 'ok':
                            with L.lock:
                                L.tasks[tid] = (uid, title, True)
                old = sess['refresh']
                st, pair = self.call(api, API, lambda c: row(c, 'SELECT access_token, refresh_token '
                                                                'FROM taskauth.refresh(%s)', (old,)))
                if st == 'ok':
                    with L.lock:
                        sess['spent'].append(old)
                        sess['refresh'] = pair[1]
                        sess['access'].append(pair[0])
                    self.cache(pair[0])
                elif st == 'unknown':
                    with L.lock:
                        L.uncertain_sessions.add(sid)
                    break
                else:
                    break
            if sid in L.uncertain_sessions:
                continue
            if n % 3 == 1:
                st, _ = self.call(api, API, lambda c: in_txn(c, sess['access'][-1],
                                                             'SELECT taskauth.logout()'))
                with L.lock:
                    if st == 'ok':
                        L.revoked.extend(sess['access'])
                        L.ended_sessions.add(sid)
                    elif st == 'unknown':
                        L.uncertain_sessions.add(sid)
            elif n % 3 == 2:
                st, _ = self.call(owner, 'postgres',
                                  lambda c: one(c, 'SELECT taskauth.revoke_user(%s)', (uid,)))
                with L.lock:
                    if st == 'ok':
                        L.revoked_users.add(uid)
                        for s in L.sessions.values():
                            if s['user'] == uid:
                                L.revoked.extend(s['access'])
                    elif st == 'unknown':
                        L.uncertain_users.add(uid)
            # else: the session stays open, its newest tokens live

    def throttle_loop(self):
        L = self.ledger
        api = [None]
        n = 0
        while not self.stopping.is_set():
            n += 1
            # unknown emails and accounts alike: the throttle counts both the same way
            email = 'victim-%s-%d@example.com' % (self.tag, n)
            if n % 2 == 0:
                st, uid = self.call(api, API, lambda c: one(c, 'SELECT taskauth.register(%s, %s)::text',
                                                              (email, PASSWORD)))
                if st != 'ok':
                    continue
                with L.lock:
                    L.users[email] = uid
            t = {'answered': 0, 'uncertain': 0, 'locked': False, 'known': n % 2 == 0}
            with L.lock:
                L.throttle[email] = t
            for _ in range(12):
                if self.stopping.is_set():
                    break
                st, code = self.call(api, API, lambda c: one(c, 'SELECT count(*) FROM taskauth.sign_in(%s, %s)',
                                                               (email, WRONG)), expected=('28P01', 'PT429'))
                with L.lock:
                    if st == 'error' and code == '28P01':
                        t['answered'] += 1
                    elif st == 'error' and code == 'PT429':
                        t['locked'] = True
                    elif st == 'unknown':
                        t['uncertain'] += 1
                if t['locked']:
                    break

    def probe_loop(self):
        L = self.ledger
        box = [None]
        while not self.stopping.is_set():
            st, r = self.call(box, 'postgres',
                              lambda c: row(c, 'INSERT INTO public.ha_probe DEFAULT VALUES '
                                               'RETURNING id, inet_server_port()'))
            if st == 'ok':
                with L.lock:
                    L.probes.append((time.monotonic(), r[0], r[1]))
            time.sleep(0.05)

    def bouncer_loop(self):
        """The write probe through pgbouncer: one connection, opened again only when it breaks."""
        L = self.ledger
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None or conn.closed:
                    if conn is not None:
                        with L.lock:
                            L.breconnects += 1
                    conn = psycopg2.connect(host='127.0.0.1', port=self.bouncer, user='postgres',
                                            dbname='app', connect_timeout=2)
                    conn.autocommit = True
                r = row(conn, 'INSERT INTO public.ha_probe DEFAULT VALUES RETURNING id, inet_server_port()')
                with L.lock:
                    L.bprobes.append((time.monotonic(), r[0], r[1]))
            except psycopg2.Error as e:
                L.error('through pgbouncer: ' + (e.pgcode or classify(e)))
                if conn is not None and not conn.closed and e.pgcode is None:
                    conn.close()
            time.sleep(0.05)
        if conn is not None:
            conn.close()

    def start(self, users=3):
        for k in range(users):
            self.threads.append(threading.Thread(target=self.user_loop, args=(k,), daemon=True))
        self.threads.append(threading.Thread(target=self.throttle_loop, daemon=True))
        self.threads.append(threading.Thread(target=self.probe_loop, daemon=True))
        if self.bouncer:
            self.threads.append(threading.Thread(target=self.bouncer_loop, daemon=True))
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)


def classify(e):
    """A client-side failure without an SQLSTATE: a broken or refused connection."""
    msg = str(e).strip() or type(e).__name__
    if 'terminating connection due to administrator command' in msg:
        return 'connection terminated by the server (57P01)'
    if 'server closed the connection' in msg or 'terminating connection' in msg:
        return 'connection lost'
    if 'read-only' in msg or 'read only' in msg or 'hot standby' in msg or 'recovery' in msg:
        return 'no node accepts writes (one refuses, one is read-only)'
    if 'Connection refused' in msg or 'could not connect' in msg:
        return 'connection refused'
    if 'timeout' in msg:
        return 'connect timeout'
    msg = msg.splitlines()[0]
    return 'other: ' + msg[:60]


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        r = cur.fetchone() if cur.description else None
        return r[0] if r else None


def row(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def in_txn(conn, token, sql, args=()):
    """sql in a transaction authenticated by token; committed on return."""
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT taskauth.authenticate(%s)', (token,))
            cur.execute(sql, args)
            r = cur.fetchone() if cur.description else None
        conn.commit()
        return r[0] if r else None
    except BaseException:
        if not conn.closed:
            try:
                conn.rollback()
            except psycopg2.Error:
                pass
        raise
    finally:
        if not conn.closed:
            try:
                conn.autocommit = True
            except psycopg2.Error:
                pass


def node_conn(port, user='postgres'):
    c = psycopg2.connect(host='127.0.0.1', port=port, user=user, dbname='app', connect_timeout=5)
    c.autocommit = True
    return c


def auth(conn, token):
    try:
        return one(conn, 'SELECT taskauth.authenticate(%s)::text', (token,))
    except psycopg2.Error as e:
        return 'SQLSTATE %s' % e.pgcode


def check_writes(conn, L, label):
    """Every write the clients saw committed, on the new primary: {kind: missing count}."""
    lost = collections.Counter()
    total = collections.Counter()
    with L.lock:
        users = dict(L.users)
        sessions = {k: dict(v, spent=list(v['spent'])) for k, v in L.sessions.items()}
        tasks = dict(L.tasks)
        ended = set(L.ended_sessions)
        revoked_users = set(L.revoked_users)
        throttle = {k: dict(v) for k, v in L.throttle.items()}
        probes = [p for _, p, _ in L.probes]
        bprobes = [p for _, p, _ in L.bprobes]
        uncertain = set(L.uncertain_sessions)
    with conn.cursor() as cur:
        cur.execute('SELECT email, id::text FROM taskauth.users')
        have = dict(cur.fetchall())
        total['accounts'] = len(users)
        lost['accounts'] = sum(1 for e, i in users.items() if have.get(e) != i)

        cur.execute('SELECT id::text, ended_at IS NOT NULL FROM taskauth.sessions')
        have_s = dict(cur.fetchall())
        cur.execute('SELECT session_id::text FROM taskauth.revocations WHERE session_id IS NOT NULL')
        revoked_s = {r[0] for r in cur.fetchall()}
        total['sessions'] = len(sessions)
        lost['sessions'] = sum(1 for s in sessions if s not in have_s)
        total['sign-outs'] = len(ended)
        lost['sign-outs'] = sum(1 for s in ended if not (have_s.get(s) or s in revoked_s))

        cur.execute('SELECT user_id::text FROM taskauth.revocations WHERE session_id IS NULL')
        revoked_u = {r[0] for r in cur.fetchall()}
        total['user revocations'] = len(revoked_users)
        lost['user revocations'] = len(revoked_users - revoked_u)

        # a rotation is kept when the session's stored generation reached the one the client holds
        cur.execute('SELECT id::text, refresh_generation FROM taskauth.sessions')
        have_g = dict(cur.fetchall())
        rot = lost_rot = 0
        for sid, s in sessions.items():
            if sid in uncertain:
                continue
            rot += len(s['spent'])
            if s['spent']:
                lost_rot += max(0, generation_of(s['refresh']) - (have_g.get(sid) or 0))
        total['refresh rotations'] = rot
        lost['refresh rotations'] = lost_rot

        cur.execute('SELECT id::text, user_id::text, title, is_completed FROM taskauth.tasks')
        have_t = {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
        total['tasks'] = len(tasks)
        lost['tasks'] = sum(1 for i, t in tasks.items()
                            if have_t.get(i) is None or have_t[i][:2] != t[:2] or (t[2] and not have_t[i][2]))

        total['throttle counts'] = sum(t['answered'] for t in throttle.values())
        bad = []
        lost_counts = 0
        for email, t in throttle.items():
            cur.execute('SELECT failures, locked_until > now() FROM taskauth.login_throttle '
                        'WHERE key = taskauth.login_throttle_key(%s)', (email,))
            r = cur.fetchone() or (0, False)
            if r[0] < t['answered']:
                lost_counts += t['answered'] - r[0]
            if r[0] > t['answered'] + t['uncertain'] or (t['locked'] and not r[1]):
                bad.append((email, t, r))
        lost['throttle counts'] = lost_counts
        total['throttle locks'] = sum(1 for t in throttle.values() if t['locked'])
        lost['throttle locks'] = sum(1 for e, t, r in bad if t['locked'] and not r[1])

        cur.execute('SELECT id FROM public.ha_probe')
        have_p = {r[0] for r in cur.fetchall()}
        total['probe writes'] = len(probes)
        lost['probe writes'] = sum(1 for p in probes if p not in have_p)
        if bprobes:
            total['probe writes through pgbouncer'] = len(bprobes)
            lost['probe writes through pgbouncer'] = sum(1 for p in bprobes if p not in have_p)
    print('# %s: committed writes checked on the new primary: %s' %
          (label, ', '.join('%s %d' % kv for kv in total.items())), flush=True)
    return lost, total, bad


def throttle_answers(L):
    with L.lock:
        return sum(t['answered'] for t in L.throttle.values()), sum(1 for t in L.throttle.values() if t['locked'])


def writable_gap(L, old_port, new_port, t_fail, t_down):
    """Seconds from the last probe write committed on the old primary (before t_down, when the
    failure was complete) to the first committed on the new primary after t_fail."""
    with L.lock:
        probes = list(L.probes)
    before = [t for t, _, port in probes if port == old_port and t <= t_down]
    if not before:
        return None
    after = [t for t, _, port in probes if port == new_port and t > max(before[-1], t_fail)]
    return after[0] - before[-1] if after else None


def events(label):
    """The monitor's last events, as TAP comments: the failover's own timeline."""
    try:
        out = ha.autoctl('show', 'events', '--pgdata', os.path.join(ha.dir, 'monitor'), '--count', '14')
    except RuntimeError as e:
        out = str(e)
    print('# %s: the monitor\'s events:' % label, flush=True)
    for line in out.splitlines():
        if line.strip():
            print('#   ' + line.rstrip()[:150], flush=True)


def failover(kind, mode, old_primary, standby):
    """One failure under load: mode 'node' (kill -9 of the primary's pg_autoctl and postmaster),
    'postmaster' (kill -9 of its postmaster alone) or 'switchover'. Returns its figures."""
    nodes = {'node1': ha.node_port(1), 'node2': ha.node_port(2)}
    L = Ledger()
    # the cached backends: API sessions on the standby, which a failover promotes
    cached = [node_conn(nodes[standby], API) for _ in range(CACHED_BACKENDS)]
    tap(all(one(c, 'SELECT pg_is_in_recovery()') for c in cached),
        '%s: %d API backends open on the standby %s before the failure' % (kind, CACHED_BACKENDS, standby))
    app = start_app(nodes[old_primary]) if mode == 'node' and ha.bouncer else None
    load = Load(ha.uri, L, kind.split()[0], cached)
    load.start()
    time.sleep(LOAD_SECONDS)
    with L.lock:
        before = (len(L.users), len(L.sessions), len(L.revoked), len(L.tasks))
    answered, locked = throttle_answers(L)
    tap(before[1] > 0 and before[2] > 0 and before[3] > 0 and answered >= 5 and locked >= 1,
        '%s: the load committed sign-ups, sessions, revocations, tasks and throttled logins before '
        'the failure' % kind, (before, answered, locked))
    with L.lock:
        errors_before = collections.Counter(L.errors)
    t_fail = time.monotonic()
    if mode == 'node':
        killed = ha.kill_node(old_primary)
        t_down = time.monotonic()
        if app is not None:     # the app's user goes on at once, through the outage
            app.stdin.write('go\n')
            app.stdin.flush()
        tap(len(killed) >= 3, "%s: SIGKILL of %s's pg_autoctl service and postmaster (%d processes)"
            % (kind, old_primary, len(killed)))
    elif mode == 'postmaster':
        with open(os.path.join(ha.dir, old_primary, 'postmaster.pid')) as f:
            pm = int(f.readline())
        os.kill(pm, signal.SIGKILL)
        t_down = time.monotonic()
        tap(True, '%s: SIGKILL of %s\'s postmaster (pid %d), its pg_autoctl left running'
            % (kind, old_primary, pm))
    else:
        st, out = ha.block('ha-switchover', timeout=180)
        t_down = float('inf')
        tap(st == 0, "%s: the page's switchover block runs" % kind, out[-1500:])
    # the load goes on until a primary has taken writes again for a few seconds: the standby
    # after a failover, either node after the postmaster alone was killed
    targets = {nodes[standby]} if mode != 'postmaster' else set(nodes.values())
    t0 = time.monotonic()
    while time.monotonic() - t0 < 180:
        with L.lock:
            after = [t for t, _, port in L.probes if t > max(t_fail, t_down if t_down != float('inf') else 0)
                     and port in targets]
        if after and time.monotonic() - after[0] > 3:
            break
        time.sleep(0.2)
    load.stop()
    with L.lock:
        seen = L.errors - errors_before
    if mode == 'node':
        # the old primary is down: the survivor is primary alone (wait_primary)
        new_primary = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60 and new_primary is None:
            prim = [n for n, (rep, asg, _) in ha.state().items()
                    if rep == asg and rep in ('primary', 'wait_primary')]
            new_primary = prim[0] if prim else None
            if new_primary is None:
                time.sleep(0.5)
    else:
        new_primary = ha.wait_settled(timeout=180)
    print('# %s: states after: %s' % (kind, ha.state()), flush=True)
    events(kind)
    promoted = new_primary == standby
    new_port = nodes[new_primary] if new_primary else nodes[standby]
    gap = writable_gap(L, nodes[old_primary], new_port, t_fail, t_down)
    bgap = None
    if ha.bouncer:
        with L.lock:
            bprobes = list(L.bprobes)
            breconnects = L.breconnects
        bbefore = [t for t, _, port in bprobes if port == nodes[old_primary] and t <= t_down]
        bafter = [t for t, _, port in bprobes if port == new_port and bbefore and t > max(bbefore[-1], t_fail)]
        bgap = bafter[0] - bbefore[-1] if bbefore and bafter else None
        tap(bgap is not None,
            '%s: through pgbouncer, writes reach the new primary without a new connection string '
            '(%s s without one; the connection to pgbouncer opened again %d times)'
            % (kind, '%.1f' % bgap if bgap is not None else '?', breconnects),
            (len(bbefore), len(bprobes), breconnects))
    owner = node_conn(new_port)
    if mode == 'postmaster':
        tap(new_primary in nodes and one(owner, 'SELECT pg_is_in_recovery()') is False,
            '%s: the monitor reports %s primary (%s), and it is out of recovery'
            % (kind, new_primary, 'failed over' if promoted else "restarted in place by its pg_autoctl"),
            new_primary)
    else:
        tap(promoted and one(owner, 'SELECT pg_is_in_recovery()') is False,
            '%s: the monitor reports %s primary (was %s), and it is out of recovery'
            % (kind, standby, old_primary), new_primary)

    # committed writes lost
    lost, total, bad = check_writes(owner, L, kind)
    tap(sum(lost.values()) == 0 and all(total[k] > 0 for k in ('accounts', 'sessions', 'tasks', 'refresh rotations', 'throttle counts')),
        '%s: committed writes lost: %d (%s)' % (kind, sum(lost.values()),
                                               ', '.join('%s %d' % kv for kv in lost.items())),
        (dict(lost), dict(total), bad))
    tap(not bad, '%s: every throttled email holds between its answered failures and those plus '
        'the attempts cut off, and every lock a client saw still holds' % kind, bad)

    # tokens: revoked ones refused, live ones accepted, in the cached and in new backends
    with L.lock:
        revoked = list(dict.fromkeys(L.revoked))
        live = []
        for sid, s in L.sessions.items():
            if sid in L.ended_sessions or sid in L.uncertain_sessions or s['user'] in L.revoked_users \
                    or s['user'] in L.uncertain_users:
                continue
            live.append(s['access'][-1])
        cached_tokens = set(L.cached)
    if promoted:
        tap(all(one(c, 'SELECT pg_is_in_recovery()') is False for c in cached),
            '%s: the %d backends opened on the standby before the failure are backends of the new '
            'primary now' % (kind, len(cached)))
    else:
        tap(all(one(c, 'SELECT pg_is_in_recovery()') is True for c in cached),
            '%s: no failover: the %d backends opened on the standby are still the standby\'s '
            '(checked there after replay)' % (kind, len(cached)))
        lsn = one(owner, 'SELECT pg_current_wal_insert_lsn()::text')
        wait = time.monotonic()
        while time.monotonic() - wait < 60 and not one(cached[0], 'SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn', (lsn,)):
            time.sleep(0.1)
    fresh = [node_conn(new_port, API) for _ in range(FRESH_BACKENDS)]
    accepted = refused_live = 0
    for c in cached + fresh:
        for tok in revoked:
            if auth(c, tok) != 'SQLSTATE 28000':
                accepted += 1
        for tok in live:
            got = auth(c, tok)
            if not got or got.startswith('SQLSTATE'):
                refused_live += 1
    n_cached_revoked = sum(1 for t in revoked if t in cached_tokens)
    tap(accepted == 0 and len(revoked) > 0,
        '%s: revoked tokens accepted after the failure: %d (%d revoked tokens, %d of them cached '
        'before the revocation, x %d backends)' % (kind, accepted, len(revoked), n_cached_revoked,
                                                  len(cached) + len(fresh)))
    tap(refused_live == 0 and len(live) > 0,
        '%s: live tokens refused after the failure: %d (%d tokens x %d backends)'
        % (kind, refused_live, len(live), len(cached) + len(fresh)))

    # spent refresh tokens: each presented once, after everything else (a replay ends its session)
    with L.lock:
        spent = [t for sid, s in L.sessions.items() if sid not in L.uncertain_sessions for t in s['spent']]
    api = node_conn(new_port, API)
    worked = 0
    codes = collections.Counter()
    for tok in spent:
        try:
            one(api, 'SELECT count(*) FROM taskauth.refresh(%s)', (tok,))
            worked += 1
        except psycopg2.Error as e:
            codes[e.pgcode] += 1
    tap(worked == 0 and len(spent) > 0,
        '%s: spent refresh tokens that work after the failure: %d of %d (refused: %s)'
        % (kind, worked, len(spent), dict(codes)))
    for c in cached + fresh + [api, owner]:
        c.close()
    if app is not None:
        check_app(app, kind)
    figures = {'lost': sum(lost.values()), 'accepted': accepted, 'spent_worked': worked,
               'gap': gap, 'seen': dict(seen), 'totals': dict(total), 'primary': new_primary,
               'bouncer_gap': bgap}
    print('# %s: seconds without a writable primary (last probe write on the old primary to the '
          'first on the new one): %s' % (kind, '%.1f' % gap if gap is not None else 'unknown'), flush=True)
    print('# %s: what the clients saw from the failure on: %s' % (kind, json.dumps(dict(seen), sort_keys=True)),
          flush=True)
    figures['ledger'] = L
    return figures


def start_app(primary_port):
    """The example app, its database on the primary, its connections through pgbouncer, a user
    signed in with a task (lib/failover_app.mjs); the process, once it said it is ready."""
    env = dict(os.environ, PGHOST='127.0.0.1', PGPORT=str(primary_port), PGUSER='postgres',
               PGDATABASE='app')
    env.pop('PGPASSWORD', None)
    p = subprocess.Popen(['node', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib', 'failover_app.mjs'),
                          'ha_task_app', str(ha.bouncer)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env)
    line = p.stdout.readline().strip()
    tap(line == 'ready', 'the example app runs with both its connections through pgbouncer: a user '
        'signed up and wrote a task over HTTP', line + (p.stdout.read() if line != 'ready' else ''))
    return p if line == 'ready' else None


def check_app(p, kind):
    """What the app saw from the failure on (it was told to go on when the primary was killed):
    the same app process, cookie and token, through pgbouncer."""
    try:
        out, _ = p.communicate(timeout=200)
        got = json.loads(out.strip().splitlines()[-1])
    except Exception as e:  # the app's report is the test
        p.kill()
        tap(False, '%s: the example app reported after the failure' % kind, repr(e))
        return
    tap(got.get('exited') is None and got.get('sameUser') and got.get('after') == 'ok'
        and got.get('titles') == ['after the failover', 'before the failover']
        and got.get('cookieStillSignedIn'),
        '%s: the example app came back without a restart: the same token answered as the same user '
        '%.1f s after the kill, wrote a task, read both back, and the session cookie still gets a token'
        % (kind, got.get('secondsUntilAnswered') or -1), json.dumps(got)[:3000])
    print('# %s: the example app\'s failed requests (every 250 ms) before it answered again: %s'
          % (kind, json.dumps(got.get('failedRequests'), sort_keys=True)), flush=True)


def standby_loss(primary, standby):
    """kill -9 of the synchronous standby's node under load: commits wait for it until the
    monitor turns synchronous replication off; nothing committed is lost on the primary."""
    port = ha.node_port(int(primary[-1]))
    L = Ledger()
    load = Load(ha.uri, L, 'standby', [])
    load.start()
    time.sleep(LOAD_SECONDS / 2)
    with L.lock:
        errors_before = collections.Counter(L.errors)
    t_fail = time.monotonic()
    killed = ha.kill_node(standby)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        with L.lock:
            stalled = [t for t, _, _ in L.probes if t > t_fail]
        if stalled and time.monotonic() - stalled[0] > 3:
            break
        time.sleep(0.2)
    load.stop()
    with L.lock:
        seen = L.errors - errors_before
        times = sorted(t for t, _, p in L.probes if p == port)
    # the longest wait between two probe commits, the later one after the kill (a probe in
    # flight at the kill may commit at once: the kill takes a moment to be noticed)
    gaps = [b - a for a, b in zip(times, times[1:]) if b > t_fail]
    stall = max(gaps) if gaps else None
    events('standby kill -9')
    owner = node_conn(port)
    names = one(owner, 'SHOW synchronous_standby_names')
    lost, total, bad = check_writes(owner, L, 'standby kill -9')
    owner.close()
    tap(len(killed) >= 3 and stall is not None and names == '' and sum(lost.values()) == 0 and not bad,
        'standby kill -9: %s stays primary, its commits wait until the monitor turns synchronous '
        'replication off (%s s), and nothing committed is lost' % (primary, '%.1f' % stall if stall else '?'),
        (len(killed), stall, names, dict(lost), bad))
    print('# standby kill -9: seconds writes waited for the lost standby: %s; clients saw %s'
          % ('%.1f' % stall if stall else '?', json.dumps(dict(seen), sort_keys=True)), flush=True)
    return stall


def run():
    global ha
    ha = Formation()
    st, out = ha.block('ha-monitor', timeout=120)
    tap(st == 0, "the page's monitor block runs (as %s, in a private directory)" % ha.owner.pw_name,
        out[-2000:])
    st, out = ha.block('ha-nodes', timeout=300)
    tap(st == 0, "the page's nodes block runs: two nodes registered, one primary, one secondary",
        out[-2000:] + ha.log_tail('node1') + ha.log_tail('node2'))
    if st != 0:
        raise RuntimeError('no formation')
    first = ha.wait_settled()
    tap(first == 'node1', 'the monitor reports node1 primary and node2 secondary', ha.state())

    p1 = ha.node_port(1)
    sql = doc_block('ha-extension')
    env = dict(os.environ, PGHOST='127.0.0.1', PGPORT=str(p1), PGUSER='postgres', PGDATABASE='app')
    for k in ('PGPASSWORD', 'PGSERVICE', 'PGSSLMODE'):
        env.pop(k, None)
    p = subprocess.run([os.path.join(ha.bin, 'psql'), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'],
                       input=sql, env=env, capture_output=True, text=True)
    want = 'max_worker_processes|16\nsynchronous_commit|on\nsynchronous_standby_names|ANY 1 (pgautofailover_standby_2)\n'
    tap(p.returncode == 0 and p.stdout == want,
        "the page's extension block runs on the primary: max_worker_processes 16, synchronous_commit "
        "on, the standby synchronous", p.stdout + p.stderr)

    st, out = ha.block('ha-uri')
    uri = [w for w in out.split() if w.startswith('postgres://') and 'target_session_attrs=read-write' in w
           and ',' in w]
    tap(st == 0 and len(uri) == 1, "the page's uri block prints a multi-host read-write string", out)
    ha.uri = uri[0]

    ha.bouncer = None
    st, out = ha.block('ha-pgbouncer')
    t0 = time.monotonic()
    followed = ''
    while time.monotonic() - t0 < 30 and 'port=%d' % p1 not in followed:
        time.sleep(0.2)
        try:
            with open(os.path.join(ha.dir, 'follow.log')) as f:
                followed = f.read()
        except OSError:
            pass
    via = None
    if st == 0 and 'port=%d' % p1 in followed:
        ha.bouncer = ha.port + 3
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and via is None:
            try:
                c = psycopg2.connect(host='127.0.0.1', port=ha.bouncer, user='postgres', dbname='app',
                                     connect_timeout=2)
                via = one(c, 'SELECT inet_server_port()')
                c.close()
            except psycopg2.Error:
                time.sleep(0.2)
    tap(via == p1, "the page's pgbouncer block runs: pgbouncer leads to the primary, node1",
        (st, out, followed, via))

    adm = node_conn(p1)
    one(adm, 'CREATE ROLE %s LOGIN' % API)
    one(adm, 'SELECT taskauth.grant_api_access(%s::regrole)', (API,))
    one(adm, "SELECT taskauth.add_signing_key(%s)", ('failover-key-'.ljust(40, 'k'),))
    one(adm, 'ALTER DATABASE app SET taskauth.bcrypt_cost = 4')
    # locks outlast the test, so that a lock a client saw must still hold after each failover
    one(adm, "ALTER DATABASE app SET taskauth.login_throttle_lock = '1h'")
    one(adm, 'CREATE TABLE public.ha_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())')
    rep = one(adm, "SELECT string_agg(application_name || ':' || sync_state, ',') FROM pg_stat_replication")
    adm.close()
    tap(rep == 'pgautofailover_standby_2:quorum',
        'the primary streams to node2 synchronously (pg_stat_replication: quorum)', rep)

    figs = {}
    figs['kill'] = failover('kill -9', 'node', 'node1', 'node2')

    # node1 comes back as the standby: the page's rejoin block
    st, out = ha.block('ha-rejoin')
    tap(st == 0, "the page's rejoin block runs", out)
    t0 = time.monotonic()
    prim = ha.wait_settled(timeout=240)
    print('# node1 back as the standby in %.1f s (pg_rewind)' % (time.monotonic() - t0), flush=True)
    adm = node_conn(ha.node_port(2))
    rep = one(adm, "SELECT string_agg(application_name || ':' || sync_state, ',') FROM pg_stat_replication")
    adm.close()
    tap(prim == 'node2' and rep == 'pgautofailover_standby_1:quorum',
        'node1 rejoined as a synchronous standby of node2', (prim, rep))

    figs['switchover'] = failover('switchover', 'switchover', 'node2', 'node1')
    adm = node_conn(ha.node_port(1))
    lost, total, _ = check_writes(adm, figs['kill']['ledger'], 'kill -9 writes after the switchover')
    adm.close()
    tap(sum(lost.values()) == 0, 'the writes committed around the kill are all still there after '
        'the switchover: %d lost' % sum(lost.values()), dict(lost))

    # the postmaster alone, its pg_autoctl left running
    figs['postmaster'] = failover('postmaster kill -9', 'postmaster', 'node1', 'node2')

    # the synchronous standby lost: writes wait for it, then go on without it
    stall = standby_loss(figs['postmaster']['primary'] or 'node1',
                         'node2' if (figs['postmaster']['primary'] or 'node1') == 'node1' else 'node1')

    for k, f in figs.items():
        print('# figures, %s: writes lost %d, revoked tokens accepted %d, spent refresh tokens '
              'working %d, seconds without a writable primary %s (through pgbouncer %s), clients saw %s'
              % (k, f['lost'], f['accepted'], f['spent_worked'],
                 '%.1f' % f['gap'] if f['gap'] is not None else '?',
                 '%.1f' % f['bouncer_gap'] if f['bouncer_gap'] is not None else '?',
                 json.dumps(f['seen'], sort_keys=True)),
              flush=True)
    print('# figures, standby lost: writes waited %s s' % ('%.1f' % stall if stall else '?'), flush=True)


def main():
    if not shutil.which('pg_autoctl'):
        print('Bail out! pg_autoctl is not installed (test/install-deps installs '
              'postgresql-NN-auto-failover)', flush=True)
        sys.exit(1)

    def on_signal(signum, frame):
        if ha is not None:
            ha.kill_all()
            shutil.rmtree(ha.dir, ignore_errors=True)
        print('Bail out! killed by signal %d' % signum, flush=True)
        os._exit(1)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = time.monotonic()
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
        if ha is not None:
            for n in ('monitor', 'node1', 'node2'):
                print('# %s:\n%s' % (n, ''.join('#   ' + l for l in ha.log_tail(n, 40).splitlines(True))),
                      flush=True)
    finally:
        if ha is not None:
            killed = ha.stop()
            for pid, cmd in killed:
                print('# still running after the stop block, killed: %d %s' % (pid, cmd), flush=True)
            tap(not ha._leftovers(), "everything stopped (the page's stop block; %d processes "
                "had to be killed after it)" % len(killed), killed)
    print('# the whole file took %.0f s' % (time.monotonic() - t0), flush=True)
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
