#!/usr/bin/python3
"""Login throttling: consecutive failed logins of one email lock it for a growing window, for an
unknown email exactly as for a known one; a locked attempt is refused (PT429) without a password
hash; a successful sign-in starts the count again; failures are counted although each failed
login rolls its own transaction back, and counted exactly under concurrency; prune() forgets
old state. Uses the cluster from the PG* environment; TAP.
"""
import contextlib
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, results, tap  # noqa: E402

DB = 'ta_throttle_%d' % os.getpid()
API_ROLE = DB + '_api'
API_PASSWORD = 'throttle-' + os.urandom(8).hex()
PASSWORD = 'the-right-password'


def connect(api=True):
    """An autocommit connection: the API role, or the superuser from the PG* environment."""
    return connect_as(DB, *((API_ROLE, API_PASSWORD) if api else ()))


def login(conn, email, password, fn='login'):
    """'ok', or (SQLSTATE, message, detail, context)."""
    try:
        if fn == 'login':
            one(conn, 'SELECT taskauth.login(%s, %s)', (email, password))
        else:
            one(conn, 'SELECT access_token FROM taskauth.sign_in(%s, %s)', (email, password))
        return 'ok'
    except psycopg2.Error as e:
        return (e.pgcode, e.diag.message_primary, e.diag.message_detail, e.diag.context)


def failures(admin, email):
    return one(admin, "SELECT failures FROM taskauth.login_throttle "
                      "WHERE key = sha256(convert_to(lower(btrim(%s)), 'UTF8'))", (email,))


def main():
    with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
        c.autocommit = True
        c.cursor().execute('CREATE DATABASE %s' % DB)
        c.cursor().execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API_ROLE, (API_PASSWORD,))
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        with contextlib.closing(psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))) as c:
            c.autocommit = True
            c.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
            c.cursor().execute('DROP ROLE IF EXISTS %s' % API_ROLE)
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)


