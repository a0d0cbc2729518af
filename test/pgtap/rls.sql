-- Row-level security as a non-owner API role: every verb for the owner of a task, another user
-- and an anonymous transaction; planting and moving tasks; reading hashed_password.
SET client_min_messages = error;
BEGIN;
SELECT plan(49);

SET LOCAL taskauth.bcrypt_cost = 4;
CREATE TEMP TABLE fx ON COMMIT DROP AS
SELECT taskauth.add_signing_key('rls-test-secret-0123456789abcdefghijkl', 'rls') AS kid,
       taskauth.register('alice@rls.test', 'alice-password') AS alice,
       taskauth.register('bob@rls.test', 'bob-password') AS bob;
ALTER TABLE fx ADD COLUMN alice_tok text, ADD COLUMN bob_tok text;
UPDATE fx SET alice_tok = taskauth.login('alice@rls.test', 'alice-password'),
              bob_tok = taskauth.login('bob@rls.test', 'bob-password');
-- tasks made by the superuser (which bypasses row-level security)
INSERT INTO taskauth.tasks (id, user_id, title)
SELECT ('00000000-0000-4000-8000-00000000000' || n)::uuid, CASE WHEN n <= 2 THEN alice ELSE bob END, 'task ' || n
  FROM fx, generate_series(1, 4) n;
CREATE ROLE ta_rls_api NOLOGIN;
CREATE ROLE ta_rls_other NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_rls_api'); END $$;
GRANT SELECT ON fx TO ta_rls_api;

-- privileges
SELECT ok(has_column_privilege('ta_rls_api', 'taskauth.users', 'email', 'SELECT'), 'API role may read users.email');
SELECT ok(NOT has_column_privilege('ta_rls_api', 'taskauth.users', 'hashed_password', 'SELECT'),
          'API role may not read users.hashed_password');
SELECT ok(NOT has_table_privilege('ta_rls_api', 'taskauth.users', 'INSERT,UPDATE,DELETE'),
          'API role may not write users directly');
SELECT ok(NOT has_table_privilege('ta_rls_api', 'taskauth.signing_keys', 'SELECT,INSERT,UPDATE,DELETE'),
          'API role has no access to signing_keys');
SELECT ok(has_table_privilege('ta_rls_api', 'taskauth.tasks', 'SELECT,INSERT,UPDATE,DELETE'),
          'API role may use tasks (rows limited by policy)');
SELECT ok(NOT has_function_privilege('ta_rls_api', 'taskauth.add_signing_key(text,text)', 'EXECUTE')
          AND NOT has_function_privilege('ta_rls_api', 'taskauth.retire_signing_key(text)', 'EXECUTE')
          AND NOT has_function_privilege('ta_rls_api', 'taskauth.issue_token(uuid,text)', 'EXECUTE')
          AND NOT has_function_privilege('ta_rls_api', 'taskauth.grant_api_access(regrole)', 'EXECUTE'),
          'API role cannot manage keys, mint tokens or grant access');
SELECT ok(has_function_privilege('ta_rls_api', 'taskauth.login(text,text)', 'EXECUTE')
          AND has_function_privilege('ta_rls_api', 'taskauth.register(text,text)', 'EXECUTE')
          AND has_function_privilege('ta_rls_api', 'taskauth.authenticate(text)', 'EXECUTE')
          AND has_function_privilege('ta_rls_api', 'taskauth.pre_request()', 'EXECUTE'),
          'API role may register, login, authenticate and run pre_request');
SELECT ok(NOT has_function_privilege('ta_rls_other', 'taskauth.login(text,text)', 'EXECUTE')
          AND NOT has_function_privilege('ta_rls_other', 'taskauth.register(text,text)', 'EXECUTE')
          AND NOT has_function_privilege('ta_rls_other', 'taskauth.authenticate(text)', 'EXECUTE'),
          'a role without grant_api_access cannot call register, login or authenticate');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'taskauth.tasks'::regclass)
          AND (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'taskauth.users'::regclass),
          'row-level security is enabled and forced on tasks and users');

SET LOCAL ROLE ta_rls_api;

-- anonymous
SELECT is((SELECT count(*) FROM taskauth.tasks), 0::bigint, 'anonymous sees no tasks');
SELECT is((SELECT count(*) FROM taskauth.users), 0::bigint, 'anonymous sees no users');
SELECT throws_ok($$INSERT INTO taskauth.tasks (title) VALUES ('anonymous task')$$, '42501',
                 'new row violates row-level security policy for table "tasks"', 'anonymous cannot insert');
