-- Identity: jwt.sub and jwt.claims are set only by a successful authenticate(), only for the
-- transaction (and follow subtransaction rollback), and every way of forging them fails.
SET client_min_messages = error;
BEGIN;

-- Before anything loads the taskauth library in this session: a placeholder jwt.sub. It may be
-- refused at once (library preloaded) or accepted as a placeholder; either way it must not count.
DO $$
BEGIN
    PERFORM set_config('jwt.sub', '0b7c1f3e-1111-4222-8333-444455556666', false);
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;

SELECT plan(42);

SELECT is(taskauth.current_user_id(), NULL,
          'a jwt.sub placeholder set before the library loaded does not become the identity');
SELECT is(current_setting('jwt.sub'), '', 'loading the library removed the placeholder value');
SELECT is(taskauth.claims(), NULL, 'anonymous: claims() is NULL');

-- fixtures
SET LOCAL taskauth.bcrypt_cost = 4;
CREATE TEMP TABLE kid ON COMMIT DROP AS
SELECT taskauth.add_signing_key('identity-test-secret-0123456789abcdef', 'id1') AS kid;
CREATE TEMP TABLE who ON COMMIT DROP AS
SELECT taskauth.register('alice@identity.test', 'alice-password') AS alice,
       taskauth.register('bob@identity.test', 'bob-password') AS bob;
CREATE TEMP TABLE tok ON COMMIT DROP AS
SELECT taskauth.login('alice@identity.test', 'alice-password') AS alice,
       taskauth.login('bob@identity.test', 'bob-password') AS bob;
CREATE ROLE ta_identity_api NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_identity_api'); END $$;
GRANT SELECT ON who, tok TO ta_identity_api;

-- Forgery as a superuser: the check hook refuses every way of setting the values.
SELECT throws_ok($$SET jwt.sub = '0b7c1f3e-1111-4222-8333-444455556666'$$, '42501',
                 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'SET jwt.sub fails, even for a superuser');
SELECT throws_ok($$SET LOCAL jwt.sub = '0b7c1f3e-1111-4222-8333-444455556666'$$, '42501',
                 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'SET LOCAL jwt.sub fails');
SELECT throws_ok($$SELECT set_config('jwt.sub', '0b7c1f3e-1111-4222-8333-444455556666', true)$$,
                 '42501', 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'set_config(''jwt.sub'', .., true) fails');
SELECT throws_ok($$SELECT set_config('jwt.sub', '0b7c1f3e-1111-4222-8333-444455556666', false)$$,
                 '42501', 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'set_config(''jwt.sub'', .., false) fails');
SELECT throws_ok($$SELECT set_config('jwt.claims', '{"sub":"0b7c1f3e-1111-4222-8333-444455556666"}', true)$$,
                 '42501', 'parameter "jwt.claims" can only be set by taskauth.authenticate()',
                 'set_config(''jwt.claims'', ..) fails');
SELECT throws_ok($$ALTER ROLE ta_identity_api SET jwt.sub = '0b7c1f3e-1111-4222-8333-444455556666'$$,
                 '42501', 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'ALTER ROLE .. SET jwt.sub fails');
SELECT throws_ok($$CREATE FUNCTION pg_temp.forged() RETURNS int LANGUAGE sql
                   SET jwt.sub = '0b7c1f3e-1111-4222-8333-444455556666' AS 'SELECT 1'$$,
                 '42501', 'parameter "jwt.sub" can only be set by taskauth.authenticate()',
                 'a function SET clause for jwt.sub is refused');
SELECT throws_ok($$SET jwt.role = 'admin'$$, '42602',
                 'invalid configuration parameter name "jwt.role"',
                 'the jwt prefix is reserved: no new jwt.* placeholders');

-- Forgery as an API role, including PostgREST's request.jwt.claims.
SET LOCAL ROLE ta_identity_api;
SELECT throws_ok($$SET jwt.sub = '0b7c1f3e-1111-4222-8333-444455556666'$$, '42501',
                 'permission denied to set parameter "jwt.sub"', 'an API role cannot SET jwt.sub');
SELECT throws_ok($$SELECT set_config('jwt.claims', '{}', true)$$, '42501',
                 'permission denied to set parameter "jwt.claims"',
                 'an API role cannot set_config jwt.claims');
SELECT is(taskauth.current_user_id(), NULL, 'PostgREST''s request.jwt.claims is not an identity')
  FROM who
 WHERE set_config('request.jwt.claims', json_build_object('sub', bob, 'role', 'ta_identity_api')::text, true) <> '';

-- A real identity, and what cannot change it.
SAVEPOINT before_auth;
SELECT is(taskauth.authenticate(tok.alice), who.alice, 'authenticate returns the sub') FROM tok, who;
SELECT is(taskauth.current_user_id(), alice, 'current_user_id() is the verified sub') FROM who;
SELECT is(current_setting('jwt.sub'), alice::text, 'jwt.sub holds the sub') FROM who;
SELECT is(taskauth.claims() ->> 'email', 'alice@identity.test', 'claims() holds the verified claims');
SELECT is(current_setting('jwt.claims')::jsonb, taskauth.claims(), 'jwt.claims holds the same claims');
SELECT throws_ok($$SELECT set_config('jwt.sub', (SELECT bob::text FROM who), true)$$, '42501',
                 'permission denied to set parameter "jwt.sub"',
                 'an authenticated session still cannot switch identity with set_config');

