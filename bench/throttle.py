#!/usr/bin/python3
"""Benchmark: password guessing against one account through taskauth.login, with login
throttling off and on, and what a guessing attacker does to other users' logins.

Run by bench/throttle.sh inside a throwaway cluster (the PG* environment); prints Markdown.
Every guess goes through login() from an API role, as PostgREST would call it: role bench_off
has taskauth.login_throttle_threshold = 0, bench_on the defaults (5, 30 s doubling to 1 h),
bench_scaled the same rules scaled down (5, 1 s doubling to 8 s), each set with ALTER ROLE.
Accounts hash at the default bcrypt cost 12 (one at cost 4, to resolve what the worker adds).

1. Throttling off: guesses from one connection and from two parallel ones, in alternated rounds.
2. Throttling on: the lock schedule summed for 1,000 guesses at the defaults; the scaled-down
   schedule run for real by attackers that retry as soon as allowed (one connection, then two),
   against the same sum; and the latency of one failed login with throttling on vs off
   (alternated, paired), at cost 12 and at cost 4.
3. Logins of other users (distinct accounts, right password, one connection) with no attacker,
   with an attacker guessing as fast as it can with throttling off, and with one hammering a
   locked account with throttling on (PT429 answers), in alternated rounds.
   Then the worker alone: login_failed_detached() against the same count done in-session.
Settings through the environment (defaults in parentheses): GUESSES_OFF (100), ROUNDS_OFF (5),
SCALED_CHECKS (25), POLL_MS (10), LATENCY_ROUNDS (30), LATENCY_ROUNDS_COST4 (200),
OTHERS_ROUNDS (9), OTHERS_LOGINS (6).
"""
import contextlib
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time

import psycopg2

GUESSES_OFF = int(os.environ.get('GUESSES_OFF', 100))
ROUNDS_OFF = int(os.environ.get('ROUNDS_OFF', 5))
SCALED_CHECKS = int(os.environ.get('SCALED_CHECKS', 25))
POLL = int(os.environ.get('POLL_MS', 10)) / 1000
LATENCY_ROUNDS = int(os.environ.get('LATENCY_ROUNDS', 30))
LATENCY_ROUNDS_COST4 = int(os.environ.get('LATENCY_ROUNDS_COST4', 200))
OTHERS_ROUNDS = int(os.environ.get('OTHERS_ROUNDS', 9))
OTHERS_LOGINS = int(os.environ.get('OTHERS_LOGINS', 6))
ATTACK_WARMUP = 0.3  # seconds an attacker runs before other users' logins are timed
SERVER_LOG = os.environ.get('SERVER_LOG', '')  # the server's log file, when known

DB = 'ta_bench_throttle_%d' % os.getpid()
ROLE_PASSWORD = 'bench-' + os.urandom(8).hex()
RIGHT = 'the-right-password'
WRONG = 'a-wrong-guess'
DEFAULTS = {'threshold': 5, 'lock': 30, 'max_lock': 3600}
SCALED = {'threshold': 5, 'lock': 1, 'max_lock': 8}
USERS = 300  # other users, each logging in in turn
ROLES = ('bench_on', 'bench_off', 'bench_scaled', 'bench_on4', 'bench_off4')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def connect(role=None):
    kw = {'dbname': DB}
    if role:
        kw.update(user=role, password=ROLE_PASSWORD)
    c = psycopg2.connect(**kw)
    c.autocommit = True
    return c


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def login(cur, email, password):
    """'ok', or the SQLSTATE of the error."""
    try:
        cur.execute('SELECT taskauth.login(%s, %s)', (email, password))
        cur.fetchone()
        return 'ok'
    except psycopg2.Error as e:
        return e.pgcode


def expect(got, want, what):
    if got != want:
        raise RuntimeError('%s: expected %s, got %s' % (what, want, got))


def median(xs):
    return statistics.median(xs) if xs else float('nan')


def p95(xs):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))] if s else float('nan')


def lock_after(n, s):
    """The lock set by the n-th consecutive failure (record_login_failure), in seconds."""
    if n < s['threshold']:
        return 0
    return min(s['max_lock'], s['lock'] * 2 ** min(n - s['threshold'], 40))


