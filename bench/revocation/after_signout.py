"""Part 2b of bench/revocation.sh: what one sign-out committed elsewhere costs a backend that
serves other users. Two long-lived connections: one signs a pooled session out (committed, or
the same work rolled back), then the other authenticates one of the measured users' tokens in a
transaction of its own, which first takes in the sign-out (the invalidation, the new revocation
row); the two kinds alternate. Prints "pair us_after_rollback us_after_commit", the measured
transaction's time on the server (clock_timestamp inside it) in microseconds.
Usage: after_signout.py DB PAIRS   (libpq settings from PG* variables)
"""
import sys

import psycopg2

AUTH = ("SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token) "
        "FROM signout_pool WHERE n = (SELECT nextval(%s))")
TIMED = ("SELECT extract(epoch FROM clock_timestamp() - t0) * 1e6 FROM "
         "(SELECT clock_timestamp() AS t0, taskauth.authenticate(token) FROM bench_tokens WHERE n = %s) s")


def main():
    db, pairs = sys.argv[1], int(sys.argv[2])
    so = psycopg2.connect(dbname=db)
    me = psycopg2.connect(dbname=db)
    me.autocommit = True
    so_cur, me_cur = so.cursor(), me.cursor()
    me_cur.execute("SELECT count(taskauth.authenticate(token)) FROM bench_tokens")
    so_cur.execute("SELECT count(taskauth.authenticate(token)) FROM bench_tokens")
    so.rollback()
    for i in range(1, pairs + 1):
        us = {}
        for kind in (("rollback", "commit") if i % 2 else ("commit", "rollback")):
            so_cur.execute(AUTH, ("signout_seq" if kind == "commit" else "signout_rb_seq",))
            so_cur.execute("SELECT taskauth.logout()")
            so.commit() if kind == "commit" else so.rollback()
            me_cur.execute(TIMED, (i % 200 + 1,))
            us[kind] = me_cur.fetchone()[0]
        print(i, f"{us['rollback']:.1f}", f"{us['commit']:.1f}", flush=True)
    so.close()
    me.close()


if __name__ == "__main__":
    main()
