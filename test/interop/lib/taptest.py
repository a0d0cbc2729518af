"""TAP output for the Python interop tests: one line a test, the plan at the end."""
import os

import psycopg2

results = []


def tap(ok, name, diag=None):
    """Print one TAP line, and the diagnostics of a failure as comments."""
    results.append(bool(ok))
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), name), flush=True)
    if not ok and diag is not None:
        for line in str(diag).splitlines():
            print('# ' + line, flush=True)


def connect_as(dbname, user=None, password=None):
    """An autocommit connection to dbname: as the PG* environment's user, or as user."""
    kw = {'dbname': dbname}
    if user is not None:
        kw.update(user=user, password=password)
    c = psycopg2.connect(**kw)
    c.autocommit = True
    return c


def one(conn, sql, args=()):
    """First column of the first row (None for a statement that returns no row)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def in_scratch_database(name, run, extensions=('taskauth',)):
    """Create database name with the extensions, hand an autocommit connection to run(conn),
    drop it afterwards (a crash counts as one failed test), print the plan; returns the exit
    status."""
    admin = psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute('DROP DATABASE IF EXISTS %s' % name)
        cur.execute('CREATE DATABASE %s' % name)
    conn = psycopg2.connect(dbname=name)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for ext in extensions:
                cur.execute('CREATE EXTENSION %s' % ext)
        run(conn)
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS %s' % name)
        admin.close()
    print('1..%d' % len(results), flush=True)
    return 0 if all(results) else 1


def run_with_database(name, roles, run):
    """Create database name and the LOGIN roles of roles ({name: password}), call run(), then
    drop them (a crash is one failed test, with its reason), print the plan and exit with the
    file's status."""
    import sys
    admin_db = os.environ.get('PGDATABASE', 'postgres')
    admin = connect_as(admin_db)
    with admin.cursor() as cur:
        cur.execute('CREATE DATABASE %s' % name)
        for role, password in roles.items():
            cur.execute('CREATE ROLE %s LOGIN PASSWORD %%s' % role, (password,))
    admin.close()
    try:
        run()
    except Exception as e:  # a crash is one failed test, with its reason
        tap(False, 'test ran to the end', repr(e))
    finally:
        admin = connect_as(admin_db)
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
            for role in roles:
                cur.execute('DROP ROLE IF EXISTS %s' % role)
        admin.close()
    print('1..%d' % len(results), flush=True)
    sys.exit(0 if all(results) else 1)
