#!/usr/bin/python3
"""Transaction pooling: identity never leaks between transactions sharing a server connection.

Starts a real pgbouncer (pool_mode = transaction, default_pool_size = 2) in front of the
cluster named by the PG* environment, then runs several clients (threads) that interleave
authenticated users, anonymous requests, bad tokens and cross-user attempts for thousands of
transactions. Every transaction checks that it starts anonymous and sees only its own rows.
Emits TAP.
"""
import atexit
import concurrent.futures
import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2
import psycopg2.errors

CLIENTS = 8             # concurrent clients (threads)
TXNS_PER_CLIENT = 2500  # transactions each; 20000 in all
USERS = 6
SEEDED_TASKS = 5        # per user, inserted before the clients start
POOL_SIZE = 2
PASSWORD = 'correct horse battery staple'
# what row-level security answers a write it refuses: "new row violates row-level security policy"
RLS_REFUSED = '42501'

tag = 'ta_pool_%d' % os.getpid()
DB = tag
API_ROLE = tag + '_api'
API_PASSWORD = 'pool-api-' + os.urandom(8).hex()

tests = []
workdir = None
bouncer = None


def tap(ok, name, diag=None):
    """Record one TAP result and print it."""
    tests.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(tests), name), flush=True)
    if not ok and diag:
        for line in str(diag).splitlines():
            print('# ' + line, flush=True)


def bail(msg):
    """Stop the run: TAP "Bail out!" and a non-zero exit (cleanup runs via atexit)."""
    print('Bail out! ' + msg.replace('\n', ' '), flush=True)
    sys.exit(1)


def admin(dbname=None):
    """A superuser connection straight to the cluster (not through pgbouncer)."""
    conn = psycopg2.connect(dbname=dbname or os.environ.get('PGDATABASE', 'postgres'))
    conn.autocommit = True
    return conn


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cleanup():
    """Stop pgbouncer, drop the test database and role, remove the work directory."""
    global bouncer
    if bouncer is not None and bouncer.poll() is None:
        bouncer.terminate()
        try:
            bouncer.wait(10)
        except subprocess.TimeoutExpired:
            bouncer.kill()
            bouncer.wait()
    bouncer = None
    try:
        with contextlib.closing(admin()) as c, c.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
            cur.execute('DROP ROLE IF EXISTS %s' % API_ROLE)
    except Exception as e:  # cleanup must not hide the real result
        print('# cleanup: %s' % e, flush=True)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


# set on SIGTERM/SIGINT: the client threads stop at their next transaction
stopping = threading.Event()


def on_signal(signum, frame):
    """Turn SIGTERM/SIGINT into a normal exit so atexit cleanup runs, once the clients stop."""
    stopping.set()
    sys.exit(128 + signum)


def setup_database():
    """Create the database, the API role, users with tokens and seeded tasks."""
    with contextlib.closing(admin()) as c, c.cursor() as cur:
        cur.execute('CREATE DATABASE %s' % DB)
        cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % API_ROLE, (API_PASSWORD,))
    conn = admin(DB)
    cur = conn.cursor()
    cur.execute('CREATE EXTENSION taskauth CASCADE')
    cur.execute('SELECT taskauth.add_signing_key(%s)', (os.urandom(32).hex(),))
    cur.execute('SELECT taskauth.grant_api_access(%s::regrole)', (API_ROLE,))
    # A low cost keeps setup fast; it is the same bcrypt either way.
    cur.execute('SET taskauth.bcrypt_cost = 4')
    users = []
    for i in range(USERS):
        email = 'pool-user-%d@example.com' % i
        cur.execute('SELECT taskauth.register(%s, %s)', (email, PASSWORD))
        uid = cur.fetchone()[0]
        cur.execute('SELECT taskauth.login(%s, %s)', (email, PASSWORD))
        token = cur.fetchone()[0]
        cur.execute('INSERT INTO taskauth.tasks (user_id, title) '
                    "SELECT %s, 'seeded ' || g FROM generate_series(1, %s) g RETURNING id",
                    (uid, SEEDED_TASKS))
        ids = sorted(r[0] for r in cur.fetchall())
        users.append({'id': uid, 'email': email, 'token': token, 'seeded': ids})
    conn.close()
    return users


