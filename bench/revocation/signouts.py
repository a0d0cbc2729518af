"""Part 2 of bench/revocation.sh: sign-outs at a fixed rate, switched on and off in short
periods while pgbench runs the measured users' requests, so that each period with sign-outs has
neighbours without them under the same outside load. One long-lived connection (as an app's
pool would hold) cycles through three states of PERIOD seconds each, CYCLES times, the order
rotating each cycle: "none" (idle), "signout" (a sign-out transaction RATE times a second,
committed: authenticate the next pooled session's token, logout()) and "rollback" (the same
work rolled back: its CPU, no revocation). Prints "cycle state start end transactions" per
period (epoch seconds).
Usage: signouts.py DB RATE PERIOD CYCLES   (libpq settings from PG* variables)
"""
import sys
import time

import psycopg2

AUTH = ("SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token) "
        "FROM signout_pool WHERE n = (SELECT nextval(%s))")


def main():
    db, rate, period, cycles = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    conn = psycopg2.connect(dbname=db)
    cur = conn.cursor()
    # a first transaction reads the revoked sets before any period starts
    cur.execute("SELECT count(taskauth.authenticate(token)) FROM bench_tokens")
    conn.rollback()
    orders = (("none", "signout", "rollback"), ("signout", "rollback", "none"),
              ("rollback", "none", "signout"))
    for c in range(1, cycles + 1):
        for state in orders[(c - 1) % 3]:
            start = time.time()
            end = start + period
            n = 0
            if state == "none":
                time.sleep(period)
            else:
                seq = "signout_seq" if state == "signout" else "signout_rb_seq"
                while True:
                    due = start + n / rate
                    if due >= end:
                        break
                    wait = due - time.time()
                    if wait > 0:
                        time.sleep(wait)
                    cur.execute(AUTH, (seq,))
                    cur.execute("SELECT taskauth.logout()")
                    if state == "signout":
                        conn.commit()
                    else:
                        conn.rollback()
                    n += 1
                wait = end - time.time()
                if wait > 0:
                    time.sleep(wait)
            print(c, state, f"{start:.3f}", f"{time.time():.3f}", n, flush=True)
    conn.close()


if __name__ == "__main__":
    main()
