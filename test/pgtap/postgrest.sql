-- PostgREST's per-request protocol, statement for statement: one SELECT of transaction-local
-- set_config calls (search_path, role, request.jwt.claims, request.method, request.path,
-- request.headers, request.cookies), then SELECT taskauth.pre_request(), then the query. Each
-- request runs in a subtransaction that is rolled back at its end, as PostgREST's transaction
-- ends, so nothing of one request reaches the next.
SET client_min_messages = error;
BEGIN;
SELECT plan(29);

SET LOCAL taskauth.bcrypt_cost = 4;
CREATE TEMP TABLE fx ON COMMIT DROP AS
SELECT taskauth.add_signing_key('postgrest-test-secret-0123456789abcdefg', 'pgrst') AS kid,
       taskauth.register('alice@pgrst.test', 'alice-password') AS alice,
       taskauth.register('bob@pgrst.test', 'bob-password') AS bob;
ALTER TABLE fx ADD COLUMN alice_tok text, ADD COLUMN bob_tok text;
UPDATE fx SET alice_tok = taskauth.login('alice@pgrst.test', 'alice-password'),
              bob_tok = taskauth.login('bob@pgrst.test', 'bob-password');
INSERT INTO taskauth.tasks (user_id, title)
SELECT alice, 'alice ' || n FROM fx, generate_series(1, 2) n
UNION ALL SELECT bob, 'bob 1' FROM fx;
CREATE ROLE ta_pgrst_api NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_pgrst_api'); END $$;
SELECT alice AS alice, bob AS bob, alice_tok AS alice_tok, bob_tok AS bob_tok FROM fx \gset

-- One request: the statements PostgREST sends, in order; what the client gets back.
CREATE FUNCTION pg_temp.request(headers text, method text, query text)
RETURNS TABLE (state text, message text, detail text, uid uuid, body jsonb)
LANGUAGE plpgsql
AS $$
BEGIN
    BEGIN
        PERFORM set_config('search_path', '"taskauth", "public"', true),
                set_config('role', 'ta_pgrst_api', true),
                set_config('request.jwt.claims', '{"role":"ta_pgrst_api"}', true),
                set_config('request.method', method, true),
                set_config('request.path', '/tasks', true),
                set_config('request.headers', headers, true),
                set_config('request.cookies', '{}', true);
        PERFORM taskauth.pre_request();
        EXECUTE format('WITH pgrst_source AS (%s) SELECT coalesce(jsonb_agg(s ORDER BY s), ''[]'') FROM pgrst_source s',
                       query) INTO body;
        uid := taskauth.current_user_id();
        state := '00000';
        RAISE SQLSTATE 'P0099';		-- the request's transaction ends
    EXCEPTION
        WHEN SQLSTATE 'P0099' THEN
            NULL;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                                    detail = PG_EXCEPTION_DETAIL;
    END;
    RETURN NEXT;
END
$$;

CREATE TEMP TABLE r ON COMMIT DROP AS SELECT 'x'::text AS name, * FROM pg_temp.request('', 'GET', 'SELECT 1') LIMIT 0;

-- a good token
INSERT INTO r SELECT 'good', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'alice_tok')::text,
                                                     'GET', 'SELECT title FROM tasks');
SELECT is(state, '00000', 'good token: the request succeeds') FROM r WHERE name = 'good';
SELECT is(uid, :'alice'::uuid, 'good token: the request runs as its user') FROM r WHERE name = 'good';
SELECT is(body, '[{"title":"alice 1"}, {"title":"alice 2"}]'::jsonb, 'good token: only that user''s tasks')
  FROM r WHERE name = 'good';