-- subtransactions
SAVEPOINT as_bob;
SELECT is(taskauth.authenticate(tok.bob), who.bob, 'authenticate as bob in a subtransaction') FROM tok, who;
ROLLBACK TO SAVEPOINT as_bob;
SELECT is(taskauth.current_user_id(), alice, 'rolling back the subtransaction restores alice') FROM who;
SAVEPOINT bad;
SELECT throws_ok($$SELECT taskauth.authenticate(split_part(alice, '.', 1) || '.' || split_part(alice, '.', 2) || '.AAAA') FROM tok$$,
                 '28000', 'jwt signature does not match', 'a bad token is refused');
ROLLBACK TO SAVEPOINT bad;
SELECT is(taskauth.current_user_id(), alice, 'a failed authenticate leaves the identity as it was') FROM who;
SAVEPOINT released;
CREATE TEMP TABLE ignore_auth ON COMMIT DROP AS SELECT taskauth.authenticate(bob) FROM tok;
RELEASE SAVEPOINT released;
SELECT is(taskauth.current_user_id(), bob, 'a released subtransaction keeps its identity') FROM who;
ROLLBACK TO SAVEPOINT before_auth;
SELECT is(taskauth.current_user_id(), NULL, 'rolling back past authenticate makes the transaction anonymous');

-- One call site of current_user_id() follows the identity row by row within a statement (it
-- keeps what it parsed last, keyed by jwt.sub's text), and values it returned stay as they were.
SAVEPOINT row_by_row;
SELECT is(array_agg(ok ORDER BY n), ARRAY[true, true, true, true],
          'current_user_id() in one statement follows authenticate() row by row')
  FROM (SELECT n, taskauth.authenticate(t) = taskauth.current_user_id() AS ok
          FROM tok, LATERAL (VALUES (1, tok.alice), (2, tok.bob), (3, tok.bob), (4, tok.alice)) v(n, t)) r;
SELECT is(array_agg(u ORDER BY n), (SELECT ARRAY[alice, bob, alice] FROM who),
          'values returned earlier in the statement are not changed by a later identity')
  FROM (SELECT n, taskauth.current_user_id() AS u
          FROM tok, LATERAL (VALUES (1, tok.alice), (2, tok.bob), (3, tok.alice)) v(n, t)
         WHERE taskauth.authenticate(t) IS NOT NULL
        OFFSET 0) r;
ROLLBACK TO SAVEPOINT row_by_row;
SELECT is(current_setting('jwt.sub'), '', 'jwt.sub is empty again');

-- sub must be a uuid
RESET ROLE;
SELECT throws_ok($$SELECT taskauth.authenticate(taskauth.jwt_sign('{"sub":"user-42"}', 'identity-test-secret-0123456789abcdef'))$$,
                 '28000', 'jwt sub claim is not a uuid', 'a sub that is not a uuid is refused');
SELECT throws_ok(format($$SELECT taskauth.authenticate(taskauth.jwt_sign('{"sub":"%s"}', 'identity-test-secret-0123456789abcdef'))$$, s),
                 '28000', 'jwt sub claim is not a uuid', 'a sub of ' || why || ' is refused')
  FROM (VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', 'a non-hex last digit'),
               ('g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a non-hex first digit'),
               ('a0eebc99-9c0b-4ef8-bb6d6-bb9bd380a11', 'a misplaced dash'),
               ('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'no dashes'),
               (' 0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a space for a digit'),
               ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ', 'a trailing space')) AS bad(s, why);
SELECT throws_ok($$SELECT taskauth.authenticate(taskauth.jwt_sign('{"sub":42}', 'identity-test-secret-0123456789abcdef'))$$,
                 '28000', 'jwt has no sub claim', 'a sub that is not a string is refused');
SELECT throws_ok($$SELECT taskauth.authenticate(taskauth.jwt_sign('{"email":"a@b.c"}', 'identity-test-secret-0123456789abcdef'))$$,
                 '28000', 'jwt has no sub claim', 'a token without sub is refused');
SELECT is(taskauth.authenticate(taskauth.jwt_sign(json_build_object('sub', upper(alice::text))::jsonb,
                                                  'identity-test-secret-0123456789abcdef')), alice,
          'an upper-case uuid sub is accepted') FROM who;
SELECT is(current_setting('jwt.sub'), alice::text, 'and stored in canonical lower case') FROM who;
SELECT is(taskauth.authenticate(NULL), NULL, 'authenticate(NULL) is NULL (strict)');

-- Parallel workers see the leader's identity (jwt.sub is copied to them), so current_user_id()
-- is honestly PARALLEL SAFE.
DO $$ BEGIN PERFORM set_config('taskauth_test.leader_pid', pg_backend_pid()::text, true); END $$;
CREATE FUNCTION pg_temp.identity_where_run() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (pg_backend_pid() <> current_setting('taskauth_test.leader_pid')::int)::text || ' '
             || coalesce(taskauth.current_user_id()::text, 'anonymous') || ' '
             || coalesce(lower(taskauth.claims() ->> 'sub'), 'anonymous') $$;
DO $$
BEGIN
    PERFORM set_config('debug_parallel_query', 'on', true);
EXCEPTION WHEN undefined_object THEN
    PERFORM set_config('force_parallel_mode', 'on', true);
END
$$;
-- a statement of parallel-safe functions only (pgTAP's are not), so that it runs in a worker
SELECT pg_temp.identity_where_run() AS where_run \gset
SELECT is(:'where_run', 'true ' || alice || ' ' || lower(alice::text),
          'a parallel worker sees the verified identity and claims') FROM who;

SELECT * FROM finish();
ROLLBACK;
