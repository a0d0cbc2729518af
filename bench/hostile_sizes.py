#!/usr/bin/python3
"""Cost of hostile token sizes: what jwt_verify and authenticate do with a 10 MB token, a claims
object of 100k members, 10k-deep nesting and a 1 MB number, at the default
taskauth.max_token_size (16 kB) and at its maximum (1 MB).

Each case runs in a fresh session, ROUNDS times, the cases alternated round by round. Recorded:
the outcome (SQLSTATE and message), the statement's wall time seen by the client (median; it
includes sending the token), and the backend's peak RSS growth over the statement (VmHWM from
/proc, median). Prints a Markdown table.

Run inside a cluster, as root or the server's user (for /proc/<backend>/status), after make install:
    pg_virtualenv -t bench/hostile_sizes.py      (env: ROUNDS=7)
"""
import base64
import hashlib
import hmac
import json
import os
import statistics
import time

import psycopg2

SECRET = "bench-hostile-secret-0123456789abcdefghij"
ROUNDS = int(os.environ.get("ROUNDS", "7"))
DB = "ta_bench_hostile"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(payload):
    """An HS256 token over the payload text, made here (not by taskauth)."""
    h = b64u(b'{"alg":"HS256","typ":"JWT"}')
    p = b64u(payload.encode())
    mac = hmac.new(SECRET.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64u(mac)}"


def cases():
    distinct = "{" + ",".join(f'"{i}":0' for i in range(100000)) + "}"
    repeated = "{" + ",".join('"a":0' for _ in range(100000)) + "}"
    return [
        ("normal token (sub, iat, exp)", sign(json.dumps({"sub": "u", "iat": 1, "exp": 4000000000}))),
        ("10 MB of garbage", "a" * (10 * 1024 * 1024)),
        ("100k members, distinct keys (signed)", sign(distinct)),
        ("100k members, one key repeated (signed)", sign(repeated)),
        ("10k-deep nesting (signed)", sign('{"a":' + "[" * 10000 + "]" * 10000 + "}")),
        ("1 MB number (signed)", sign('{"n":' + "9" * (1024 * 1024) + "}")),
        ("780k-digit number (signed)", sign('{"n":' + "9" * 780000 + "}")),
    ]


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_one(sql, token, limit):
    conn = psycopg2.connect(dbname=DB)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"SET taskauth.max_token_size = '{limit}'")
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    before = hwm_kb(pid)
    t0 = time.perf_counter()
    try:
        cur.execute(sql, (token,))
        outcome = "accepted"
    except psycopg2.Error as e:
        outcome = f"{e.pgcode} {e.diag.message_primary}"
    ms = (time.perf_counter() - t0) * 1000
    grow = hwm_kb(pid) - before
    conn.close()
    return outcome, ms, grow


def main():
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB}")
    admin.cursor().execute(f"CREATE DATABASE {DB}")
    try:
        c = psycopg2.connect(dbname=DB)
        c.autocommit = True
        c.cursor().execute("CREATE EXTENSION taskauth")
        c.cursor().execute("SELECT taskauth.add_signing_key(%s)", (SECRET,))
        c.close()
        fns = [("jwt_verify", "SELECT taskauth.jwt_verify(%s, '" + SECRET + "')"),
               ("authenticate", "SELECT taskauth.authenticate(%s)")]
        runs = {}
        cs = cases()
        for _ in range(ROUNDS):
            for name, tok in cs:
                for limit in ("16kB", "1MB"):
                    for fn, sql in fns:
                        o, ms, kb = run_one(sql, tok, limit)
                        r = runs.setdefault((name, len(tok), limit, fn), {"o": o, "ms": [], "kb": []})
                        r["ms"].append(ms)
                        r["kb"].append(kb)
        print(f"ROUNDS={ROUNDS}; median client wall time per statement; median peak-RSS growth of the backend\n")
        print("| case | token bytes | limit | function | outcome | ms | peak RSS +kB |")
        print("|---|---:|---|---|---|---:|---:|")
        for (name, n, limit, fn), r in runs.items():
            print(f"| {name} | {n} | {limit} | {fn} | {r['o']} | {statistics.median(r['ms']):.1f} "
                  f"| {statistics.median(r['kb']):.0f} |")
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
