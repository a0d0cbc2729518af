"""Part 1a of bench/revocation.sh: authenticate() per call in an in-session loop, the two
databases side by side. One long-lived connection to each; after a warm-up (the revoked sets
read, the token cache filled), PAIRS pairs of short loops alternate between them (the order
switching each pair), so that the machine's drift falls on both alike. Prints one line a pair:
"pair kind us_none us_with" (microseconds a call), kind "hit" (every call in the verified-token
cache) or "first" (the cache off: every call verifies the token).
Usage: pairs.py DB_NONE DB_WITH PAIRS HIT_CALLS FIRST_CALLS   (libpq settings from PG* variables)
"""
import sys

import psycopg2


def loop(cur, calls, cache):
    cur.execute("SELECT bench_loop(%s, %s)", (calls, cache))
    return cur.fetchone()[0]


def main():
    none_db, with_db = sys.argv[1], sys.argv[2]
    pairs, hit_calls, first_calls = (int(a) for a in sys.argv[3:6])
    conns = {db: psycopg2.connect(dbname=db) for db in (none_db, with_db)}
    curs = {}
    for db, conn in conns.items():
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT count(taskauth.authenticate(token)) FROM bench_tokens")
        loop(cur, hit_calls, True)
        curs[db] = cur
    for i in range(1, pairs + 1):
        order = (none_db, with_db) if i % 2 else (with_db, none_db)
        for kind, calls, cache in (("hit", hit_calls, True), ("first", first_calls, False)):
            us = {db: loop(curs[db], calls, cache) for db in order}
            print(i, kind, f"{us[none_db]:.4f}", f"{us[with_db]:.4f}", flush=True)
    # the revocations were in force in the measuring backend, and only there
    for db, cur in curs.items():
        cur.execute("SELECT bench_probe()")
        print("probe", db, cur.fetchone()[0].replace(" ", "_"), flush=True)
    for conn in conns.values():
        conn.close()


if __name__ == "__main__":
    main()