def run():
    admin = connect(api=False)
    one(admin, 'CREATE EXTENSION taskauth')
    one(admin, "SELECT taskauth.add_signing_key('throttle-secret-0123456789abcdefghijkl')")
    one(admin, 'SELECT taskauth.grant_api_access(%s::regrole)', (API_ROLE,))
    for name, value in (('bcrypt_cost', '4'), ('login_throttle_threshold', '3'),
                        ('login_throttle_lock', '10'), ('login_throttle_max_lock', '25')):
        one(admin, 'ALTER DATABASE %s SET taskauth.%s = %s' % (DB, name, value))
    for e in ('known@throttle.test', 'other@throttle.test', 'race@throttle.test', 'costly@throttle.test'):
        one(admin, 'SELECT taskauth.register(%s, %s)', (e, PASSWORD))
    api = connect()

    # known and unknown emails, three failures each: the same errors, then the same lock
    k = [login(api, 'known@throttle.test', 'wrong') for _ in range(3)]
    u = [login(api, 'Nobody@Throttle.test ', 'wrong') for _ in range(3)]
    tap(all(r[:2] == ('28P01', 'invalid email or password') for r in k + u) and k == u,
        'three failures of a known and of an unknown email: the same 28P01 error, every field', (k, u))
    tap(failures(admin, 'known@throttle.test') == 3 and failures(admin, 'nobody@throttle.test') == 3,
        'each failure was counted, though every failed login rolled its transaction back')
    lk = login(api, 'known@throttle.test', PASSWORD)
    lu = login(api, 'nobody@throttle.test', 'wrong')
    tap(lk[0] == 'PT429' and lk[1] == 'too many failed logins' and lk[2] in ('Try again in 10 seconds.', 'Try again in 9 seconds.'),
        'at the threshold the email is locked: even the right password gets PT429 (PostgREST: 429)', lk)
    tap(lk[:2] + lk[3:] == lu[:2] + lu[3:] and lu[2] in ('Try again in 10 seconds.', 'Try again in 9 seconds.'),
        'an unknown email is locked the same way, every field alike (the seconds left aside)', (lk, lu))
    tap(failures(admin, 'known@throttle.test') == 3, 'a refused attempt is not counted again')
    tap(login(api, 'other@throttle.test', PASSWORD) == 'ok', 'another account is not affected')
    tap(login(api, 'known@throttle.test', PASSWORD, fn='sign_in')[0] == 'PT429', 'sign_in is locked too')

    # no hash while locked: the account's hash at cost 14 takes far longer than the timeout allows
    one(admin, "UPDATE taskauth.users SET hashed_password = taskauth.hash_password(%s, 14) WHERE email = %s",
        (PASSWORD, 'costly@throttle.test'))
    one(admin, 'ALTER DATABASE %s SET taskauth.bcrypt_cost = 14' % DB)
    costly = connect()
    one(costly, "SET statement_timeout = '150ms'")
    first = login(costly, 'costly@throttle.test', 'wrong')
    tap(first[0] == '57014', 'a cost-14 check does not fit in 150 ms (canceled: 57014)', first)
    one(costly, 'RESET statement_timeout')
    for _ in range(3):
        login(costly, 'costly@throttle.test', 'wrong')
    one(costly, "SET statement_timeout = '150ms'")
    got = login(costly, 'costly@throttle.test', 'wrong')
    tap(got[0] == 'PT429', 'locked, the same attempt answers PT429 within 150 ms: no hash was computed', got)
    costly.close()
    one(admin, 'ALTER DATABASE %s SET taskauth.bcrypt_cost = 4' % DB)
    api.close()
    api = connect()

    # the lock ends (moved into the past here rather than waited for), a further failure doubles
    # it, up to the maximum; a success starts the count again
    def end_lock(email):
        one(admin, "UPDATE taskauth.login_throttle SET locked_until = now() - interval '1 second' "
                   "WHERE key = sha256(convert_to(%s, 'UTF8'))", (email,))
    end_lock('known@throttle.test')
    r = login(api, 'known@throttle.test', 'wrong')
    again = login(api, 'known@throttle.test', PASSWORD)
    tap(r[0] == '28P01' and again[0] == 'PT429' and again[2] in ('Try again in 20 seconds.', 'Try again in 19 seconds.'),
        'after the lock, one more failure locks the email again for twice as long', (r, again))
    end_lock('known@throttle.test')
    r = login(api, 'known@throttle.test', 'wrong')
    again = login(api, 'known@throttle.test', PASSWORD)
    tap(r[0] == '28P01' and again[2] in ('Try again in 25 seconds.', 'Try again in 24 seconds.'),
        'and the next doubling stops at taskauth.login_throttle_max_lock (25 s)', (r, again))
    end_lock('known@throttle.test')
    tap(login(api, 'known@throttle.test', PASSWORD) == 'ok', 'after that lock the right password signs in')
    r = login(api, 'known@throttle.test', 'wrong')
    tap(r[0] == '28P01' and failures(admin, 'known@throttle.test') == 1,
        'a successful sign-in started the count again (the next failure is the first)')
    tap(login(api, 'known@throttle.test', PASSWORD) == 'ok', 'one failure does not lock')

    # concurrency: 12 connections fail at once; every hashed failure is counted, exactly
    answers = []
    lock = threading.Lock()

    def attempt():
        with contextlib.closing(connect()) as c:
            a = login(c, 'race@throttle.test', 'wrong')
        with lock:
            answers.append(a[0])

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counted = failures(admin, 'race@throttle.test')
    hashed = answers.count('28P01')
    tap(hashed >= 3 and counted == hashed and hashed + answers.count('PT429') == 12,
        '12 concurrent failures: %d checked a password and all %d were counted; the rest were refused (PT429)'
        % (hashed, counted), answers)
    tap(login(api, 'race@throttle.test', PASSWORD)[0] == 'PT429', 'and the email is locked')

    # every worker slot taken (a parallel query holding them for ~2.5 s, longer than the old one
    # second of retries): failures wait for a slot and are all counted, with no warning
    one(admin, 'CREATE TABLE public.slot_hog AS SELECT g FROM generate_series(1, 7000) g')
    one(admin, 'ALTER TABLE public.slot_hog SET (parallel_workers = 8)')
    one(admin, 'ANALYZE public.slot_hog')
    slots = one(admin, 'SELECT current_setting(%s)::int', ('max_worker_processes',))
    hog = connect(api=False)
    for setting in ('parallel_setup_cost = 0', 'parallel_tuple_cost = 0',
                    'min_parallel_table_scan_size = 0', 'max_parallel_workers_per_gather = 8',
                    'max_parallel_workers = 8'):
        one(hog, 'SET ' + setting)
    hog_done = []
    hog_thread = threading.Thread(target=lambda: hog_done.append(one(
        hog, 'SELECT count(*) FROM public.slot_hog WHERE pg_sleep(0.003) IS NOT NULL')))
    hog_thread.start()
    busy = 0
    for _ in range(200):
        busy = one(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type <> 'client backend' "
                          "AND backend_type IN ('parallel worker', 'logical replication launcher')")
        if busy >= slots - 1:
            break
        time.sleep(0.01)
    waited = []

    def slot_attempt():
        with contextlib.closing(connect()) as c:
            t0 = time.time()
            a = login(c, 'slots@throttle.test', 'wrong')
            with lock:
                waited.append((a[0], time.time() - t0, list(c.notices)))

    slot_threads = [threading.Thread(target=slot_attempt) for _ in range(2)]
    for t in slot_threads:
        t.start()
    for t in slot_threads:
        t.join(120)
    hog_thread.join(120)
    hog.close()
    tap(busy >= slots - 1 and hog_done == [7000],
        'a parallel query held %d of %d worker slots for its run' % (busy, slots), (busy, hog_done))
    tap(len(waited) == 2 and all(w[0] == '28P01' and not w[2] for w in waited)
        and failures(admin, 'slots@throttle.test') == 2,
        'failures while every slot was taken waited for one (%s s) and were counted, no warning'
        % ', '.join('%.1f' % w[1] for w in waited), waited)

    # an external issuer's sign-ins (Better Auth's hooks) count on the same per-email throttle,
    # run by the issuer's own role (no superuser) once granted
    one(admin, 'CREATE ROLE %s_issuer LOGIN PASSWORD %%s' % DB, (API_PASSWORD,))
    one(admin, 'GRANT EXECUTE ON FUNCTION taskauth.count_issuer_login_attempt(text), '
               'taskauth.issuer_login_succeeded(text) TO %s_issuer' % DB)
    issuer = connect_as(DB, DB + '_issuer', API_PASSWORD)

    def issuer_attempt(email):
        try:
            one(issuer, 'SELECT taskauth.count_issuer_login_attempt(%s)', (email,))
            return 'counted'
        except psycopg2.Error as e:
            return e.pgcode
    got = [issuer_attempt('Issuer@Throttle.test ') for _ in range(4)]
    locked_login = login(api, 'issuer@throttle.test', 'wrong')
    tap(got == ['counted'] * 3 + ['PT429'] and failures(admin, 'issuer@throttle.test') == 3
        and locked_login[0] == 'PT429',
        "an issuer's three failed sign-ins lock the email (the 4th PT429), for taskauth's own login "
        'too (one per-email count, the email trimmed and lower-cased)', (got, locked_login))
    one(issuer, 'SELECT taskauth.issuer_login_succeeded(%s)', ('issuer@throttle.test',))
    tap(failures(admin, 'issuer@throttle.test') is None and issuer_attempt('issuer@throttle.test') == 'counted',
        "the issuer's successful sign-in takes the count back and ends the lock")
    with contextlib.closing(connect()) as c:
        try:
            one(c, "SELECT taskauth.count_issuer_login_attempt('x@throttle.test')")
            got = 'ran'
        except psycopg2.Error as e:
            got = e.pgcode
    tap(got == '42501', 'the API role cannot count or reset an issuer\'s attempts', got)
    issuer.close()
    one(admin, 'REVOKE ALL ON FUNCTION taskauth.count_issuer_login_attempt(text), '
               'taskauth.issuer_login_succeeded(text) FROM %s_issuer' % DB)
    one(admin, 'DROP ROLE %s_issuer' % DB)

    # prune forgets a day-old, unlocked entry and keeps a fresh one
    one(admin, "UPDATE taskauth.login_throttle SET last_failure_at = now() - interval '25 hours', "
               "locked_until = NULL WHERE key = sha256(convert_to('nobody@throttle.test', 'UTF8'))")
    one(admin, 'SELECT taskauth.prune()')
    tap(failures(admin, 'nobody@throttle.test') is None and failures(admin, 'race@throttle.test') == counted,
        'prune() forgets day-old throttling state and keeps the rest')
    tap(one(admin, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'taskauth worker'") == 0,
        'no worker is left running')
    with contextlib.closing(connect()) as c:
        try:
            one(c, 'SELECT count(*) FROM taskauth.login_throttle')
            got = 'readable'
        except psycopg2.Error as e:
            got = e.pgcode
    tap(got == '42501', 'the API role cannot read the throttling state', got)
    api.close()
    admin.close()


if __name__ == '__main__':
    main()
