#!/usr/bin/python3
"""Races, on the PG* cluster. 40 connections call register for one email at the same moment
(released together by a barrier; the email spelled with different case and blanks): exactly one
account is made, every other call gets 23505 "email is already registered", and the stored hash
is the winner's. Then signing keys are added and retired over and over while other sessions
authenticate: a token of a key that stays active is never refused, one whose key's retirement
had committed before the call began is always refused, and nothing but the user's id or 28000
ever comes back. Emits TAP.
"""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, results, tap  # noqa: E402

tag = 'ta_races_%d' % os.getpid()
DB = tag
API = tag + '_api'
API_PASSWORD = 'races-' + os.urandom(8).hex()
RACERS = 40
ROUNDS = 3
ROTATIONS = 25
AUTHENTICATORS = 4


def connect(api=False, dbname=DB):
    """An autocommit connection: the superuser from the PG* environment, or the API role."""
    return connect_as(dbname, *((API, API_PASSWORD) if api else ()))


def outcome(conn, sql, args=()):
    """('ok', value) or (SQLSTATE, first line of the message)."""
    try:
        return ('ok', one(conn, sql, args))
    except psycopg2.Error as e:
        return (e.pgcode, (e.pgerror or '').splitlines()[0] if e.pgerror else '')


def register_race(rnd, conns):
    """RACERS sessions register one email at once, each with its own password."""
    base = 'racer%d@example.com' % rnd
    spellings = [base, base.upper(), ' ' + base, base.capitalize() + ' ']
    barrier = threading.Barrier(len(conns))
    got = [None] * len(conns)

    def racer(i):
        barrier.wait()
        got[i] = outcome(conns[i], 'SELECT taskauth.register(%s, %s)::text',
                         (spellings[i % len(spellings)], 'password-of-racer-%d' % i))
    threads = [threading.Thread(target=racer, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, g in enumerate(got) if g[0] == 'ok']
    losers = [g for g in got if g[0] != 'ok']
    admin = connect()
    rows = one(admin, 'SELECT count(*) FROM taskauth.users WHERE lower(email) = %s', (base,))
    tap(len(winners) == 1 and rows == 1
        and losers == [('23505', 'ERROR:  email is already registered')] * (RACERS - 1),
        'round %d: %d racing register calls for one email make exactly one account, the '
        'others get 23505' % (rnd, RACERS),
        'winners %r, rows %d, other outcomes %r' % (winners, rows, sorted(set(losers))))
    if len(winners) == 1:
        w = winners[0]
        other = (w + 1) % RACERS
        api = connect(api=True)
        mine = outcome(api, 'SELECT taskauth.login(%s, %s)', (base, 'password-of-racer-%d' % w))
        theirs = outcome(api, 'SELECT taskauth.login(%s, %s)', (base, 'password-of-racer-%d' % other))
        api.close()
        tap(mine[0] == 'ok' and theirs[0] == '28P01',
            "round %d: the account holds the winner's password, not a loser's" % rnd,
            (mine[0], theirs))
    admin.close()


def key_race():
    """One session rotates signing keys while others authenticate tokens of every key."""
    admin = connect()
    admin.cursor().execute("SELECT taskauth.add_signing_key(%s, 'stays')", (os.urandom(24).hex(),))
    uid = one(admin, "SELECT taskauth.register('keys@example.com', 'keys-password-1')::text")
    stays = one(admin, "SELECT taskauth.issue_token(%s, 'keys@example.com')", (uid,))
    tokens = []              # (kid, token), appended by the rotator
    retired_at = {}          # kid -> monotonic time its retirement had committed
    log = []                 # (kid, started, outcome) from every authenticator
    done = threading.Event()
    errors = []

    def rotator():
        try:
            c = connect()
            prev = None
            for i in range(ROTATIONS):
                kid = 'rot-%d' % i
                c.cursor().execute('SELECT taskauth.add_signing_key(%s, %s)',
                                   (os.urandom(24).hex(), kid))
                tokens.append((kid, one(c, "SELECT taskauth.issue_token(%s, 'keys@example.com')",
                                        (uid,))))
                if prev:
                    c.cursor().execute('SELECT taskauth.retire_signing_key(%s)', (prev,))
                    retired_at[prev] = time.monotonic()
                prev = kid
                time.sleep(0.01)
            c.close()
        except Exception as e:
            errors.append(repr(e))
        finally:
            done.set()

    def authenticator(n):
        try:
            c = connect(api=True)
            i = 0
            while not done.is_set() or i < 50:
                kid, tok = ('stays', stays) if i % 3 == 0 or not tokens else tokens[(i * 7 + n) % len(tokens)]
                start = time.monotonic()
                log.append((kid, start, outcome(c, 'SELECT taskauth.authenticate(%s)::text', (tok,))))
                i += 1
            c.close()
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=authenticator, args=(n,)) for n in range(AUTHENTICATORS)]
    threads.append(threading.Thread(target=rotator))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    odd = [o for _, _, o in log if o != ('ok', uid) and o[0] != '28000']
    stays_refused = [o for k, _, o in log if k == 'stays' and o != ('ok', uid)]
    late = [(k, o) for k, s, o in log if k in retired_at and s > retired_at[k] and o[0] != '28000']
    checked = sum(1 for k, s, _ in log if k in retired_at and s > retired_at[k])
    tap(not errors and not odd,
        'keys rotated %d times under %d authenticating sessions: %d calls, each the user id or '
        '28000' % (ROTATIONS, AUTHENTICATORS, len(log)), (errors, odd[:5]))
    tap(not stays_refused and not late and checked > 0,
        'a key that stays active is never refused; every call begun after its key was retired '
        'is refused (%d such calls)' % checked, (stays_refused[:5], late[:5]))
    admin.close()


def main():
    print('1..%d' % (2 * ROUNDS + 2), flush=True)
    top = connect(dbname=os.environ.get('PGDATABASE', 'postgres'))
    top.cursor().execute('CREATE DATABASE %s' % DB)
    top.cursor().execute('CREATE ROLE %s LOGIN PASSWORD %%s' % API, (API_PASSWORD,))
    conns = []
    try:
        admin = connect()
        admin.cursor().execute('CREATE EXTENSION taskauth')
        admin.cursor().execute('SELECT taskauth.grant_api_access(%s::regrole)', (API,))
        admin.cursor().execute("SELECT taskauth.add_signing_key(%s, 'k1')", (os.urandom(24).hex(),))
        # long enough that the racers overlap, short enough to stay quick
        admin.cursor().execute('ALTER DATABASE %s SET taskauth.bcrypt_cost = 6' % DB)
        admin.close()
        conns = [connect(api=True) for _ in range(RACERS)]
        for rnd in range(1, ROUNDS + 1):
            register_race(rnd, conns)
        key_race()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        for c in conns:
            c.close()
        top.cursor().execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % DB)
        top.cursor().execute('DROP ROLE IF EXISTS %s' % API)
        top.close()
    sys.exit(0 if all(results) else 1)


if __name__ == '__main__':
    main()
