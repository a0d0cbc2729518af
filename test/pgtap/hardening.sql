-- The security review's findings, each guarded: what an API role can execute (nothing that costs
-- more than one login), the policies as written in the catalog and every verb without WHERE or
-- RETURNING, search_path hijacks of every SECURITY DEFINER function, their pinned settings, and
-- planner statistics that would tell one user about another's tasks.
SET client_min_messages = error;
BEGIN;
SELECT plan(48);

SET LOCAL taskauth.bcrypt_cost = 4;
CREATE TEMP TABLE fx ON COMMIT DROP AS
SELECT taskauth.add_signing_key('hardening-test-secret-0123456789abcdefghi', 'hard') AS kid,
       taskauth.register('alice@hardening.test', 'alice-password') AS alice,
       taskauth.register('bob@hardening.test', 'bob-password') AS bob;
ALTER TABLE fx ADD COLUMN alice_tok text;
UPDATE fx SET alice_tok = taskauth.login('alice@hardening.test', 'alice-password');
CREATE ROLE ta_hard_api NOLOGIN;
CREATE ROLE ta_hard_tools NOLOGIN;
CREATE ROLE ta_hard_nobody NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_hard_api'); END $$;
GRANT SELECT ON fx TO ta_hard_api;

-- 1. What each role can execute -----------------------------------------------------------------
CREATE TEMP VIEW executable AS
SELECT r.rolname, string_agg(p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', ', '
                             ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)) AS fns
  FROM pg_proc p, pg_roles r
 WHERE p.pronamespace = 'taskauth'::regnamespace AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
   AND r.rolname IN ('ta_hard_api', 'ta_hard_nobody', 'ta_hard_tools')
 GROUP BY r.rolname;
SELECT is((SELECT fns FROM executable WHERE rolname = 'ta_hard_api'),
          'authenticate(token text), change_password(old_password text, new_password text), claims(), '
          'current_user_id(), login(email text, password text), logout(), logout_everywhere(), '
          'pre_request(), refresh(refresh_token text), register(email text, password text), '
          'sign_in(email text, password text)',
          'the API role can execute exactly the API');
SELECT is((SELECT fns FROM executable WHERE rolname = 'ta_hard_nobody'),
          'claims(), current_user_id()',
          'PUBLIC can execute only current_user_id and claims');
DO $$ BEGIN PERFORM taskauth.grant_primitive_access('ta_hard_tools'); END $$;
SELECT ok((SELECT fns FROM executable WHERE rolname = 'ta_hard_tools') LIKE '%hash_password_argon2id(password text, memory_kib integer, iterations integer, parallelism integer)%'
          AND (SELECT fns FROM executable WHERE rolname = 'ta_hard_tools') LIKE '%jwt_sign(%'
          AND (SELECT fns FROM executable WHERE rolname = 'ta_hard_tools') LIKE '%verify_password(%',
          'grant_primitive_access gives a role the primitives');
DO $$ BEGIN PERFORM taskauth.revoke_primitive_access('ta_hard_tools'); END $$;
SELECT is((SELECT fns FROM executable WHERE rolname = 'ta_hard_tools'),
          'claims(), current_user_id()',
          'revoke_primitive_access takes them back');
SELECT ok(NOT has_function_privilege('ta_hard_api', 'taskauth.grant_primitive_access(regrole)', 'EXECUTE'),
          'the API role cannot grant itself the primitives');

SET LOCAL ROLE ta_hard_api;
SELECT throws_ok($$SELECT taskauth.hash_password_argon2id('x', 262144, 10, 8)$$, '42501', NULL,
                 'the API role cannot start a 256 MiB argon2id hash');
SELECT throws_ok($$SELECT taskauth.hash_password('x', 14)$$, '42501', NULL,
                 'the API role cannot hash at the maximum bcrypt cost');
SELECT throws_ok($$SELECT taskauth.verify_password('x', '$2b$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')$$,
                 '42501', NULL, 'the API role cannot verify against a hash of its choosing');
SELECT throws_ok($$SELECT taskauth.jwt_verify('a.b.c', '{"kty":"RSA"}'::jsonb)$$, '42501', NULL,
                 'the API role cannot call jwt_verify directly');