def schedule(checks, k, s):
    """Seconds an attacker with k connections spends waiting on locks for `checks` password
    checks, if each lock lets exactly k checks through (all start before any is counted):
    the locks set by the last failure of each batch but the final one. Also how many locks."""
    wait, n, locks = 0, 0, 0
    while n < checks:
        n = min(checks, n + k)
        if n < checks and lock_after(n, s):
            wait += lock_after(n, s)
            locks += 1
    return wait, locks


def fmt_duration(sec):
    if sec < 120:
        return '%.1f s' % sec
    if sec < 2 * 3600:
        return '%.1f min' % (sec / 60)
    if sec < 2 * 86400:
        return '%.1f h' % (sec / 3600)
    return '%.1f days' % (sec / 86400)


def cpu_ms(pid):
    """On-CPU time of a process so far, in ms (/proc/<pid>/schedstat, first field in ns)."""
    with open('/proc/%d/schedstat' % pid) as f:
        return int(f.read().split()[0]) / 1e6


# An attacker: one process and one connection guessing WRONG for `email`. It stops after
# `guesses` attempts, or once the shared count of password checks reaches `checks`, or when
# `stop` is set; after each PT429 it waits `poll` seconds and tries again. It reports its
# answers: a list of (start, end, SQLSTATE) for the checked ones and a count of the rest.
def attacker(role, email, guesses, shared, checks, stop, ready, go, poll, out):
    try:
        conn = connect(role)
        cur = conn.cursor()
        pid = one(conn, 'SELECT pg_backend_pid()')
        cpu0, own0 = cpu_ms(pid), time.process_time()
        ready.put(True)
        go.wait()
        checked, refused, other, attempts = [], 0, {}, 0
        t_begin = time.monotonic()
        while not stop.is_set():
            if guesses is not None and attempts >= guesses:
                break
            if checks is not None and shared.value >= checks:
                break
            attempts += 1
            t0 = time.monotonic()
            code = login(cur, email, WRONG)
            t1 = time.monotonic()
            if code == '28P01':
                checked.append((t0, t1))
                if shared is not None:
                    with shared.get_lock():
                        shared.value += 1
            elif code == 'PT429':
                refused += 1
                if poll:
                    time.sleep(poll)
            else:
                other[code] = other.get(code, 0) + 1
        out.put({'checked': checked, 'refused': refused, 'other': other, 'begin': t_begin,
                 'end': time.monotonic(), 'server_cpu_ms': cpu_ms(pid) - cpu0,
                 'client_cpu_ms': 1000 * (time.process_time() - own0)})
        conn.close()
    except Exception as e:  # reported to the parent, which fails the run
        ready.put(False)
        out.put({'error': repr(e)})


def start_attackers(n, role, email, guesses=None, checks=None, poll=POLL):
    """Starts n attackers, each with its connection open, all waiting for go.set()."""
    ctx = mp.get_context('fork')
    shared = ctx.Value('i', 0)
    stop, go, ready, out = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=attacker,
                         args=(role, email, guesses, shared, checks, stop, ready, go, poll, out))
             for _ in range(n)]
    for p in procs:
        p.start()
    if not all(ready.get(timeout=60) for _ in procs):
        stop.set()
        go.set()
    return {'procs': procs, 'stop': stop, 'go': go, 'out': out}


def finish_attackers(a, stop=False):
    """Waits for the attackers (after telling them to stop) and returns their reports."""
    if stop:
        a['stop'].set()
    reports = [a['out'].get(timeout=3600) for _ in a['procs']]
    for p in a['procs']:
        p.join(60)
    for r in reports:
        if 'error' in r:
            raise RuntimeError('attacker failed: ' + r['error'])
        if r['other']:
            raise RuntimeError('attacker got unexpected answers: %r' % r['other'])
    return reports


def throttle_row(admin, email):
    with admin.cursor() as cur:
        cur.execute("SELECT failures, locked_until > clock_timestamp() FROM taskauth.login_throttle "
                    "WHERE key = sha256(convert_to(lower(btrim(%s)), 'UTF8'))", (email,))
        return cur.fetchone()


def forget(admin, email):
    one(admin, "DELETE FROM taskauth.login_throttle WHERE key = sha256(convert_to(lower(btrim(%s)), 'UTF8'))",
        (email,))


