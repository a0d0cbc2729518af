#!/usr/bin/python3
"""The lazy identity: with no authenticate() or pre_request() in the transaction, the first use
of the identity (current_user_id(), claims(), current_setting('jwt.sub')) verifies the bearer
token of request.headers, once, with pre_request()'s errors; in a parallel plan (verified in the
leader), through a cursor, inside a function with a SET clause, after a rolled-back
subtransaction; a changed header is refused; authenticate() takes precedence; revoked tokens
are refused. Uses the cluster from the PG* environment; emits TAP.
"""
import json
import os
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from taptest import connect_as, one, run_with_database, tap  # noqa: E402

tag = 'ta_lazy_%d' % os.getpid()
DB = tag
API = tag + '_api'
API_PASSWORD = 'lazy-' + os.urandom(8).hex()
PASSWORD = 'lazy-identity-password'


def headers(token=None, scheme='Bearer'):
    """request.headers as PostgREST sets it: JSON, names lower-cased."""
    h = {'accept': 'application/json', 'user-agent': 'lazy-test'}
    if token is not None:
        h['authorization'] = '%s %s' % (scheme, token)
    return json.dumps(h)


def in_request(conn, hdr, statements, role=None):
    """One transaction: request.headers set as PostgREST does, then the statements; the result
    of the last one, or ('error', SQLSTATE, message)."""
    try:
        with conn.cursor() as cur:
            if role:
                cur.execute('SET LOCAL ROLE %s' % role)
            cur.execute("SELECT set_config('request.headers', %s, true)", (hdr,))
            out = None
            for sql in statements:
                cur.execute(sql)
                out = cur.fetchall() if cur.description else None
        conn.commit()
        return out
    except psycopg2.Error as e:
        conn.rollback()
        return ('error', e.pgcode, e.pgerror)