RESET ROLE;

-- One list each: grant_api_access and revoke_api_access walk api_privileges(), the primitive
-- grants walk primitive_functions(); what a role gets is exactly what the list names.
CREATE ROLE ta_hard_lists NOLOGIN;
-- the functions a role can run beyond PUBLIC's (current_user_id and claims, also in the list)
CREATE TEMP VIEW own_functions AS
SELECT r.rolname, p.oid::regprocedure AS fn
  FROM pg_proc p, pg_roles r
 WHERE p.pronamespace = 'taskauth'::regnamespace AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
   AND NOT has_function_privilege('ta_hard_nobody', p.oid, 'EXECUTE');
SELECT set_eq($$SELECT fn FROM own_functions WHERE rolname = 'ta_hard_api'$$,
              $$SELECT substr(object, 10)::regprocedure FROM taskauth.api_privileges() WHERE object LIKE 'FUNCTION %'
                EXCEPT SELECT p.oid::regprocedure FROM pg_proc p
                        WHERE has_function_privilege('ta_hard_nobody', p.oid, 'EXECUTE')$$,
              'grant_api_access gives exactly the functions api_privileges lists');
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_hard_lists', false); END $$;
SELECT set_eq($$SELECT fn FROM own_functions WHERE rolname = 'ta_hard_lists'$$,
              $$SELECT substr(object, 10)::regprocedure FROM taskauth.api_privileges()
                 WHERE object LIKE 'FUNCTION %' AND NOT accounts
                EXCEPT SELECT p.oid::regprocedure FROM pg_proc p
                        WHERE has_function_privilege('ta_hard_nobody', p.oid, 'EXECUTE')$$,
              'with accounts => false, exactly those not marked accounts');
SELECT is(ARRAY[has_table_privilege('ta_hard_lists', 'taskauth.tasks', 'DELETE'),
                has_column_privilege('ta_hard_lists', 'taskauth.users', 'email', 'SELECT'),
                has_column_privilege('ta_hard_lists', 'taskauth.users', 'hashed_password', 'SELECT'),
                has_table_privilege('ta_hard_lists', 'taskauth.sessions', 'SELECT')],
          ARRAY[true, true, false, false], 'and its tables: tasks and users (never hashed_password), not sessions');
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_hard_lists');
            PERFORM taskauth.revoke_api_access('ta_hard_lists'); END $$;
SELECT is((SELECT count(*) FROM own_functions WHERE rolname = 'ta_hard_lists'), 0::bigint,
          'revoke_api_access takes back every function of the list');
SELECT is((SELECT count(*) FROM information_schema.role_table_grants
            WHERE grantee = 'ta_hard_lists' AND table_schema = 'taskauth')
          + (SELECT count(*) FROM information_schema.role_column_grants
              WHERE grantee = 'ta_hard_lists' AND table_schema = 'taskauth'), 0::bigint,
          'and every table and column privilege');
DO $$ BEGIN PERFORM taskauth.grant_primitive_access('ta_hard_lists'); END $$;
SELECT set_eq($$SELECT fn FROM own_functions WHERE rolname = 'ta_hard_lists'$$,
              $$SELECT taskauth.primitive_functions()$$,
              'grant_primitive_access gives exactly the functions primitive_functions lists');
DO $$ BEGIN PERFORM taskauth.revoke_primitive_access('ta_hard_lists'); END $$;
SELECT is((SELECT count(*) FROM own_functions WHERE rolname = 'ta_hard_lists'), 0::bigint,
          'revoke_primitive_access takes back every one');

-- One reading of a preload list, one test of a uuid.
SELECT results_eq($$SELECT library, is_taskauth
                      FROM taskauth.preload_entries(' "$libdir/taskauth", pg_stat_statements,, taskauth_x ,taskauth')$$,
                  $$VALUES ('$libdir/taskauth', true), ('pg_stat_statements', false), ('taskauth_x', false),
                           ('taskauth', true)$$,
                  'preload_entries splits a library list, trims blanks and quotes, skips empty entries, knows taskauth');
