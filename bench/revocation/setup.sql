-- Revocation benchmark, common data (the template database; bench/revocation.sh copies it into
-- the database with no revocations and the one with them, so both hold the same rows and tokens).
-- 20,200 users: n 1..200 are the measured users (one session each, an access token each);
-- n 201..10200 sign out during part 2 (two sessions each, 20,000 tokens in signout_pool);
-- n 10201..20200 are the users revoke.sql revokes. 20 tasks per user. A copy of the tasks with a
-- PostgREST-style policy (on request.jwt.claims) serves part 3's baseline.
\set ON_ERROR_STOP on
CREATE EXTENSION taskauth;
SELECT taskauth.add_signing_key('revocation-benchmark-secret-0123456789abcdef', 'bench') \g /dev/null
-- tokens and revocations made here stay valid for the whole run
SET taskauth.token_lifetime = '6h';
CREATE ROLE bench_api NOLOGIN;
SELECT taskauth.grant_api_access('bench_api');

CREATE TEMP TABLE pw AS SELECT taskauth.hash_password('benchmark-password', 4) AS h;
INSERT INTO taskauth.users (email, hashed_password)
SELECT 'user' || g || '@example.com', (SELECT h FROM pw) FROM generate_series(1, 20200) g;
CREATE TABLE bench_users (n int PRIMARY KEY, id uuid NOT NULL, email text NOT NULL);
INSERT INTO bench_users
SELECT substring(email FROM '^user([0-9]+)@')::int, id, email FROM taskauth.users;

INSERT INTO taskauth.tasks (user_id, title, description, is_completed)
SELECT u.id, 'task ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'description of task ' || g END,
       g % 3 = 0
FROM generate_series(1, 20) g CROSS JOIN bench_users u
ORDER BY g, u.n;

-- the measured users' access tokens: HS256, kid, sid of a real session
CREATE TABLE bench_tokens (n int PRIMARY KEY, uid uuid NOT NULL, sid uuid NOT NULL,
                           token text NOT NULL, claims jsonb NOT NULL);
INSERT INTO bench_tokens (n, uid, sid, token, claims)
SELECT u.n, u.id, s.session_id, taskauth.issue_token(u.id, u.email, s.session_id), '{}'
FROM bench_users u CROSS JOIN LATERAL taskauth.start_session(u.id, false) s
WHERE u.n <= 200;
UPDATE bench_tokens SET claims = taskauth.jwt_verify(token, 'revocation-benchmark-secret-0123456789abcdef');

-- part 2: sessions that sign out, used once each in a random order
CREATE TABLE signout_pool (n int PRIMARY KEY, token text NOT NULL);
INSERT INTO signout_pool
SELECT row_number() OVER (ORDER BY random()), taskauth.issue_token(u.id, u.email, s.session_id)
FROM bench_users u CROSS JOIN generate_series(1, 2) g
-- (g = 0, always false, makes the call depend on g: one session per row, not per user)
CROSS JOIN LATERAL taskauth.start_session(u.id, g = 0) s
WHERE u.n BETWEEN 201 AND 10200;
-- sign-outs take the first 18,000 once each; the rolled-back control cycles over the last 2,000
CREATE SEQUENCE signout_seq MAXVALUE 18000;
CREATE SEQUENCE signout_rb_seq MINVALUE 18001 MAXVALUE 20000 CYCLE;