def start_pgbouncer():
    """Start pgbouncer on a free loopback port in transaction mode; return its port."""
    global workdir, bouncer
    workdir = tempfile.mkdtemp(prefix='ta-pgbouncer-')
    port = free_port()
    server_port = os.environ.get('PGPORT', '5432')
    ini = os.path.join(workdir, 'pgbouncer.ini')
    users = os.path.join(workdir, 'userlist.txt')
    with open(ini, 'w') as f:
        f.write('[databases]\n'
                '%s = host=127.0.0.1 port=%s dbname=%s\n'
                '[pgbouncer]\n'
                'listen_addr = 127.0.0.1\n'
                'listen_port = %d\n'
                'unix_socket_dir =\n'
                'auth_type = scram-sha-256\n'
                'auth_file = %s\n'
                'pool_mode = transaction\n'
                'default_pool_size = %d\n'
                'min_pool_size = 0\n'
                'reserve_pool_size = 0\n'
                'max_client_conn = 100\n'
                'server_reset_query =\n'
                'ignore_startup_parameters = extra_float_digits\n'
                'logfile = %s\n'
                'pidfile = %s\n'
                % (DB, server_port, DB, port, users, POOL_SIZE,
                   os.path.join(workdir, 'pgbouncer.log'),
                   os.path.join(workdir, 'pgbouncer.pid')))
    with open(users, 'w') as f:
        f.write('"%s" "%s"\n' % (API_ROLE, API_PASSWORD))
    cmd = ['pgbouncer', ini]
    if os.geteuid() == 0:
        # pgbouncer refuses to run as root; the files must belong to the user it runs as.
        pw = pwd.getpwnam('postgres')
        for p in (workdir, ini, users):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(workdir, 0o700)
        cmd = ['runuser', '-u', 'postgres', '--'] + cmd
    os.chmod(users, 0o600)
    bouncer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 15
    while time.time() < deadline:
        if bouncer.poll() is not None:
            break
        try:
            c = bouncer_connect(port)
            c.close()
            return port
        except psycopg2.OperationalError:
            time.sleep(0.2)
    log = ''
    try:
        with open(os.path.join(workdir, 'pgbouncer.log')) as f:
            log = f.read()[-2000:]
    except OSError:
        pass
    bail('pgbouncer did not start: ' + log)


def listening(port):
    """Whether something accepts TCP connections on the loopback port."""
    try:
        socket.create_connection(('127.0.0.1', port), timeout=2).close()
        return True
    except OSError:
        return False


def bouncer_connect(port):
    """A client connection to the API role through pgbouncer."""
    return psycopg2.connect(host='127.0.0.1', port=port, dbname=DB, user=API_ROLE,
                            password=API_PASSWORD, connect_timeout=5)


def tamper(token, rng):
    """A token that must not verify: a flipped signature character, or a rewritten payload."""
    h, p, s = token.split('.')
    if rng.random() < 0.5:
        i = rng.randrange(len(s) - 1)  # the last char also carries padding bits: skip it
        s = s[:i] + ('A' if s[i] != 'A' else 'B') + s[i + 1:]
        return '.'.join((h, p, s))
    return '.'.join((h, p[:-2] + ('AA' if p[-2:] != 'AA' else 'BB'), s))