-- no token, right after: nothing of the previous request remains
INSERT INTO r SELECT 'none', * FROM pg_temp.request('{"accept":"application/json"}', 'GET', 'SELECT title FROM tasks');
SELECT is(state, '00000', 'no token: the request succeeds') FROM r WHERE name = 'none';
SELECT is(uid, NULL, 'no token: anonymous (no identity carried over from the last request)') FROM r WHERE name = 'none';
SELECT is(body, '[]'::jsonb, 'no token: no tasks') FROM r WHERE name = 'none';
INSERT INTO r SELECT 'empty', * FROM pg_temp.request('', 'GET', 'SELECT title FROM tasks');
SELECT is(uid, NULL, 'request.headers reading '''' (as after a commit): anonymous') FROM r WHERE name = 'empty';
INSERT INTO r SELECT 'basic', * FROM pg_temp.request('{"authorization":"Basic dXNlcjpwYXNz"}', 'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || coalesce(uid::text, 'anonymous'), '00000 anonymous',
          'another authorization scheme: anonymous') FROM r WHERE name = 'basic';

-- the scheme is case-insensitive; the token may come in x-taskauth-token instead
INSERT INTO r SELECT 'lower', * FROM pg_temp.request(json_build_object('authorization', 'bearer ' || :'bob_tok')::text,
                                                      'GET', 'SELECT title FROM tasks');
SELECT is(uid, :'bob'::uuid, '"bearer" in lower case works') FROM r WHERE name = 'lower';
SELECT is(body, '[{"title":"bob 1"}]'::jsonb, 'bob sees only his task') FROM r WHERE name = 'lower';
INSERT INTO r SELECT 'custom', * FROM pg_temp.request(json_build_object('x-taskauth-token', :'bob_tok')::text,
                                                       'GET', 'SELECT title FROM tasks');
SELECT is(uid, :'bob'::uuid, 'the x-taskauth-token header works') FROM r WHERE name = 'custom';

-- writes through the API
INSERT INTO r SELECT 'post', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'alice_tok')::text,
                                                     'POST', 'INSERT INTO tasks (title) VALUES (''posted'') RETURNING title, user_id');
SELECT is(body, format('[{"title":"posted","user_id":"%s"}]', :'alice')::jsonb, 'POST creates a task owned by the caller')
  FROM r WHERE name = 'post';
INSERT INTO r SELECT 'plant', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'bob_tok')::text,
                                                      'POST', format('INSERT INTO tasks (user_id, title) VALUES (%L, ''planted'') RETURNING 1', :'alice'));
SELECT is(state || ': ' || message, '42501: new row violates row-level security policy for table "tasks"',
          'POST planting a task on another user is refused') FROM r WHERE name = 'plant';
INSERT INTO r SELECT 'patch', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'bob_tok')::text,
                                                      'PATCH', 'UPDATE tasks SET title = ''hijacked'' WHERE title LIKE ''alice%'' RETURNING 1');
SELECT is(body, '[]'::jsonb, 'PATCH on another user''s tasks changes nothing') FROM r WHERE name = 'patch';
INSERT INTO r SELECT 'delete', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'bob_tok')::text,
                                                       'DELETE', 'DELETE FROM tasks RETURNING title');
SELECT is(body, '[{"title":"bob 1"}]'::jsonb, 'DELETE without a filter removes only the caller''s tasks')
  FROM r WHERE name = 'delete';

-- a bad token: SQLSTATE PGRST, a JSON message and a JSON detail that PostgREST turns into 401
INSERT INTO r SELECT 'forged', * FROM pg_temp.request(
    json_build_object('authorization', 'Bearer ' || split_part(:'alice_tok', '.', 1) || '.'
                      || split_part(:'bob_tok', '.', 2) || '.' || split_part(:'alice_tok', '.', 3))::text,
    'GET', 'SELECT title FROM tasks');
SELECT is(state, 'PGRST', 'bad signature: SQLSTATE PGRST') FROM r WHERE name = 'forged';
SELECT is(message::jsonb, '{"code":"PGRST301","message":"jwt signature does not match"}'::jsonb,
          'bad signature: message names PostgREST''s code and the reason') FROM r WHERE name = 'forged';
SELECT is(detail::jsonb, '{"status":401,"headers":{"WWW-Authenticate":"Bearer error=\"invalid_token\""}}'::jsonb,
          'bad signature: detail asks for 401 with WWW-Authenticate') FROM r WHERE name = 'forged';
SELECT is(uid, NULL, 'bad signature: no identity, no body') FROM r WHERE name = 'forged';
SELECT ok(position(split_part(:'alice_tok', '.', 3) IN message || detail) = 0
          AND position(split_part(:'bob_tok', '.', 2) IN message || detail) = 0,
          'bad signature: neither message nor detail contains the token') FROM r WHERE name = 'forged';

INSERT INTO r SELECT 'expired', * FROM pg_temp.request(
    json_build_object('authorization', 'Bearer ' || taskauth.jwt_sign(
        json_build_object('sub', :'alice', 'exp', extract(epoch FROM now())::bigint - 3600)::jsonb,
        'postgrest-test-secret-0123456789abcdefg'))::text,
    'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || (message::jsonb ->> 'message') || ' ' || (detail::jsonb ->> 'status'), 'PGRST jwt expired 401',
          'expired token: PGRST, "jwt expired", 401') FROM r WHERE name = 'expired';
INSERT INTO r SELECT 'garbage', * FROM pg_temp.request('{"authorization":"Bearer not-a-token"}', 'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || (message::jsonb ->> 'message'), 'PGRST jwt is malformed',
          'a malformed token: PGRST, "jwt is malformed"') FROM r WHERE name = 'garbage';
INSERT INTO r SELECT 'blank', * FROM pg_temp.request('{"authorization":"Bearer "}', 'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || (detail::jsonb ->> 'status'), 'PGRST 401', 'an empty bearer token: 401')
  FROM r WHERE name = 'blank';
INSERT INTO r SELECT 'foreign', * FROM pg_temp.request(
    json_build_object('authorization', 'Bearer ' || taskauth.jwt_sign(json_build_object('sub', :'alice')::jsonb,
                                                                       'not-the-server-secret-0123456789abcdef'))::text,
    'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || (message::jsonb ->> 'message'), 'PGRST jwt signature does not match',
          'a token signed with another secret: 401') FROM r WHERE name = 'foreign';
SELECT ok(taskauth.retire_signing_key('pgrst'), 'retire the key');
INSERT INTO r SELECT 'retired', * FROM pg_temp.request(json_build_object('authorization', 'Bearer ' || :'alice_tok')::text,
                                                        'GET', 'SELECT title FROM tasks');
SELECT is(state || ' ' || (message::jsonb ->> 'message'), 'PGRST jwt key id is not known',
          'a token of a retired key: 401') FROM r WHERE name = 'retired';

-- PostgREST's own request.jwt.claims (here naming alice) never makes an identity
INSERT INTO r SELECT 'claims', * FROM pg_temp.request('{}', 'GET',
    format('SELECT title FROM tasks WHERE set_config(''request.jwt.claims'', %L, true) IS NOT NULL',
           json_build_object('sub', :'alice', 'role', 'ta_pgrst_api')));
SELECT is(state || ' ' || coalesce(uid::text, 'anonymous') || ' ' || body::text, '00000 anonymous []',
          'request.jwt.claims with a sub is not an identity') FROM r WHERE name = 'claims';
SELECT is(taskauth.current_user_id(), NULL, 'after all the requests, this transaction is anonymous');
SELECT is(current_user::text, session_user::text, 'and back to its own role');

SELECT * FROM finish();
ROLLBACK;