-- part 3: what PostgREST would send for each measured user's request. taskauth: the token in a
-- header PostgREST does not interpret, claims with only the role. The baseline: PostgREST has
-- verified the token itself and passes its claims, with the role and a jti (the token's sid).
CREATE TABLE pgrst_requests (n int PRIMARY KEY, ta_claims text NOT NULL, ta_headers text NOT NULL,
                             pg_claims text NOT NULL, pg_headers text NOT NULL);
INSERT INTO pgrst_requests
SELECT n, '{"role":"bench_api"}',
       json_build_object('host', 'localhost:3000', 'user-agent', 'bench/1.0', 'accept', '*/*',
                         'x-taskauth-token', token)::text,
       (claims || jsonb_build_object('jti', sid, 'role', 'bench_api'))::text,
       json_build_object('host', 'localhost:3000', 'user-agent', 'bench/1.0', 'accept', '*/*',
                         'authorization', 'Bearer ' || token)::text
FROM bench_tokens;

-- the baseline's deny-list (filled in the database with revocations) and its pre-request hook
CREATE TABLE jwt_denylist (jti text PRIMARY KEY, expires_at timestamptz NOT NULL);
CREATE FUNCTION check_denylist() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.jwt_denylist d
                WHERE d.jti = current_setting('request.jwt.claims', true)::json ->> 'jti') THEN
        RAISE SQLSTATE 'PGRST'
            USING MESSAGE = '{"code":"PGRST301","message":"token revoked"}',
                  DETAIL = '{"status":401,"headers":{"WWW-Authenticate":"Bearer error=\"invalid_token\""}}';
    END IF;
END
$$;
CREATE TABLE pgrst_tasks (LIKE taskauth.tasks INCLUDING DEFAULTS);
INSERT INTO pgrst_tasks SELECT * FROM taskauth.tasks ORDER BY ctid;
ALTER TABLE pgrst_tasks ADD PRIMARY KEY (id);
CREATE INDEX ON pgrst_tasks (user_id, created_at);
ALTER TABLE pgrst_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE pgrst_tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON pgrst_tasks FOR SELECT
    USING (user_id = (SELECT (nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sub')::uuid));
GRANT SELECT ON jwt_denylist, pgrst_tasks TO bench_api;
GRANT EXECUTE ON FUNCTION check_denylist() TO bench_api;

-- part 1: 200 tokens x 250, shuffled: the order in which the in-session loop authenticates them
CREATE TABLE bench_calls AS
SELECT t.token FROM bench_tokens t CROSS JOIN generate_series(1, 250) ORDER BY random();
-- filled in the database with revocations: a token of a revoked session
CREATE TABLE revoked_probe (token text NOT NULL);

-- authenticate() over the first `calls` rows of bench_calls, in microseconds a call; with the
-- verified-token cache on (after a first pass, every call a hit) or off (every call verifies)
CREATE FUNCTION bench_loop(calls int, cache boolean) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    c bigint;
BEGIN
    PERFORM set_config('taskauth.token_cache_size', CASE WHEN cache THEN '1024' ELSE '0' END, true);
    t0 := clock_timestamp();
    SELECT count(taskauth.authenticate(b.token)) INTO c FROM (SELECT token FROM bench_calls LIMIT calls) b;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / c;
END
$$;

-- the message authenticate() gives for revoked_probe's token ('no probe' where there is none)
CREATE FUNCTION bench_probe() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    tok text;
BEGIN
    SELECT token INTO tok FROM revoked_probe;
    IF tok IS NULL THEN
        RETURN 'no probe';
    END IF;
    PERFORM taskauth.authenticate(tok);
    RETURN 'accepted';
EXCEPTION WHEN invalid_authorization_specification THEN
    RETURN SQLERRM;
END
$$;

-- part 4: this backend's memory (kB): private pages (smaps_rollup) and resident set (VmRSS)
CREATE FUNCTION bench_private_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(m[1]::bigint)
    FROM regexp_matches(pg_read_file('/proc/self/smaps_rollup'), 'Private_(?:Clean|Dirty):\s+(\d+) kB', 'g') m
$$;
CREATE FUNCTION bench_rss_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+) kB'))[1]::bigint
$$;
-- CPU time this backend has run, in nanoseconds (first field of /proc/self/schedstat)
CREATE FUNCTION bench_cpu_ns() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint
$$;
-- the first authenticate() of a backend, in milliseconds
CREATE FUNCTION bench_first_call() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    tok text;
    t0 timestamptz;
BEGIN
    SELECT token INTO tok FROM bench_tokens WHERE n = 1;
    t0 := clock_timestamp();
    PERFORM taskauth.authenticate(tok);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