def run():
    admin = connect_as(DB)
    with admin.cursor() as cur:
        cur.execute('CREATE EXTENSION taskauth')
        cur.execute("SELECT taskauth.add_signing_key(%s, 'k1')", ('lazy-secret-'.ljust(40, 'x'),))
        cur.execute('SELECT taskauth.grant_api_access(%s::regrole, true)', (API,))
        cur.execute('GRANT %s TO CURRENT_USER' % API)
        ids = {}
        for who in ('alice', 'bob'):
            cur.execute('SELECT taskauth.register(%s, %s)', (who + '@lazy.test', PASSWORD))
            ids[who] = cur.fetchone()[0]
        # a table of the users' own, with the two policy forms a user may write
        cur.execute('''
            CREATE TABLE public.notes (id bigserial PRIMARY KEY, user_id uuid NOT NULL, body text);
            ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;
            CREATE POLICY direct ON public.notes FOR SELECT
                USING (user_id = taskauth.current_user_id());
            CREATE TABLE public.memos (id bigserial PRIMARY KEY, user_id uuid NOT NULL, body text);
            ALTER TABLE public.memos ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.memos FORCE ROW LEVEL SECURITY;
            CREATE POLICY by_setting ON public.memos FOR SELECT
                USING (user_id = nullif(current_setting('jwt.sub', true), '')::uuid);
            GRANT SELECT ON public.notes, public.memos TO %s;
            CREATE FUNCTION public.whoami_definer() RETURNS uuid LANGUAGE sql SECURITY DEFINER
                SET search_path = pg_catalog AS 'SELECT taskauth.current_user_id()';
            GRANT EXECUTE ON FUNCTION public.whoami_definer() TO %s;
        ''' % (API, API))
        for t in ('notes', 'memos'):
            cur.execute('INSERT INTO public.%s (user_id, body) SELECT CASE WHEN g %%%% 3 = 0 THEN %%s::uuid '
                        'ELSE %%s::uuid END, repeat(\'x\', 50) FROM generate_series(1, 30000) g' % t,
                        (ids['alice'], ids['bob']))
        cur.execute('ANALYZE public.notes, public.memos')
        tokens = {}
        for who in ('alice', 'bob'):
            cur.execute('SELECT taskauth.login(%s, %s)', (who + '@lazy.test', PASSWORD))
            tokens[who] = cur.fetchone()[0]
    admin.close()

    # the test's connection: the superuser acting as the API role in each transaction, so that
    # backend_stats() (owner only) can show in the same backend what was verified
    conn = psycopg2.connect(dbname=DB)
    alice, bob = ids['alice'], ids['bob']

    def stats():
        """(verifications, cache hits) of this backend so far."""
        with conn.cursor() as cur:
            cur.execute('SELECT token_cache_misses, token_cache_hits FROM taskauth.backend_stats()')
            row = cur.fetchone()
        conn.commit()
        return row

    r = in_request(conn, headers(tokens['alice']), ['SELECT taskauth.current_user_id()'], API)
    tap(r == [(alice,)], 'current_user_id() with only request.headers set: the bearer token\'s user', r)
    conn.commit()

    r = in_request(conn, headers(tokens['alice']),
                   ["SELECT taskauth.claims() ->> 'email', current_setting('jwt.sub')"], API)
    tap(r == [('alice@lazy.test', alice)], 'claims() and jwt.sub read the lazily verified token', r)

    r = in_request(conn, headers(None), ['SELECT taskauth.current_user_id()', 'SELECT count(*) FROM public.notes'], API)
    tap(r == [(0,)], 'no Authorization header: anonymous, no row visible', r)

    r = in_request(conn, headers('not.a.token'), ['SELECT count(*) FROM public.notes'], API)
    tap(isinstance(r, tuple) and r[1] == 'PGRST' and '"PGRST301"' in r[2],
        'a bad token: pre_request()\'s error (SQLSTATE PGRST, code PGRST301)', r)
    detail_ok = False
    try:
        with conn.cursor() as cur:
            cur.execute('SET LOCAL ROLE %s' % API)
            cur.execute("SELECT set_config('request.headers', %s, true)", (headers('not.a.token'),))
            cur.execute('SELECT taskauth.current_user_id()')
    except psycopg2.Error as e:
        d = json.loads(e.diag.message_detail or '{}')
        detail_ok = d.get('status') == 401 and 'invalid_token' in d.get('headers', {}).get('WWW-Authenticate', '')
    conn.rollback()
    tap(detail_ok, 'its DETAIL makes PostgREST answer 401 with WWW-Authenticate: Bearer error="invalid_token"')

    r = in_request(conn, headers(tokens['bob'], scheme='bEaReR\t'), ['SELECT taskauth.current_user_id()'], API)
    tap(r == [(bob,)], 'the scheme is read in any case, spaces and tabs trimmed, as pre_request() reads it', r)

    # one verification per transaction, whatever asks for the identity how often
    s0 = stats()
    r = in_request(conn, headers(tokens['bob']),
                   ['SELECT count(*) FROM public.notes', 'SELECT count(*) FROM public.notes',
                    'SELECT taskauth.current_user_id()'], API)
    s1 = stats()
    used = (s1[0] - s0[0]) + (s1[1] - s0[1]) if s0 and s1 else None
    tap(r == [(bob,)] and used == 1,
        'a transaction that uses the identity many times verifies the token once', (r, s0, s1))

    # parallel plans: the leader verifies before its workers start; both policy forms
    for table, form in (('notes', 'current_user_id()'), ('memos', "current_setting('jwt.sub')")):
        plan_sql = ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM public.%s" % table)
        setup = ['SET LOCAL parallel_setup_cost = 0', 'SET LOCAL parallel_tuple_cost = 0',
                 'SET LOCAL min_parallel_table_scan_size = 0', 'SET LOCAL max_parallel_workers_per_gather = 2']
        r = in_request(conn, headers(tokens['alice']), setup + [plan_sql], API)
        launched = None
        try:
            plan = r[0][0][0]['Plan']
            node = plan
            while node is not None and 'Workers Launched' not in node:
                node = (node.get('Plans') or [None])[0]
            launched = node['Workers Launched'] if node else 0
        except Exception:
            pass
        r2 = in_request(conn, headers(tokens['alice']),
                        setup + ['SELECT count(*), count(*) FILTER (WHERE user_id <> taskauth.current_user_id()) FROM public.%s' % table], API)
        tap(bool(launched) and r2 == [(10000, 0)],
            'a parallel plan under a %s policy (%s workers launched) returns exactly the token owner\'s rows' % (form, launched), (r, r2))

    # a cursor
    with conn.cursor() as cur:
        cur.execute('SET LOCAL ROLE %s' % API)
        cur.execute("SELECT set_config('request.headers', %s, true)", (headers(tokens['bob']),))
        cur.execute('DECLARE c CURSOR FOR SELECT user_id FROM public.notes')
        cur.execute('FETCH 5 FROM c')
        rows = cur.fetchall()
        cur.execute('FETCH ALL FROM c')
        rest = cur.fetchall()
    conn.commit()
    tap(len(rows) == 5 and len(rest) == 19995 and all(u == bob for (u,) in rows + rest),
        'through a cursor: the identity is taken at the first FETCH, every row the owner\'s', (len(rows), len(rest)))

    # a function with a SET clause undoes what is set inside it: the token is verified again
    s0 = stats()
    r = in_request(conn, headers(tokens['alice']),
                   ['SELECT public.whoami_definer()', 'SELECT taskauth.current_user_id()'], API)
    s1 = stats()
    tap(r == [(alice,)] and s1[1] - s0[1] >= 1,
        'first use inside a SECURITY DEFINER function with SET: the identity holds after it too (a cache hit)', (r, s0, s1))

    # a rolled-back subtransaction
    with conn.cursor() as cur:
        cur.execute('SET LOCAL ROLE %s' % API)
        cur.execute("SELECT set_config('request.headers', %s, true)", (headers(tokens['alice']),))
        cur.execute('SAVEPOINT s')
        cur.execute('SELECT taskauth.current_user_id()')
        inner = cur.fetchone()[0]
        cur.execute('ROLLBACK TO SAVEPOINT s')
        cur.execute('SELECT taskauth.current_user_id()')
        outer = cur.fetchone()[0]
    conn.commit()
    tap(inner == alice and outer == alice, 'after a rolled-back subtransaction the identity is taken again', (inner, outer))

    # a changed header is refused, not followed
    r = in_request(conn, headers(tokens['alice']),
                   ['SELECT taskauth.current_user_id()',
                    "SELECT set_config('request.headers', '%s', true)" % headers(tokens['bob']).replace("'", "''"),
                    'SELECT taskauth.current_user_id()'], API)
    tap(isinstance(r, tuple) and r[1] == 'PGRST' and 'changed' in r[2],
        'request.headers changed after the identity was taken: refused', r)
    r = in_request(conn, headers(None),
                   ['SELECT count(*) FROM public.notes',
                    "SELECT set_config('request.headers', '%s', true)" % headers(tokens['bob']).replace("'", "''"),
                    'SELECT count(*) FROM public.notes'], API)
    tap(isinstance(r, tuple) and r[1] == 'PGRST',
        'a token added after the transaction was taken as anonymous: refused', r)
    r = in_request(conn, headers(tokens['alice']),
                   ["SELECT set_config('request.headers', '%s', true)" % headers(tokens['bob']).replace("'", "''"),
                    'SELECT taskauth.current_user_id()'], API)
    tap(r == [(bob,)], 'a header changed before the identity was first used is simply the one read', r)

    # authenticate() and pre_request() take precedence
    r = in_request(conn, headers(tokens['alice']),
                   ["SELECT taskauth.authenticate('%s')" % tokens['bob'], 'SELECT taskauth.current_user_id()'], API)
    tap(r == [(bob,)], 'authenticate() in the transaction takes precedence over request.headers', r)
    r = in_request(conn, headers(None),
                   ['SELECT count(*) FROM public.notes', "SELECT taskauth.authenticate('%s')" % tokens['bob'],
                    "SELECT set_config('request.headers', '%s', true)" % headers(tokens['alice']).replace("'", "''"),
                    'SELECT taskauth.current_user_id()'], API)
    tap(r == [(bob,)], 'after an explicit authenticate() the headers are no longer held to what was taken', r)
    r = in_request(conn, headers(tokens['alice']), ['SELECT taskauth.pre_request()', 'SELECT taskauth.current_user_id()'], API)
    tap(r == [(alice,)], 'pre_request() still works', r)

    # each transaction on its own: a pooled connection never carries one request's identity
    r = in_request(conn, '', ['SELECT taskauth.current_user_id()'], API)
    tap(r == [(None,)], 'the next transaction without headers is anonymous', r)

    # signing in and refreshing do not take the identity: a client may send its expired token
    adm = connect_as(DB)
    with adm.cursor() as cur:
        cur.execute("SELECT refresh_token FROM taskauth.sign_in('bob@lazy.test', %s)", (PASSWORD,))
        refresh_token = cur.fetchone()[0]
    adm.close()
    r = in_request(conn, headers('expired.or.bad'),
                   ["SELECT count(*) FROM taskauth.refresh('%s')" % refresh_token], API)
    tap(r == [(1,)], 'refresh() with a bad token in request.headers still refreshes (it never takes the identity)', r)
    r = in_request(conn, headers('expired.or.bad'),
                   ["SELECT count(*) FROM taskauth.sign_in('bob@lazy.test', '%s')" % PASSWORD], API)
    tap(r == [(1,)], 'sign_in() with a bad token in request.headers still signs in', r)

    # revocation holds on the lazy path
    r = in_request(conn, headers(tokens['alice']), ['SELECT taskauth.current_user_id()'], API)
    adm = connect_as(DB)
    one(adm, 'SELECT taskauth.revoke_user(%s)', (alice,))
    adm.close()
    r2 = in_request(conn, headers(tokens['alice']), ['SELECT taskauth.current_user_id()'], API)
    tap(r == [(alice,)] and isinstance(r2, tuple) and r2[1] == 'PGRST' and 'revoked' in r2[2],
        'a token revoked since (revoke_user) is refused on the lazy path, its cached verification included', (r, r2))
    conn.close()


if __name__ == '__main__':
    run_with_database(DB, {API: API_PASSWORD}, run)