def setup(admin):
    one(admin, 'CREATE EXTENSION taskauth')
    one(admin, "SELECT taskauth.add_signing_key('bench-throttle-secret-0123456789abcdef')")
    for role in ROLES:
        one(admin, 'CREATE ROLE %s LOGIN PASSWORD %%s' % role, (ROLE_PASSWORD,))
        one(admin, 'SELECT taskauth.grant_api_access(%s::regrole)', (role,))
    for role in ('bench_off', 'bench_off4'):
        one(admin, 'ALTER ROLE %s IN DATABASE %s SET taskauth.login_throttle_threshold = 0' % (role, DB))
    # login() takes the time of one check at the session's cost, whatever the account's hash:
    # these two roles check at cost 4, where what the worker adds is not lost in a cost-12 hash
    for role in ('bench_on4', 'bench_off4'):
        one(admin, 'ALTER ROLE %s IN DATABASE %s SET taskauth.bcrypt_cost = 4' % (role, DB))
    for name, value in (('threshold', SCALED['threshold']), ('lock', '%ds' % SCALED['lock']),
                        ('max_lock', '%ds' % SCALED['max_lock'])):
        one(admin, "ALTER ROLE bench_scaled IN DATABASE %s SET taskauth.login_throttle_%s = '%s'"
            % (DB, name, value))
    # Register at cost 4 (fast), then give every account one cost-12 hash of its password.
    one(admin, 'SET taskauth.bcrypt_cost = 4')
    victims = ['victim-%s@bench.test' % v for v in ('off', 'scaled1', 'scaled2', 'lat12', 'lat4', 'locked')]
    users = ['user%03d@bench.test' % i for i in range(USERS)]
    for e in victims + users:
        one(admin, 'SELECT taskauth.register(%s, %s)', (e, RIGHT))
    one(admin, 'RESET taskauth.bcrypt_cost')
    one(admin, "UPDATE taskauth.users SET hashed_password = taskauth.hash_password(%s, 12)"
               " WHERE email = 'user000@bench.test'", (RIGHT,))
    one(admin, "UPDATE taskauth.users SET hashed_password = (SELECT hashed_password FROM taskauth.users"
               " WHERE email = 'user000@bench.test') WHERE email <> 'victim-lat4@bench.test'")
    one(admin, "UPDATE taskauth.users SET hashed_password = taskauth.hash_password(%s, 4)"
               " WHERE email = 'victim-lat4@bench.test'", (RIGHT,))
    one(admin, 'VACUUM ANALYZE taskauth.users')
    return users


def check_roles(admin):
    """The role settings bite: a failure is counted for bench_on and bench_scaled, not for bench_off."""
    for role, want in (('bench_off', '0'), ('bench_on', '5'), ('bench_scaled', '5'), ('bench_on4', '5'),
                       ('bench_off4', '0')):
        with contextlib.closing(connect(role)) as c:
            cur = c.cursor()
            expect(login(cur, 'probe-%s@bench.test' % role, WRONG), '28P01', 'a probe failure as ' + role)
            expect(one(c, 'SHOW taskauth.login_throttle_threshold'), want, 'threshold of ' + role)
            if role == 'bench_scaled':
                expect((one(c, 'SHOW taskauth.login_throttle_lock'), one(c, 'SHOW taskauth.login_throttle_max_lock')),
                       ('1s', '8s'), 'locks of bench_scaled')
            expect(one(c, 'SHOW taskauth.bcrypt_cost'), '4' if role.endswith('4') else '12', 'cost of ' + role)
        row = throttle_row(admin, 'probe-%s@bench.test' % role)
        expect(row[0] if row else None, None if want == '0' else 1, 'failures counted for ' + role)
    expect(one(admin, "SELECT count(*) FROM taskauth.users WHERE hashed_password LIKE '$2b$12$%'"),
           USERS + 5, 'accounts at cost 12')


