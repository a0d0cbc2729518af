#!/usr/bin/python3
"""Benchmark: verifying 20,000 distinct HS256 tokens.

Compares taskauth.jwt_verify with a pure-SQL verifier on pgcrypto written the way pgjwt-style
projects do it, and with PyJWT in this Python process, all on the same tokens in one run.
Connects with the PG* environment; run it inside a throwaway cluster:

    make install && pg_virtualenv -t -v 15 bench/jwt_verify.py [REPETITIONS]

Prints medians in microseconds per token, of wall-clock time and of CPU time (the server
backend's on-CPU time from /proc/<pid>/schedstat, this process's for PyJWT). CPU time is the
steadier figure on a shared machine: it leaves out time spent waiting for a CPU.
"""
import io
import os
import platform
import statistics
import sys
import time

import jwt
import psycopg2

N = 20000
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
SECRET = "bench-secret-0123456789abcdef0123456789"

SQL_SETUP = r"""
CREATE EXTENSION IF NOT EXISTS taskauth;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- base64url to bytea: translate to the standard alphabet and restore the padding
CREATE FUNCTION bench.url_decode(data text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  WITH t AS (SELECT translate(data, '-_', '+/') AS trans),
       rem AS (SELECT length(t.trans) % 4 AS remainder FROM t)
  SELECT decode(t.trans || CASE WHEN rem.remainder > 0
                                THEN repeat('=', 4 - rem.remainder) ELSE '' END, 'base64')
  FROM t, rem;
$$;

CREATE FUNCTION bench.url_encode(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;

-- split, check alg, recompute the HMAC, compare, decode the payload, check exp
CREATE FUNCTION bench.pgcrypto_verify(token text, secret text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  h text := split_part(token, '.', 1);
  p text := split_part(token, '.', 2);
  s text := split_part(token, '.', 3);
  header jsonb;
  payload jsonb;
BEGIN
  IF split_part(token, '.', 4) <> '' OR s = '' THEN
    RAISE EXCEPTION 'malformed' USING ERRCODE = '28000';
  END IF;
  header := convert_from(bench.url_decode(h), 'UTF8')::jsonb;
  IF header ->> 'alg' IS DISTINCT FROM 'HS256' THEN
    RAISE EXCEPTION 'algorithm' USING ERRCODE = '28000';
  END IF;
  IF bench.url_encode(hmac(h || '.' || p, secret, 'sha256')) <> s THEN
    RAISE EXCEPTION 'signature' USING ERRCODE = '28000';
  END IF;
  payload := convert_from(bench.url_decode(p), 'UTF8')::jsonb;
  IF payload ? 'exp' AND (payload ->> 'exp')::numeric <= extract(epoch FROM now()) THEN
    RAISE EXCEPTION 'expired' USING ERRCODE = '28000';
  END IF;
  RETURN payload;
END
$$;

CREATE TABLE bench.tokens (t text NOT NULL);
"""


def backend_cpu(pid):
    """Seconds the backend has spent on a CPU (first field of /proc/PID/schedstat, in ns)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def timed(cur, pid, sql):
    """(wall seconds, backend CPU seconds) of one query."""
    c0 = backend_cpu(pid)
    t0 = time.perf_counter()
    cur.execute(sql)
    cur.fetchall()
    t1 = time.perf_counter()
    return t1 - t0, backend_cpu(pid) - c0


def main():
    load0 = open("/proc/loadavg").read().split()[0]
    now = int(time.time())
    tokens = [
        jwt.encode({"sub": f"6f1c2a9e-0000-4000-8000-{i:012d}", "email": f"user{i}@example.com",
                    "iat": now - (i % 600), "exp": now + 3600}, SECRET, algorithm="HS256")
        for i in range(N)
    ]
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(SQL_SETUP)
    cur.copy_expert("COPY bench.tokens (t) FROM STDIN", io.StringIO("".join(t + "\n" for t in tokens)))
    cur.execute("VACUUM ANALYZE bench.tokens")

    queries = {
        "scan only: count(length(t))": "SELECT count(length(t)) FROM bench.tokens",
        "taskauth.jwt_verify": f"SELECT count(taskauth.jwt_verify(t, '{SECRET}')) FROM bench.tokens",
        "pure SQL + pgcrypto": f"SELECT count(bench.pgcrypto_verify(t, '{SECRET}')) FROM bench.tokens",
    }
    # check that all three accept every token and agree on the claims
    cur.execute(f"SELECT count(*) FROM bench.tokens WHERE taskauth.jwt_verify(t, '{SECRET}') "
                f"IS DISTINCT FROM bench.pgcrypto_verify(t, '{SECRET}')")
    assert cur.fetchone()[0] == 0, "verifiers disagree"

    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    results = {k: [] for k in queries}
    results["PyJWT jwt.decode (Python)"] = []
    for _ in range(REPS):
        for name, sql in queries.items():
            results[name].append(timed(cur, pid, sql))
        t0, c0 = time.perf_counter(), time.process_time()
        for t in tokens:
            jwt.decode(t, SECRET, algorithms=["HS256"])
        results["PyJWT jwt.decode (Python)"].append((time.perf_counter() - t0,
                                                     time.process_time() - c0))

    cur.execute("SELECT version()")
    pgver = cur.fetchone()[0]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs ({cpu})")
    print(f"# {pgver}")
    print(f"# PyJWT {jwt.__version__}, Python {platform.python_version()}, "
          f"{N} tokens, {REPS} repetitions, medians")
    print(f"# load average before: {load0}, after: {open('/proc/loadavg').read().split()[0]}")
    print(f"{'method':32s} {'wall us/token':>14s} {'(min)':>7s} {'CPU us/token':>13s} {'(min)':>7s}")
    wall, cpu = {}, {}
    for name, xs in results.items():
        w = [x[0] / N * 1e6 for x in xs]
        c = [x[1] / N * 1e6 for x in xs]
        wall[name], cpu[name] = statistics.median(w), statistics.median(c)
        print(f"{name:32s} {wall[name]:14.2f} {min(w):7.2f} {cpu[name]:13.2f} {min(c):7.2f}")
    ours, sql, py = "taskauth.jwt_verify", "pure SQL + pgcrypto", "PyJWT jwt.decode (Python)"
    print(f"# taskauth.jwt_verify vs pure SQL + pgcrypto: {wall[sql] / wall[ours]:.1f}x wall, "
          f"{cpu[sql] / cpu[ours]:.1f}x CPU; vs PyJWT: {wall[py] / wall[ours]:.1f}x wall, "
          f"{cpu[py] / cpu[ours]:.1f}x CPU")


if __name__ == "__main__":
    main()