SELECT throws_ok($$INSERT INTO taskauth.tasks (user_id, title) SELECT alice, 'planted' FROM fx$$, '42501',
                 'new row violates row-level security policy for table "tasks"',
                 'anonymous cannot plant a task on a user');
WITH u AS (UPDATE taskauth.tasks SET title = 'anonymous edit' RETURNING 1)
SELECT is(count(*), 0::bigint, 'anonymous updates nothing') FROM u;
WITH d AS (DELETE FROM taskauth.tasks RETURNING 1)
SELECT is(count(*), 0::bigint, 'anonymous deletes nothing') FROM d;

-- alice
SAVEPOINT as_alice;
SELECT is(taskauth.authenticate(alice_tok), alice, 'authenticate as alice') FROM fx;
SELECT set_eq($$SELECT title FROM taskauth.tasks$$, ARRAY['task 1', 'task 2'], 'alice sees only her tasks');
SELECT is((SELECT count(*) FROM taskauth.tasks t, fx WHERE t.user_id = fx.bob), 0::bigint,
          'asking for bob''s tasks by user_id finds none');
SELECT results_eq($$SELECT id, email FROM taskauth.users$$,
                  $$SELECT alice, 'alice@rls.test'::text FROM fx$$, 'alice sees only her own users row');
SELECT throws_ok($$SELECT hashed_password FROM taskauth.users$$, '42501',
                 'permission denied for table users', 'alice cannot read hashed_password');
SELECT throws_ok($$SELECT * FROM taskauth.users$$, '42501', 'permission denied for table users',
                 'SELECT * on users is refused (it includes hashed_password)');
SELECT throws_ok($$SELECT * FROM taskauth.signing_keys$$, '42501',
                 'permission denied for table signing_keys', 'alice cannot read the signing keys');
WITH i AS (INSERT INTO taskauth.tasks (title, description) VALUES ('alice new', 'made by alice') RETURNING user_id)
SELECT is(i.user_id, fx.alice, 'alice inserts a task; user_id defaults to her') FROM i, fx;
WITH i AS (INSERT INTO taskauth.tasks (user_id, title) SELECT alice, 'alice explicit' FROM fx RETURNING 1)
SELECT is(count(*), 1::bigint, 'alice may name herself as user_id') FROM i;
SELECT throws_ok($$INSERT INTO taskauth.tasks (user_id, title) SELECT bob, 'planted on bob' FROM fx$$, '42501',
                 'new row violates row-level security policy for table "tasks"', 'alice cannot plant a task on bob');
WITH u AS (UPDATE taskauth.tasks SET is_completed = true WHERE title = 'task 1' RETURNING 1)
SELECT is(count(*), 1::bigint, 'alice updates her own task') FROM u;
WITH u AS (UPDATE taskauth.tasks SET title = 'hijacked' WHERE title = 'task 3' RETURNING 1)
SELECT is(count(*), 0::bigint, 'alice cannot update bob''s task (no row matches)') FROM u;
SELECT throws_ok($$UPDATE taskauth.tasks SET user_id = (SELECT bob FROM fx) WHERE title = 'task 2'$$, '42501',
                 'new row violates row-level security policy for table "tasks"', 'alice cannot move her task to bob');
WITH d AS (DELETE FROM taskauth.tasks WHERE title = 'task 4' RETURNING 1)
SELECT is(count(*), 0::bigint, 'alice cannot delete bob''s task') FROM d;
WITH d AS (DELETE FROM taskauth.tasks WHERE title = 'alice explicit' RETURNING 1)
SELECT is(count(*), 1::bigint, 'alice deletes her own task') FROM d;
SELECT throws_ok($$INSERT INTO taskauth.tasks (title) VALUES ('   ')$$, '23514', NULL, 'a blank title is refused');
ROLLBACK TO SAVEPOINT as_alice;