def client(args):
    """One client (a thread): TXNS_PER_CLIENT transactions of mixed kinds; returns its tallies."""
    cid, port, users = args
    rng = random.Random(1000 + cid)
    st = {k: 0 for k in (
        'txns', 'start_not_anonymous', 'user_txns', 'foreign_rows', 'seeded_missing',
        'users_row_wrong', 'wrong_sub', 'anon_txns', 'anon_rows', 'anon_insert_allowed',
        'anon_insert_wrong_sqlstate', 'bad_tokens', 'bad_token_accepted',
        'bad_token_wrong_sqlstate', 'inserts', 'insert_wrong_owner', 'cross_attempts',
        'cross_changed', 'plant_allowed', 'plant_wrong_sqlstate', 'rollback_txns',
        'unexpected_errors')}
    st['pids'] = []
    st['inserted'] = {}
    st['errors'] = []
    # a few refusals of each kind that were not row-level security's
    st['refusals'] = {'anonymous insert': [], 'plant': [], 'move': []}

    def refused(e, what):
        """Whether e is row-level security's refusal; notes it when it is not."""
        if e.pgcode == RLS_REFUSED:
            return True
        if len(st['refusals'][what]) < 2:
            st['refusals'][what].append('%s: %s %s' % (what, e.pgcode, str(e).strip()))
        return False

    conn = bouncer_connect(port)
    cur = conn.cursor()

    def unexpected(e):
        st['unexpected_errors'] += 1
        if len(st['errors']) < 5:
            st['errors'].append('%s: %s' % (type(e).__name__, str(e).strip()))
        conn.rollback()

    for n in range(TXNS_PER_CLIENT):
        if stopping.is_set():
            break
        st['txns'] += 1
        me = rng.choice(users)
        kind = rng.choices(['list', 'insert', 'cross', 'anon', 'bad', 'rollback'],
                           [40, 15, 10, 15, 12, 8])[0]
        try:
            # The first statement of every transaction, whoever used the server connection last.
            cur.execute('SELECT taskauth.current_user_id(), taskauth.claims(), pg_backend_pid()')
            sub, claims, pid = cur.fetchone()
            if sub is not None or claims is not None:
                st['start_not_anonymous'] += 1
            st['pids'].append(pid)

            if kind in ('list', 'insert', 'cross', 'rollback'):
                st['user_txns'] += 1
                cur.execute('SELECT taskauth.authenticate(%s)', (me['token'],))
                got = cur.fetchone()[0]
                cur.execute('SELECT taskauth.current_user_id()')
                if got != me['id'] or cur.fetchone()[0] != me['id']:
                    st['wrong_sub'] += 1

            if kind == 'list':
                cur.execute('SELECT id, user_id FROM taskauth.tasks')
                rows = cur.fetchall()
                st['foreign_rows'] += sum(1 for r in rows if r[1] != me['id'])
                if not set(me['seeded']) <= {r[0] for r in rows}:
                    st['seeded_missing'] += 1
                cur.execute('SELECT id, email FROM taskauth.users')
                if cur.fetchall() != [(me['id'], me['email'])]:
                    st['users_row_wrong'] += 1
                if rng.random() < 0.5:
                    conn.commit()
                else:
                    conn.rollback()
            elif kind == 'insert':
                cur.execute('INSERT INTO taskauth.tasks (title) VALUES (%s) RETURNING id, user_id',
                            ('client %d txn %d' % (cid, n),))
                tid, owner = cur.fetchone()
                st['inserts'] += 1
                if owner != me['id']:
                    st['insert_wrong_owner'] += 1
                conn.commit()
                st['inserted'].setdefault(me['id'], []).append(tid)
            elif kind == 'cross':
                st['cross_attempts'] += 1
                other = rng.choice([u for u in users if u is not me])
                victim = rng.choice(other['seeded'])
                cur.execute("UPDATE taskauth.tasks SET title = 'taken' WHERE id = %s", (victim,))
                changed = cur.rowcount
                cur.execute('DELETE FROM taskauth.tasks WHERE id = %s', (victim,))
                changed += cur.rowcount
                st['cross_changed'] += changed
                cur.execute('SAVEPOINT plant')
                try:
                    cur.execute("INSERT INTO taskauth.tasks (user_id, title) VALUES (%s, 'planted')",
                                (other['id'],))
                    st['plant_allowed'] += 1
                except psycopg2.Error as e:
                    st['plant_wrong_sqlstate'] += not refused(e, 'plant')
                    cur.execute('ROLLBACK TO SAVEPOINT plant')
                try:
                    cur.execute('UPDATE taskauth.tasks SET user_id = %s WHERE id = %s',
                                (other['id'], me['seeded'][0]))
                    st['plant_allowed'] += 1
                except psycopg2.Error as e:
                    st['plant_wrong_sqlstate'] += not refused(e, 'move')
                conn.rollback()
            elif kind == 'anon':
                st['anon_txns'] += 1
                cur.execute('SELECT (SELECT count(*) FROM taskauth.tasks) + '
                            '(SELECT count(*) FROM taskauth.users)')
                st['anon_rows'] += cur.fetchone()[0]
                try:
                    cur.execute("INSERT INTO taskauth.tasks (title) VALUES ('anonymous')")
                    st['anon_insert_allowed'] += 1
                except psycopg2.Error as e:
                    st['anon_insert_wrong_sqlstate'] += not refused(e, 'anonymous insert')
                conn.rollback()
            elif kind == 'bad':
                st['bad_tokens'] += 1
                try:
                    cur.execute('SELECT taskauth.authenticate(%s)', (tamper(me['token'], rng),))
                    st['bad_token_accepted'] += 1
                except psycopg2.Error as e:
                    if e.pgcode != '28000':
                        st['bad_token_wrong_sqlstate'] += 1
                conn.rollback()
            elif kind == 'rollback':
                # Identity set, then the transaction fails: the next one must start anonymous.
                st['rollback_txns'] += 1
                try:
                    cur.execute('SELECT 1 / 0')
                except psycopg2.errors.DivisionByZero:
                    pass
                conn.rollback()
        except psycopg2.Error as e:
            unexpected(e)
    conn.close()
    return st


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(cleanup)
    print('1..13', flush=True)
    try:
        users = setup_database()
    except psycopg2.Error as e:
        bail('setup failed: %s' % str(e).strip())
    tap(len(users) == USERS and all(u['token'].count('.') == 2 for u in users),
        'setup: %d users registered and logged in, %d tasks each' % (USERS, SEEDED_TASKS))

    port = start_pgbouncer()
    c = bouncer_connect(port)
    with c.cursor() as cur:
        cur.execute("SELECT current_setting('port')")
        server_port = cur.fetchone()[0]
    c.close()
    tap(server_port == os.environ.get('PGPORT', '5432'),
        'pgbouncer up on 127.0.0.1:%d (pool_mode = transaction, pool size %d) in front of the '
        'test cluster' % (port, POOL_SIZE))

    start = time.time()
    # Threads, not forked processes: a process forked while another thread holds a lock can
    # hang forever (seen here once in a fork pool). psycopg2 releases the GIL while it waits.
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, (i, port, users)) for i in range(CLIENTS)]
        # bounded, so that a stuck client fails the test instead of stalling the run
        results = [f.result(timeout=600) for f in futures]
    elapsed = time.time() - start
    tot = {}
    for r in results:
        for k, v in r.items():
            if isinstance(v, int):
                tot[k] = tot.get(k, 0) + v
    print('# %d transactions from %d clients in %.1f s (%d user, %d anonymous, %d bad token, '
          '%d cross-user, %d rolled back after an error)'
          % (tot['txns'], CLIENTS, elapsed, tot['user_txns'], tot['anon_txns'],
             tot['bad_tokens'], tot['cross_attempts'], tot['rollback_txns']), flush=True)

    errs = [e for r in results for e in r['errors']]

    def refusals(*kinds):
        """A few of the clients' refusals of those kinds that were not row-level security's."""
        return '\n'.join(e for k in kinds
                         for e in [e for r in results for e in r['refusals'][k]][:2])

    tap(tot['unexpected_errors'] == 0 and tot['txns'] == CLIENTS * TXNS_PER_CLIENT,
        'all %d transactions ran without unexpected errors' % (CLIENTS * TXNS_PER_CLIENT),
        '%d unexpected errors, e.g.\n%s' % (tot['unexpected_errors'], '\n'.join(errs)))

    # Non-vacuity: the server backends really were shared between the clients.
    pid_clients = {}
    for i, r in enumerate(results):
        for p in r['pids']:
            pid_clients.setdefault(p, set()).add(i)
    shared = sum(1 for s in pid_clients.values() if len(s) > 1)
    tap(0 < len(pid_clients) <= POOL_SIZE and shared > 0,
        'server connections were shared: %d backends served %d clients'
        % (len(pid_clients), CLIENTS),
        'backend pids and their clients: %r' % {p: sorted(s) for p, s in pid_clients.items()})

    tap(tot['start_not_anonymous'] == 0,
        'every transaction started anonymous (current_user_id() and claims() NULL)',
        '%d transactions started with an identity' % tot['start_not_anonymous'])
    tap(tot['wrong_sub'] == 0 and tot['user_txns'] > 0,
        'authenticate returned and set the token\'s own user (%d times)' % tot['user_txns'],
        '%d mismatches' % tot['wrong_sub'])
    tap(tot['foreign_rows'] == 0 and tot['seeded_missing'] == 0 and tot['users_row_wrong'] == 0,
        'users saw all their own tasks, no other user\'s tasks, only their own users row',
        'foreign rows %d, own seeded tasks missing %d, wrong users rows %d'
        % (tot['foreign_rows'], tot['seeded_missing'], tot['users_row_wrong']))
    tap(tot['anon_rows'] == 0 and tot['anon_insert_allowed'] == 0
        and tot['anon_insert_wrong_sqlstate'] == 0 and tot['anon_txns'] > 0,
        'anonymous transactions saw no rows and could not insert: row-level security refused it '
        '(%s) (%d)' % (RLS_REFUSED, tot['anon_txns']),
        'rows seen %d, inserts allowed %d, refused otherwise %d\n%s'
        % (tot['anon_rows'], tot['anon_insert_allowed'], tot['anon_insert_wrong_sqlstate'],
           refusals('anonymous insert')))
    tap(tot['bad_token_accepted'] == 0 and tot['bad_token_wrong_sqlstate'] == 0
        and tot['bad_tokens'] > 0,
        'tampered tokens refused with SQLSTATE 28000 (%d)' % tot['bad_tokens'],
        'accepted %d, other SQLSTATE %d'
        % (tot['bad_token_accepted'], tot['bad_token_wrong_sqlstate']))
    tap(tot['cross_changed'] == 0 and tot['plant_allowed'] == 0
        and tot['plant_wrong_sqlstate'] == 0 and tot['cross_attempts'] > 0,
        'cross-user update/delete touched nothing; planting or moving a task was refused by '
        'row-level security (%s) (%d)' % (RLS_REFUSED, tot['cross_attempts']),
        'rows changed %d, plants allowed %d, refused otherwise %d\n%s'
        % (tot['cross_changed'], tot['plant_allowed'], tot['plant_wrong_sqlstate'],
           refusals('plant', 'move')))

    # Final state, read as superuser straight from the server.
    expected = {u['id']: set(u['seeded']) for u in users}
    for r in results:
        for uid, ids in r['inserted'].items():
            expected[uid].update(ids)
    with contextlib.closing(admin(DB)) as c, c.cursor() as cur:
        cur.execute('SELECT user_id, id FROM taskauth.tasks')
        actual = {}
        for uid, tid in cur.fetchall():
            actual.setdefault(uid, set()).add(tid)
    tap(actual == expected and tot['insert_wrong_owner'] == 0 and tot['inserts'] > 0,
        'final table: each user owns exactly their seeded tasks and their %d committed inserts'
        % tot['inserts'],
        'owner mismatches on insert %d; table differs from expectation: %s'
        % (tot['insert_wrong_owner'],
           {str(k): (len(actual.get(k, ())), len(v)) for k, v in expected.items()}))

    # pgbouncer must still be healthy and have served the API role through its pool.
    alive = bouncer is not None and bouncer.poll() is None
    tap(alive, 'pgbouncer still running after the run')
    proc = bouncer
    cleanup()
    tap(proc.poll() is not None and not listening(port),
        'pgbouncer stopped: its process exited and its port refuses connections',
        'process exit status %s; port %d %s' % (
            proc.poll(), port, 'still accepts connections' if listening(port) else 'closed'))
    sys.exit(0 if all(tests) else 1)


if __name__ == '__main__':
    main()