# -- 1. throttling off ---------------------------------------------------------------------------
def part_off(admin):
    email = 'victim-off@bench.test'
    per_round = GUESSES_OFF // ROUNDS_OFF
    rows, rate1, rate2, time1, time2, check_ms = [], [], [], 0.0, 0.0, []
    for r in range(ROUNDS_OFF):
        res = {}
        for k in ((1, 2) if r % 2 == 0 else (2, 1)):
            a = start_attackers(k, 'bench_off', email, guesses=per_round // k)
            t0 = time.monotonic()
            a['go'].set()
            reps = finish_attackers(a)
            wall = max(x['end'] for x in reps) - t0
            n = sum(len(x['checked']) for x in reps)
            expect(n, per_round // k * k, 'checked guesses with throttling off')
            expect(sum(x['refused'] for x in reps), 0, 'refused guesses with throttling off')
            if k == 1:
                check_ms += [1000 * (e - s) for s, e in reps[0]['checked']]
            res[k] = (n, wall)
        expect(throttle_row(admin, email), None, 'no throttling state with throttling off')
        r1, r2 = res[1][0] / res[1][1], res[2][0] / res[2][1]
        rate1.append(r1)
        rate2.append(r2)
        time1 += res[1][1]
        time2 += res[2][1]
        rows.append('| %d | %d in %.1f s: %.2f/s | %d in %.1f s: %.2f/s |'
                    % (r + 1, res[1][0], res[1][1], r1, res[2][0], res[2][1], r2))
        log('off round %d: 1 conn %.2f/s, 2 conns %.2f/s' % (r + 1, r1, r2))
    m1, m2 = median(rate1), median(rate2)
    return {'rows': rows, 'm1': m1, 'm2': m2, 'time1': time1, 'time2': time2,
            'n': per_round * ROUNDS_OFF, 'check_ms': median(check_ms)}


# -- 2. throttling on ----------------------------------------------------------------------------
def part_scaled(admin, k, email):
    forget(admin, email)
    a = start_attackers(k, 'bench_scaled', email, checks=SCALED_CHECKS)
    t0 = time.monotonic()
    a['go'].set()
    reps = finish_attackers(a)
    checked = sorted(c for x in reps for c in x['checked'])
    wall = max(e for _, e in checked) - t0
    refused = sum(x['refused'] for x in reps)
    failures = throttle_row(admin, email)[0]
    # time with at least one check running (the union of their intervals), and the rest: the
    # time spent locked out, to compare with the sum of the locks
    busy, end = 0.0, None
    for s, e in checked:
        if end is None or s > end:
            busy += e - s
            end = e
        elif e > end:
            busy += e - end
            end = e
    n = len(checked)
    wait, locks = schedule(n, k, SCALED)
    idle = wall - busy
    if wait:
        expect(refused > 0, True, 'PT429 answers while locked out')
    log('scaled, %d connection(s): %d checks (%d counted), %d PT429, %.1f s, %.1f s of it locked out (locks: %d s)'
        % (k, n, failures, refused, wall, idle, wait))
    return {'k': k, 'n': n, 'failures': failures, 'refused': refused, 'wall': wall, 'wait': wait,
            'busy': busy, 'idle': idle, 'locks': locks,
            'check_s': median([e - s for s, e in checked])}


def part_latency(rounds, email, suffix=''):
    """Median latency of one failed login, throttling on (bench_on) vs off (bench_off), alternated;
    the throttling state is deleted before each attempt, so no attempt meets a lock."""
    on, off = connect('bench_on' + suffix), connect('bench_off' + suffix)
    admin = connect()
    con, coff = on.cursor(), off.cursor()
    ms_on, ms_off, diff = [], [], []
    for r in range(rounds):
        got = {}
        for name in (('on', 'off') if r % 2 == 0 else ('off', 'on')):
            forget(admin, email)
            cur = con if name == 'on' else coff
            t0 = time.perf_counter()
            code = login(cur, email, WRONG)
            got[name] = 1000 * (time.perf_counter() - t0)
            expect(code, '28P01', 'a failed login (throttling %s)' % name)
        ms_on.append(got['on'])
        ms_off.append(got['off'])
        diff.append(got['on'] - got['off'])
    expect(throttle_row(admin, email)[0], 1, 'the last failure with throttling on was counted')
    for c in (on, off, admin):
        c.close()
    return {'on': median(ms_on), 'off': median(ms_off), 'diff': median(diff), 'n': rounds,
            'on_p95': p95(ms_on), 'off_p95': p95(ms_off)}


def part_worker(admin, rounds):
    """Where a failed login's extra time goes: counting a failure through the worker
    (login_failed_detached, which starts a process and waits for it) against the same
    record_login_failure() run in this session, alternated; the state deleted before each."""
    key = "sha256(convert_to('victim-worker@bench.test', 'UTF8'))"
    calls = {'worker': 'SELECT taskauth.login_failed_detached(%s, NULL)' % key,
             'in-session': 'SELECT taskauth.record_login_failure(%s, NULL, 5, 30, 3600)' % key}
    ms = {k: [] for k in calls}
    for r in range(rounds):
        for k in (('worker', 'in-session') if r % 2 == 0 else ('in-session', 'worker')):
            one(admin, 'DELETE FROM taskauth.login_throttle WHERE key = %s' % key)
            t0 = time.perf_counter()
            one(admin, calls[k])
            ms[k].append(1000 * (time.perf_counter() - t0))
            expect(one(admin, 'SELECT failures FROM taskauth.login_throttle WHERE key = %s' % key), 1,
                   'a failure counted ' + k)
    return {k: (median(v), p95(v)) for k, v in ms.items()}


# -- 3. other users' logins ----------------------------------------------------------------------
def log_size():
    try:
        return os.path.getsize(SERVER_LOG)
    except OSError:
        return None


def part_others(admin, users):
    email = 'victim-locked@bench.test'
    # Lock the account for real (5 failures with the defaults), then extend the lock to the
    # hour that later failures reach, so that it holds through the benchmark.
    with contextlib.closing(connect('bench_on')) as c:
        cur = c.cursor()
        for _ in range(DEFAULTS['threshold']):
            expect(login(cur, email, WRONG), '28P01', 'a failure before the lock')
        expect(login(cur, email, WRONG), 'PT429', 'the locked account')
    one(admin, "UPDATE taskauth.login_throttle SET locked_until = clock_timestamp() + interval '1 hour'"
               " WHERE key = sha256(convert_to(%s, 'UTF8'))", (email,))

    legit = connect('bench_on')
    lcur = legit.cursor()
    lpid = one(legit, 'SELECT pg_backend_pid()')
    conds = ('none', 'attacker, throttling off', 'attacker, throttling on (locked)')
    lat = {c: [] for c in conds}
    cpu = {c: [] for c in conds}
    round_med = {c: [] for c in conds}
    att = {c: [] for c in conds[1:]}
    nxt = 0
    for r in range(OTHERS_ROUNDS):
        order = conds[r % 3:] + conds[:r % 3]
        for cond in order:
            a = None
            if cond != 'none':
                role = 'bench_off' if 'off' in cond else 'bench_on'
                a = start_attackers(1, role, email, poll=0)
                size0 = log_size()
                a['go'].set()
                time.sleep(ATTACK_WARMUP)
            ms = []
            for _ in range(OTHERS_LOGINS):
                u = users[nxt % len(users)]
                nxt += 1
                c0 = cpu_ms(lpid)
                t0 = time.perf_counter()
                code = login(lcur, u, RIGHT)
                ms.append(1000 * (time.perf_counter() - t0))
                cpu[cond].append(cpu_ms(lpid) - c0)
                expect(code, 'ok', 'a legitimate login')
            if a is not None:
                rep = finish_attackers(a, stop=True)[0]
                size1 = log_size()
                if size0 is not None and size1 is not None:
                    att[cond + ' log'] = att.get(cond + ' log', []) + [
                        (size1 - size0) / (len(rep['checked']) + rep['refused'])]
                span = rep['end'] - rep['begin']
                if 'off' in cond:
                    expect(rep['refused'], 0, 'PT429 with throttling off')
                else:
                    expect(len(rep['checked']), 0, 'password checks against the locked account')
                att[cond].append((len(rep['checked']) + rep['refused']) / span)
                att[cond + ' cpu'] = att.get(cond + ' cpu', []) + [rep['server_cpu_ms'] / 1000 / span]
                att[cond + ' client'] = att.get(cond + ' client', []) + [rep['client_cpu_ms'] / 1000 / span]
            lat[cond] += ms
            round_med[cond].append(median(ms))
        log('others round %d: ' % (r + 1) + ', '.join('%s %.0f ms' % (c, round_med[c][-1]) for c in conds))
    legit.close()
    ratios = {c: median([x / y for x, y in zip(round_med[c], round_med['none'])]) for c in conds[1:]}
    return {'conds': conds, 'lat': lat, 'cpu': cpu, 'att': att, 'ratios': ratios}


def machine():
    model = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30
    try:
        osname = subprocess.run(['sh', '-c', '. /etc/os-release && echo "$PRETTY_NAME"'],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        osname = platform.system()
    return '%d CPUs, %s, %.0f GB RAM, %s' % (os.cpu_count(), model, mem, osname)


def report(off, scaled, lat12, lat4, worker, others, version, load):
    out = []
    p = out.append
    p('## Run of %s' % time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    p('')
    p('- Machine: %s; load average before the run: %s' % (machine(), load))
    p('- Server: %s' % version)
    p('- Every guess: `SELECT taskauth.login(email, wrong_password)` from an API role over a local'
      ' connection; accounts at bcrypt cost 12; median password check (one failed login, throttling'
      ' off, one connection): %.0f ms' % off['check_ms'])
    p('')
    p('### 1. Throttling off (`taskauth.login_throttle_threshold = 0`)')
    p('')
    p('| round | one connection | two parallel connections |')
    p('|---|---|---|')
    out += off['rows']
    p('')
    p('%d guesses took %.1f s from one connection and %.1f s from two. Median rates: **%.2f guesses/s'
      ' from one connection, %.2f/s from two**; 1,000 guesses: **%s** and **%s** (extrapolated at'
      ' those rates).' % (off['n'], off['time1'], off['time2'], off['m1'], off['m2'],
                          fmt_duration(1000 / off['m1']), fmt_duration(1000 / off['m2'])))
    p('')
    p('### 2. Throttling on')
    p('')
    d = DEFAULTS
    w1, _ = schedule(1000, 1, d)
    locks = ', '.join('%d: %s' % (n, fmt_duration(lock_after(n, d)))
                      for n in range(d['threshold'], d['threshold'] + 8))
    p('**Defaults (threshold %d, lock %d s doubling to %d s), computed.** The lock set by the n-th'
      ' consecutive failure: %s, then 1 h each. Nothing resets the count: a success would, and so'
      ' would a day without failures, but locks never exceed an hour. An attacker with one'
      ' connection waits out the locks after failures %d to 999 before its 1,000th guess:'
      ' **%d s = %s** of locks, plus 1,000 checks (%s at the rate above).'
      % (d['threshold'], d['lock'], d['max_lock'], locks, d['threshold'], w1, fmt_duration(w1),
         fmt_duration(1000 / off['m1'])))
    p('')
    p('A check that starts while the email is not locked is not refused, and the failures of checks'
      ' that overlap are counted only as each ends, so k connections that retry together get k'
      ' checks through each opening (the scaled runs below show it). Then:')
    p('')
    p('| attacker connections | lock time for 1,000 guesses | guesses per hour once locks reach 1 h |')
    p('|---|---|---|')
    for k in (1, 2, 10, 100):
        w, _ = schedule(1000, k, d)
        p('| %d | %s | %d |' % (k, fmt_duration(w), k))
    p('')
    s = SCALED
    p('**Scaled down, measured** (role setting: threshold %d, lock %d s doubling to %d s; each'
      ' attacker connection retries %d ms after each PT429, until %d guesses have had a check).'
      ' The wall time splits into time with a check running and time locked out; the latter'
      ' against the locks of the schedule above (k checks per opening), summed.'
      % (s['threshold'], s['lock'], s['max_lock'], POLL * 1000, SCALED_CHECKS))
    p('')
    p('| connections | guesses checked (failures counted) | refused, PT429 | wall time | checking |'
      ' locked out | sum of locks (how many) | locked out / sum |')
    p('|---|---|---|---|---|---|---|---|')
    for x in scaled:
        p('| %d | %d (%d) | %d | %.1f s | %.1f s | %.1f s | %d s (%d) | %.3f |'
          % (x['k'], x['n'], x['failures'], x['refused'], x['wall'], x['busy'], x['idle'],
             x['wait'], x['locks'], x['idle'] / x['wait'] if x['wait'] else float('nan')))
    p('')
    p('**Cost of a failed login** (throttling on: one check, then a background worker counts the'
      ' failure in its own transaction; the state is deleted before each attempt, so none meets a'
      ' lock), alternated on and off, one attempt each per round:')
    p('')
    p('| hash cost | rounds | off: median (p95) | on: median (p95) | median of paired on - off |')
    p('|---|---|---|---|---|')
    for cost, x in (('12', lat12), ('4', lat4)):
        p('| %s | %d | %.1f ms (%.1f) | %.1f ms (%.1f) | %+.1f ms |'
          % (cost, x['n'], x['off'], x['off_p95'], x['on'], x['on_p95'], x['diff']))
    p('')
    p('The count alone, %d alternated calls each: through the worker (`login_failed_detached`: a'
      ' process started, connected, `record_login_failure` run and committed, waited for) %.1f ms'
      ' median (p95 %.1f); the same `record_login_failure` in the calling session %.2f ms (p95 %.2f).'
      % (LATENCY_ROUNDS_COST4, worker['worker'][0], worker['worker'][1], worker['in-session'][0],
         worker['in-session'][1]))
    p('')
    p('### 3. Other users\' logins while one account is attacked')
    p('')
    p('One connection logs in %d distinct users in turn (right password, cost 12, throttling on);'
      ' %d rounds of %d logins per condition, the order rotating; an attacker (one connection,'
      ' no pause between attempts) starts %.1f s before the timed logins. Server CPU: the'
      ' backend\'s on-CPU time (/proc/<pid>/schedstat).'
      % (USERS, OTHERS_ROUNDS, OTHERS_LOGINS, ATTACK_WARMUP))
    p('')
    p('| condition | logins | median | p95 | median of round medians / no attacker | legit backend CPU per login |'
      ' attacker attempts/s | attacker CPU, cores: backend (client) |')
    p('|---|---|---|---|---|---|---|---|')
    for c in others['conds']:
        xs = others['lat'][c]
        ratio = '1' if c == 'none' else '%.3f' % others['ratios'][c]
        ar = '' if c == 'none' else '%.1f' % median(others['att'][c])
        ac = '' if c == 'none' else '%.2f (%.2f)' % (median(others['att'][c + ' cpu']),
                                                     median(others['att'][c + ' client']))
        p('| %s | %d | %.0f ms | %.0f ms | %s | %.0f ms | %s | %s |'
          % (c, len(xs), median(xs), p95(xs), ratio, median(others['cpu'][c]), ar, ac))
    for c in others['conds'][1:]:
        if others['att'].get(c + ' log'):
            b = median(others['att'][c + ' log'])
            p('')
            p('Server log, %s: %.0f bytes per attacker attempt (every failed login is an ERROR with'
              ' its DETAIL and CONTEXT, under the default log_min_messages): %.0f MB an hour at %.1f'
              ' attempts/s.' % (c, b, b * median(others['att'][c]) * 3600 / 1e6, median(others['att'][c])))
    return '\n'.join(out)


def main():
    load = open('/proc/loadavg').read().split()[:3]
    with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
        c.autocommit = True
        c.cursor().execute('CREATE DATABASE %s' % DB)
    try:
        admin = connect()
        log('setting up ...')
        users = setup(admin)
        check_roles(admin)
        version = one(admin, 'SELECT version()') + '; fsync %s, synchronous_commit %s, max_worker_processes %s' % tuple(
            one(admin, 'SHOW ' + g) for g in ('fsync', 'synchronous_commit', 'max_worker_processes'))
        log('1. throttling off ...')
        off = part_off(admin)
        log('2. throttling on, scaled down ...')
        scaled = [part_scaled(admin, 1, 'victim-scaled1@bench.test'),
                  part_scaled(admin, 2, 'victim-scaled2@bench.test')]
        log('2. latency of a failed login ...')
        lat12 = part_latency(LATENCY_ROUNDS, 'victim-lat12@bench.test')
        lat4 = part_latency(LATENCY_ROUNDS_COST4, 'victim-lat4@bench.test', '4')
        worker = part_worker(admin, LATENCY_ROUNDS_COST4)
        log('3. other users\' logins ...')
        others = part_others(admin, users)
        admin.close()
        print(report(off, scaled, lat12, lat4, worker, others, version, ' '.join(load)))
    finally:
        with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
            c.autocommit = True
            c.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
            for role in ROLES:
                c.cursor().execute('DROP ROLE IF EXISTS %s' % role)


if __name__ == '__main__':
    main()