-- bob, in a fresh subtransaction (alice's changes were rolled back with hers)
SAVEPOINT as_bob;
SELECT is(taskauth.authenticate(bob_tok), bob, 'authenticate as bob') FROM fx;
SELECT set_eq($$SELECT title FROM taskauth.tasks$$, ARRAY['task 3', 'task 4'], 'bob sees only his tasks');
SELECT results_eq($$SELECT email FROM taskauth.users$$, ARRAY['bob@rls.test'], 'bob sees only his users row');
WITH u AS (UPDATE taskauth.tasks SET title = 'task 3 (edited)', updated_at = '2000-01-01' WHERE title = 'task 3'
           RETURNING updated_at)
SELECT is(updated_at, now(), 'the trigger keeps updated_at current whatever the client sends') FROM u;
WITH u AS (UPDATE taskauth.tasks SET is_completed = true RETURNING 1)
SELECT is(count(*), 2::bigint, 'bob''s unfiltered update touches only his two tasks') FROM u;
WITH d AS (DELETE FROM taskauth.tasks RETURNING 1)
SELECT is(count(*), 2::bigint, 'bob''s unfiltered delete removes only his two tasks') FROM d;
ROLLBACK TO SAVEPOINT as_bob;
SELECT is(taskauth.current_user_id(), NULL, 'back to anonymous');

-- what survived, seen by the superuser
RESET ROLE;
SELECT set_eq($$SELECT title || ':' || is_completed FROM taskauth.tasks$$,
              ARRAY['task 1:false', 'task 2:false', 'task 3:false', 'task 4:false'],
              'after rolling back, the tasks are as they were');

-- FORCE: a table owner that is not a superuser is held to the policies too
SAVEPOINT as_owner;
CREATE ROLE ta_rls_owner NOLOGIN;
ALTER TABLE taskauth.tasks OWNER TO ta_rls_owner;
GRANT SELECT ON fx TO ta_rls_owner;
GRANT EXECUTE ON FUNCTION taskauth.authenticate(text) TO ta_rls_owner;
SET LOCAL ROLE ta_rls_owner;
SELECT is((SELECT count(*) FROM taskauth.tasks), 0::bigint, 'the tables'' owner, anonymous, sees no tasks');
SELECT is(taskauth.authenticate(alice_tok), alice, 'the owner authenticates as alice') FROM fx;
SELECT is((SELECT count(*) FROM taskauth.tasks), 2::bigint, 'and then sees only alice''s tasks');
ROLLBACK TO SAVEPOINT as_owner;

-- deleting a user deletes their tasks
DELETE FROM taskauth.users WHERE id = (SELECT bob FROM fx);
SELECT is((SELECT count(*) FROM taskauth.tasks t, fx WHERE t.user_id = fx.bob), 0::bigint,
          'deleting a user cascades to their tasks');
SELECT is((SELECT count(*) FROM taskauth.tasks), 2::bigint, 'other users'' tasks stay');

-- anonymous again, as the API role, after all that
SET LOCAL ROLE ta_rls_api;
SELECT is((SELECT count(*) FROM taskauth.tasks), 0::bigint, 'anonymous still sees nothing');

-- The policies call current_user_id() directly: an index scan evaluates it once, as a scan key
RESET ROLE;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    out text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        out := out || line || E'\n';
    END LOOP;
    RETURN out;
END
$$;
SET LOCAL track_functions = 'all';
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL ROLE ta_rls_api;
SELECT taskauth.authenticate(alice_tok) IS NOT NULL AS authed FROM fx \gset
SELECT alike(pg_temp.plan_of('SELECT title FROM taskauth.tasks'), '%Index%user_id = taskauth.current_user_id()%',
            'the tasks policy is a direct call of current_user_id(), used as an index condition');
SELECT pg_stat_get_xact_function_calls('taskauth.current_user_id()'::regprocedure) AS calls0 \gset
SELECT is((SELECT count(*) FROM (SELECT title FROM taskauth.tasks) t), 2::bigint, 'the index scan finds alice''s two tasks');
SELECT pg_stat_get_xact_function_calls('taskauth.current_user_id()'::regprocedure) - :calls0 AS calls_two \gset
RESET ROLE;
INSERT INTO taskauth.tasks (user_id, title) SELECT alice, 'more ' || n FROM fx, generate_series(1, 40) n;
SET LOCAL ROLE ta_rls_api;
SELECT pg_stat_get_xact_function_calls('taskauth.current_user_id()'::regprocedure) AS calls1 \gset
SELECT is((SELECT count(*) FROM (SELECT title FROM taskauth.tasks) t), 42::bigint, 'with 40 more, it finds 42');
-- (the planner evaluates it once more for its row estimate; the scan, once for its key)
SELECT is(pg_stat_get_xact_function_calls('taskauth.current_user_id()'::regprocedure) - :calls1, :calls_two::bigint,
          'and evaluates current_user_id() as often for 42 rows as for 2: once, as the scan key, not once a row');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