SELECT is(ARRAY[taskauth.uuid_or_null('0F8FAD5B-d9cb-469f-a165-70867728950e'),
                taskauth.uuid_or_null('{0f8fad5b-d9cb-469f-a165-70867728950e}'),
                taskauth.uuid_or_null('0f8fad5bd9cb469fa16570867728950e'),
                taskauth.uuid_or_null('not-a-uuid')],
          ARRAY['0f8fad5b-d9cb-469f-a165-70867728950e'::uuid, NULL, NULL, NULL],
          'uuid_or_null takes the 8-4-4-4-12 form in either case and nothing else');

-- 2. The policies as the catalog holds them --------------------------------------------------------
SELECT is(
  (SELECT string_agg(concat_ws(' | ', polname, polcmd, coalesce(pg_get_expr(polqual, polrelid), '-'),
                               coalesce(pg_get_expr(polwithcheck, polrelid), '-')), E'\n' ORDER BY polname)
     FROM pg_policy WHERE polrelid IN ('taskauth.tasks'::regclass, 'taskauth.users'::regclass)),
  concat_ws(E'\n',
    'tasks_delete_own | d | (user_id = taskauth.current_user_id()) | -',
    'tasks_insert_own | a | - | (user_id = taskauth.current_user_id())',
    'tasks_select_own | r | (user_id = taskauth.current_user_id()) | -',
    'tasks_update_own | w | (user_id = taskauth.current_user_id()) | (user_id = taskauth.current_user_id())',
    'users_select_own | r | (id = taskauth.current_user_id()) | -'),
  'the five policies are exactly the owner checks, USING and WITH CHECK alike');
SELECT is((SELECT count(*) FROM pg_policy WHERE polrelid IN ('taskauth.tasks'::regclass, 'taskauth.users'::regclass)
             AND NOT polpermissive), 0::bigint, 'no restrictive policy hides a missing check');

-- 3. Every verb without WHERE or RETURNING --------------------------------------------------------
INSERT INTO taskauth.tasks (user_id, title) SELECT alice, 'alice ' || g FROM fx, generate_series(1, 3) g;
INSERT INTO taskauth.tasks (user_id, title) SELECT bob, 'bob ' || g FROM fx, generate_series(1, 3) g;
SET LOCAL ROLE ta_hard_api;
-- anonymous first (an identity lasts until the transaction ends)
SELECT lives_ok($$UPDATE taskauth.tasks SET title = 'anonymous was here'$$, 'anonymous bare UPDATE runs');
SELECT lives_ok($$DELETE FROM taskauth.tasks$$, 'anonymous bare DELETE runs');
SELECT ok(taskauth.authenticate(alice_tok) = alice, 'alice authenticates') FROM fx;
SELECT throws_ok($$UPDATE taskauth.tasks SET user_id = (SELECT bob FROM fx)$$, '42501',
                 'new row violates row-level security policy for table "tasks"',
                 'alice cannot move her tasks to bob with a bare UPDATE');
SELECT throws_ok($$INSERT INTO taskauth.tasks (user_id, title) SELECT bob, 'planted' FROM fx$$, '42501',
                 'new row violates row-level security policy for table "tasks"',
                 'alice cannot plant a task on bob');
SELECT lives_ok($$UPDATE taskauth.tasks SET title = 'renamed by alice'$$, 'alice bare UPDATE of titles runs');
SELECT lives_ok($$DELETE FROM taskauth.tasks WHERE title = 'renamed by alice' AND ctid = (SELECT min(ctid) FROM taskauth.tasks)$$,
                'alice deletes one of hers');
RESET ROLE;
SELECT results_eq($$SELECT u.email, t.title, count(*) FROM taskauth.tasks t JOIN taskauth.users u ON u.id = t.user_id
                     GROUP BY 1, 2 ORDER BY 1, 2$$,
                  $$VALUES ('alice@hardening.test', 'renamed by alice', 2::bigint),
                           ('bob@hardening.test', 'bob 1', 1::bigint), ('bob@hardening.test', 'bob 2', 1::bigint),
                           ('bob@hardening.test', 'bob 3', 1::bigint)$$,
                  'bare verbs touched only alice''s rows: anonymous changed nothing, bob''s tasks are untouched');
