-- One database of bench/revocation_capacity.sh: a user with a token that is not revoked, and
-- helpers reading this backend's own memory and timing its first authenticate().
\set ON_ERROR_STOP on
CREATE EXTENSION taskauth;
SET taskauth.bcrypt_cost = 4;
SELECT taskauth.add_signing_key('capacity-bench-secret-0123456789abcdefghij') IS NOT NULL AS key;
SELECT taskauth.register('cap@capacity.bench', 'capacity-password') IS NOT NULL AS registered;
CREATE TABLE bench_token AS
SELECT access_token AS token FROM taskauth.sign_in('cap@capacity.bench', 'capacity-password');
-- private memory of this backend (smaps_rollup: pages only it has touched), in kB
CREATE FUNCTION bench_private_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(m[1]::bigint)
    FROM regexp_matches(pg_read_file('/proc/self/smaps_rollup'), 'Private_(?:Clean|Dirty):\s+(\d+) kB', 'g') m
$$;
-- the first authenticate() of a backend, in milliseconds
CREATE FUNCTION bench_first_call() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    tok text;
    t0 timestamptz;
BEGIN
    SELECT token INTO tok FROM bench_token;
    t0 := clock_timestamp();
    PERFORM taskauth.authenticate(tok);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
-- n live revocations (9 sessions to 1 user, as sign-outs and revoke_user leave them) or expired ones
CREATE FUNCTION bench_revoke(n integer, expired boolean) RETURNS void LANGUAGE sql AS $$
    INSERT INTO taskauth.revocations (session_id, user_id, revoked_at, expires_at, reason)
    SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE gen_random_uuid() END, gen_random_uuid(),
           now() - interval '1 minute',
           CASE WHEN expired THEN now() - interval '1 hour' ELSE now() + interval '6 hours' END,
           CASE WHEN g % 10 = 0 THEN 'user_revoked' ELSE 'logout' END
    FROM generate_series(1, n) g
$$;