SET LOCAL ROLE ta_hard_api;
SELECT lives_ok($$DELETE FROM taskauth.tasks$$, 'alice bare DELETE runs');
RESET ROLE;
SELECT is((SELECT count(*) FROM taskauth.tasks t JOIN fx ON t.user_id = fx.bob), 3::bigint,
          'alice''s bare DELETE left bob''s three tasks');

-- 4. SECURITY DEFINER functions: pinned settings and a real hijack attempt ----------------------------
SELECT is((SELECT string_agg(proname, ', ' ORDER BY proname) FROM pg_proc
            WHERE pronamespace = 'taskauth'::regnamespace AND prosecdef
              AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(proconfig, '{}')))),
          NULL, 'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');
SELECT is((SELECT string_agg(proname, ', ' ORDER BY proname) FROM pg_proc
            WHERE pronamespace = 'taskauth'::regnamespace AND prosecdef),
          'change_password, count_issuer_login_attempt, has_issuers, issuer_config, '
          'issuer_login_succeeded, issuer_session_ended, login, logout, logout_everywhere, '
          'provision_user, refresh, register, sign_in, users_deleted',
          'the SECURITY DEFINER functions are the ones reviewed');
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text) FROM pg_proc p
            WHERE pronamespace = 'taskauth'::regnamespace
              AND (proargnames && ARRAY['password', 'secret'] OR proname IN ('login', 'register'))
              AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
              AND NOT ('log_min_error_statement=panic' = ANY (coalesce(proconfig, '{}')))),
          NULL, 'every SQL-level function taking a password or secret keeps its statement out of the log');

CREATE SCHEMA ta_hard_evil AUTHORIZATION ta_hard_api;
CREATE TABLE ta_hard_evil.calls (fn text);
GRANT ALL ON ta_hard_evil.calls TO PUBLIC;
SET LOCAL ROLE ta_hard_api;
CREATE FUNCTION ta_hard_evil.btrim(text) RETURNS text LANGUAGE sql AS
  $$INSERT INTO ta_hard_evil.calls VALUES ('btrim') RETURNING $1$$;
CREATE FUNCTION ta_hard_evil.lower(text) RETURNS text LANGUAGE sql AS
  $$INSERT INTO ta_hard_evil.calls VALUES ('lower') RETURNING $1$$;
CREATE FUNCTION ta_hard_evil.current_setting(text) RETURNS text LANGUAGE sql AS
  $$INSERT INTO ta_hard_evil.calls VALUES ('current_setting') RETURNING pg_catalog.current_setting($1)$$;
CREATE FUNCTION ta_hard_evil.char_length(text) RETURNS integer LANGUAGE sql AS
  $$INSERT INTO ta_hard_evil.calls VALUES ('char_length') RETURNING 100$$;
CREATE FUNCTION ta_hard_evil.octet_length(text) RETURNS integer LANGUAGE sql AS
  $$INSERT INTO ta_hard_evil.calls VALUES ('octet_length') RETURNING 1$$;
SET LOCAL search_path = ta_hard_evil, pg_catalog, public;
SELECT lives_ok($$SELECT taskauth.register('hijack@hardening.test', 'hijack-password')$$,
                'register runs with a hostile search_path');
SELECT lives_ok($$SELECT taskauth.login('hijack@hardening.test', 'hijack-password')$$,
                'login runs with a hostile search_path');
SELECT throws_ok($$SELECT taskauth.login('nobody@hardening.test', 'hijack-password')$$, '28P01', NULL,
                 'a failed login runs with a hostile search_path');
SELECT is((SELECT count(*) FROM ta_hard_evil.calls), 0::bigint,
          'none of the API role''s look-alike functions ran as the extension owner');
RESET search_path;
RESET ROLE;

-- 5. Planner statistics -------------------------------------------------------------------------------
SELECT is((SELECT string_agg(attname || '=' || attstattarget, ', ' ORDER BY attname) FROM pg_attribute
            WHERE attrelid = 'taskauth.tasks'::regclass AND attname IN ('title', 'description')),
          'description=0, title=0', 'no statistics are gathered on task titles and descriptions');
INSERT INTO taskauth.tasks (user_id, title, description)
SELECT bob, 'bob-secret-title', 'bob-secret-description' FROM fx, generate_series(1, 2000);
INSERT INTO taskauth.tasks (user_id, title)
SELECT alice, 'alice task ' || g FROM fx, generate_series(1, 500) g;
ANALYZE taskauth.tasks;
CREATE FUNCTION pg_temp.estimate(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SET LOCAL ROLE ta_hard_api;
SELECT ok(taskauth.authenticate(alice_tok) = alice, 'alice authenticates for the estimates') FROM fx;
SELECT is(pg_temp.estimate($$SELECT * FROM taskauth.tasks WHERE title = 'bob-secret-title'$$),
          pg_temp.estimate($$SELECT * FROM taskauth.tasks WHERE title = 'a title nobody uses'$$),
          'as alice, the estimate for bob''s common title equals that for a title nobody uses');
SELECT is(pg_temp.estimate($$SELECT * FROM taskauth.tasks WHERE description = 'bob-secret-description'$$),
          pg_temp.estimate($$SELECT * FROM taskauth.tasks WHERE description = 'nothing like it'$$),
          'and the same for descriptions');
RESET ROLE;

-- Every column an API role can read under row-level security (and every index expression over
-- such a table) gathers no statistics, unless its comment says why it needs them.
SELECT is((SELECT string_agg(format('%s.%s', c.relname, a.attname), ', ' ORDER BY c.relname, a.attname)
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relnamespace = 'taskauth'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
              AND a.attnum > 0 AND NOT a.attisdropped
              AND has_column_privilege('ta_hard_api', c.oid, a.attnum, 'SELECT')
              AND coalesce(a.attstattarget::int, -1) <> 0
              AND coalesce(col_description(c.oid, a.attnum), '') NOT LIKE '%Statistics kept:%'),
          NULL, 'every column an API role can read has statistics off, or a comment saying why it keeps them');
SELECT is((SELECT string_agg(i.indexrelid::regclass::text, ', ')
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_attribute a ON a.attrelid = i.indexrelid
            WHERE c.relnamespace = 'taskauth'::regnamespace AND c.relrowsecurity
              AND i.indexprs IS NOT NULL AND coalesce(a.attstattarget::int, -1) <> 0),
          NULL, 'no expression index over such a table gathers statistics either');
INSERT INTO taskauth.sessions (user_id, expires_at, access_expires_at, user_agent, client_addr)
SELECT bob, now() + interval '1 day', now() + interval '1 hour', 'bob-secret-device/1.0', '203.0.113.7'
  FROM fx, generate_series(1, 300);
ANALYZE taskauth.sessions;
SET LOCAL ROLE ta_hard_api;
SELECT ok(taskauth.authenticate(alice_tok) = alice, 'alice authenticates for the session estimates') FROM fx;
SELECT is(pg_temp.estimate($$SELECT * FROM taskauth.sessions WHERE user_agent = 'bob-secret-device/1.0'$$),
          pg_temp.estimate($$SELECT * FROM taskauth.sessions WHERE user_agent = 'no such device'$$),
          'as alice, the estimate for bob''s user agent equals that for one nobody uses');
SELECT is(pg_temp.estimate($$SELECT * FROM taskauth.sessions WHERE client_addr = '203.0.113.7'$$),
          pg_temp.estimate($$SELECT * FROM taskauth.sessions WHERE client_addr = '198.51.100.1'$$),
          'and the same for client addresses');
RESET ROLE;

-- 6. The taskauth prefix is reserved: a setting that taskauth does not define is refused.
SET LOCAL ROLE ta_hard_api;
SELECT throws_ok($$SET taskauth.anything = 1$$, '42602', NULL,
                 'the API role cannot SET a taskauth.* setting that does not exist (42602)');
RESET ROLE;
SELECT throws_ok($$SELECT set_config('taskauth.not_a_setting', 'x', true)$$, '42602', NULL,
                 'nor can the owner, with set_config');

SELECT * FROM finish();
ROLLBACK;
