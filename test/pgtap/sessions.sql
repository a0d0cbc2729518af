-- Sessions and revocation inside one transaction: sign_in, refresh, logout, logout_everywhere,
-- change_password, revoke_session, revoke_user, deleting a user, prune, and every refusal.
-- What needs commits between sessions (a revoked token refused by another backend, a replayed
-- refresh token ending its session) is in test/interop/sessions_multisession.py.
SET client_min_messages = error;
BEGIN;
SELECT plan(104);

SET LOCAL taskauth.bcrypt_cost = 4;
CREATE TEMP TABLE kid ON COMMIT DROP AS
SELECT taskauth.add_signing_key('sessions-test-secret-0123456789abcdefghij', 'ses') AS kid;
CREATE TEMP TABLE who ON COMMIT DROP AS
SELECT taskauth.register('alice@sessions.test', 'alice-password') AS alice,
       taskauth.register('bob@sessions.test', 'bob-password') AS bob;
CREATE ROLE ta_sessions_api NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_sessions_api'); END $$;
GRANT SELECT ON who TO ta_sessions_api;

CREATE FUNCTION pg_temp.claims_of(token text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT convert_from(decode(translate(split_part(token, '.', 2), '-_', '+/') ||
                               repeat('=', (4 - length(split_part(token, '.', 2)) % 4) % 4), 'base64'), 'UTF8')::jsonb
$$;

-- sign_in --------------------------------------------------------------------------------------
SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password') \gset a1_
SELECT is(:'a1_expires_in'::int, 900, 'expires_in is taskauth.token_lifetime in seconds (15 minutes by default)');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.claims_of(:'a1_access_token')) k),
          ARRAY['aud', 'email', 'exp', 'iat', 'sid', 'sub'], 'the access token holds aud, sub, email, sid, iat, exp');
SELECT is((pg_temp.claims_of(:'a1_access_token') ->> 'exp')::bigint - (pg_temp.claims_of(:'a1_access_token') ->> 'iat')::bigint,
          900::bigint, 'exp - iat is the lifetime');
SELECT ok(:'a1_refresh_token' ~ '^[A-Za-z0-9_-]{76}$', 'the refresh token is 76 base64url characters (57 bytes)');
SELECT isnt(:'a1_refresh_token'::text, :'a1_access_token'::text, 'the refresh token is not the access token');
SELECT is((SELECT user_id FROM taskauth.sessions WHERE id = (pg_temp.claims_of(:'a1_access_token') ->> 'sid')::uuid),
          (SELECT alice FROM who), 'sid names a session of alice');
SELECT is((SELECT (expires_at - created_at, ended_at, user_agent, client_addr) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a1_access_token') ->> 'sid')::uuid)::text,
          ('30 days'::interval, NULL::timestamptz, NULL::text, NULL::inet)::text,
          'the session lasts taskauth.session_lifetime (30 days) and has no request headers here');
SELECT is((SELECT refresh_generation FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a1_access_token') ->> 'sid')::uuid), 1::bigint,
          'the session is at refresh generation 1');
SELECT is((SELECT (o.session_id::text, o.generation) FROM taskauth.refresh_token_open(:'a1_refresh_token') AS o)::text,
          (pg_temp.claims_of(:'a1_access_token') ->> 'sid', 1::bigint)::text,
          'the refresh token names the session and generation 1');
SELECT is((SELECT count(*) FROM taskauth.refresh_key), 1::bigint, 'the first sign-in made the refresh key');
SELECT is((SELECT count(*) FROM taskauth.sessions s, taskauth.refresh_key k
            WHERE s.user_agent LIKE '%' || :'a1_refresh_token' || '%'
               OR position(convert_to(:'a1_refresh_token', 'UTF8') IN k.key) > 0), 0::bigint,
          'the refresh token itself is stored nowhere');
-- anonymous (this transaction has not authenticated yet)
SELECT throws_ok($$SELECT taskauth.logout()$$, '42501', 'logout needs an authenticated transaction',
                 'logout without a token is 42501 (PostgREST: 401)');
SELECT throws_ok($$SELECT taskauth.logout_everywhere()$$, '42501',
                 'logout_everywhere needs an authenticated transaction', 'logout_everywhere without a token is 42501');
SELECT throws_ok($$SELECT taskauth.change_password('a', 'b')$$, '42501',
                 'change_password needs an authenticated transaction', 'change_password without a token is 42501');
SET LOCAL ROLE ta_sessions_api;
SELECT is((SELECT count(*) FROM taskauth.sessions), 0::bigint, 'anonymous: no sessions visible to the API role');
RESET ROLE;

SELECT is(taskauth.authenticate(:'a1_access_token'), (SELECT alice FROM who), 'the access token authenticates');
SELECT throws_ok($$SELECT * FROM taskauth.sign_in('alice@sessions.test', 'wrong-password')$$,
                 '28P01', 'invalid email or password', 'sign_in: a wrong password is 28P01');
SELECT throws_ok($$SELECT * FROM taskauth.sign_in('nobody@sessions.test', 'alice-password')$$,
                 '28P01', 'invalid email or password', 'sign_in: an unknown email is the same error');
SELECT throws_ok($$SELECT * FROM taskauth.sign_in(NULL, NULL)$$,
                 '28P01', 'invalid email or password', 'sign_in: NULLs are the same error');
SELECT is((SELECT count(*) FROM taskauth.sessions WHERE user_id = (SELECT alice FROM who)), 1::bigint,
          'failed sign-ins start no session');

-- PostgREST's request headers are recorded; junk in them is ignored
SELECT set_config('request.headers',
                  '{"user-agent": "Mozilla/5.0 (X11)", "x-forwarded-for": "203.0.113.7, 10.0.0.1"}', true);
SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password') \gset a2_
SELECT is((SELECT (user_agent, client_addr) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a2_access_token') ->> 'sid')::uuid)::text,
          ('Mozilla/5.0 (X11)', '203.0.113.7'::inet)::text,
          'user agent and the first X-Forwarded-For address are recorded');
SELECT set_config('request.headers', '{"user-agent": "x", "x-forwarded-for": "not an address"}', true);
SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password') \gset a3_
SELECT is((SELECT (user_agent, client_addr) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid)::text,
          ('x', NULL::inet)::text, 'an address that is not one is left out; the user agent is kept');
SELECT set_config('request.headers', 'not json', true);
SELECT lives_ok($$SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password')$$,
                'request.headers that are not JSON do not stop a sign-in');
SELECT set_config('request.headers', '', true);

-- login starts a session too, one that ends with its token
SELECT taskauth.login('bob@sessions.test', 'bob-password') AS b_login \gset
SELECT is((SELECT (user_id, expires_at = access_expires_at) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'b_login') ->> 'sid')::uuid)::text,
          ((SELECT bob FROM who), true)::text, 'login''s session belongs to bob and ends with its token');
SELECT is((SELECT refresh_generation FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'b_login') ->> 'sid')::uuid), NULL::bigint,
          'login''s session has no refresh generation (no refresh token)');

-- refresh --------------------------------------------------------------------------------------
SELECT * FROM taskauth.refresh(:'a1_refresh_token') \gset r1_
SELECT isnt(:'r1_refresh_token'::text, :'a1_refresh_token'::text, 'refresh rotates the refresh token');
SELECT is(pg_temp.claims_of(:'r1_access_token') ->> 'sid', pg_temp.claims_of(:'a1_access_token') ->> 'sid',
          'the new access token names the same session');
SELECT is(:'r1_expires_in'::int, 900, 'refresh returns the lifetime');
SELECT is(taskauth.authenticate(:'r1_access_token'), (SELECT alice FROM who), 'the new access token authenticates');
SELECT is((SELECT refresh_generation FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a1_access_token') ->> 'sid')::uuid), 2::bigint,
          'the session moved on to generation 2: the old refresh token is spent');
SELECT is((SELECT o.generation FROM taskauth.refresh_token_open(:'r1_refresh_token') AS o), 2::bigint,
          'the new refresh token is generation 2''s');
SELECT throws_ok($$SELECT * FROM taskauth.refresh('not-a-token-0000000000000000000000000000000')$$,
                 '28000', 'refresh token is not valid', 'an unknown refresh token is 28000');
SELECT throws_ok($$SELECT * FROM taskauth.refresh(NULL)$$,
                 '28000', 'refresh token is not valid', 'a NULL refresh token is 28000');
SELECT throws_ok($$SELECT * FROM taskauth.refresh(repeat('x', 100000))$$,
                 '28000', 'refresh token is not valid', 'a 100 kB refresh token is 28000');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'a2_access_token'),
                 '28000', 'refresh token is not valid', 'an access token is not a refresh token');
-- forgeries: a flipped bit, another key, a made-up session. None may end a session, so each is
-- tried against the session of a3's token, which is at generation 1: a generation 0 token that
-- got through would count as a replay. (A replay that ends its session needs commits:
-- test/interop/sessions_multisession.py and refresh_storage.sh.)
CREATE FUNCTION pg_temp.b64url_decode(t text) RETURNS bytea LANGUAGE sql AS $$
    SELECT decode(translate(t, '-_', '+/') || repeat('=', (4 - length(t) % 4) % 4), 'base64')
$$;
CREATE FUNCTION pg_temp.b64url_encode(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT rtrim(translate(encode(b, 'base64'), '+/' || chr(10), '-_'), '=')
$$;
CREATE FUNCTION pg_temp.flip(token text, n int) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.b64url_encode(set_bit(pg_temp.b64url_decode(token), n,
                                         1 - get_bit(pg_temp.b64url_decode(token), n)))
$$;
SELECT is(pg_temp.flip(pg_temp.flip(:'a3_refresh_token', 9), 9), :'a3_refresh_token', 'flip() flips a bit and back');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', pg_temp.flip(:'a3_refresh_token', n)),
                 '28000', 'refresh token is not valid', format('bit %s flipped: 28000', n))
  FROM unnest(ARRAY[0, 7, 8 + 3, 17 * 8 + 7 + 8 * 7, 25 * 8, 56 * 8 + 7]) AS n;
-- generation 0 of the same session under another key (the key swapped for a moment)
CREATE TEMP TABLE saved_key ON COMMIT DROP AS SELECT key FROM taskauth.refresh_key;
UPDATE taskauth.refresh_key SET key = sha256('another key');
SELECT taskauth.refresh_token_make((pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid, 0) AS other_key_token,
       taskauth.refresh_token_make((pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid, 1) AS other_key_current \gset
UPDATE taskauth.refresh_key SET key = (SELECT key FROM saved_key);
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'other_key_token'),
                 '28000', 'refresh token is not valid', 'a token of another key (an older generation): 28000');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'other_key_current'),
                 '28000', 'refresh token is not valid', 'a token of another key (the current generation): 28000');
-- a made-up session id with the MAC bytes of a real token
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)',
                        pg_temp.b64url_encode(overlay(pg_temp.b64url_decode(:'a3_refresh_token')
                                                      PLACING uuid_send(gen_random_uuid()) FROM 2 FOR 16))),
                 '28000', 'refresh token is not valid', 'a made-up session id: 28000');
SELECT is((SELECT count(*) FROM taskauth.refresh_token_open(pg_temp.flip(:'a3_refresh_token', 300)) AS o
            WHERE o.session_id IS NULL AND o.generation IS NULL), 1::bigint,
          'refresh_token_open gives NULLs for a token whose MAC fails');
SELECT is((SELECT (refresh_generation, ended_at) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid)::text,
          (1::bigint, NULL::timestamptz)::text, 'no forgery ended the session or moved it on');
SELECT is((SELECT count(*) FROM taskauth.revocations
            WHERE session_id = (pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid), 0::bigint,
          'nor revoked it');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)',
                        taskauth.refresh_token_make((pg_temp.claims_of(:'a3_access_token') ->> 'sid')::uuid, 5)),
                 '28000', 'refresh token is not valid', 'a generation the session never reached: 28000, nothing ended');

-- idle and absolute expiry
UPDATE taskauth.sessions SET refreshed_at = now() - interval '8 days'
 WHERE id = (pg_temp.claims_of(:'a2_access_token') ->> 'sid')::uuid;
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'a2_refresh_token'),
                 '28000', 'session has expired', 'a session idle for longer than taskauth.session_idle_lifetime cannot be refreshed');
UPDATE taskauth.sessions SET refreshed_at = now(), expires_at = now() - interval '1 second'
 WHERE id = (pg_temp.claims_of(:'a2_access_token') ->> 'sid')::uuid;
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'a2_refresh_token'),
                 '28000', 'session has expired', 'a session past its absolute end cannot be refreshed');
SELECT is((SELECT refresh_generation FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'a2_access_token') ->> 'sid')::uuid), 1::bigint,
          'a refused refresh leaves the generation where it was: its token is still the current one');

-- logout ---------------------------------------------------------------------------------------
SELECT taskauth.authenticate(taskauth.issue_token((SELECT alice FROM who), 'alice@sessions.test'));
SELECT throws_ok($$SELECT taskauth.logout()$$, '55000', 'the current token belongs to no session',
                 'logout with a token that names no session is 55000');
SELECT taskauth.authenticate(:'r1_access_token');
SELECT lives_ok($$SELECT taskauth.logout()$$, 'logout with a session''s token');
SELECT is((SELECT (ended_at IS NOT NULL, end_reason) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'r1_access_token') ->> 'sid')::uuid)::text,
          (true, 'logout')::text, 'the session is ended with reason logout');
SELECT is((SELECT (user_id, reason, expires_at > now() + interval '15 minutes') FROM taskauth.revocations
            WHERE session_id = (pg_temp.claims_of(:'r1_access_token') ->> 'sid')::uuid)::text,
          ((SELECT alice FROM who), 'logout', true)::text,
          'a revocation of the session is kept until its last token expires (plus leeway)');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'r1_refresh_token'),
                 '28000', 'session has ended', 'an ended session cannot be refreshed');
SELECT is(taskauth.revoke_session((pg_temp.claims_of(:'r1_access_token') ->> 'sid')::uuid), false,
          'revoke_session of an ended session is false');

-- logout_everywhere ------------------------------------------------------------------------------
SELECT taskauth.authenticate(:'a3_access_token');
SELECT is(taskauth.logout_everywhere(), 3, 'logout_everywhere ends alice''s three remaining sessions');
SELECT is((SELECT count(*) FROM taskauth.sessions WHERE user_id = (SELECT alice FROM who) AND ended_at IS NULL),
          0::bigint, 'alice has no session left');
SELECT is((SELECT count(*) FROM taskauth.sessions WHERE user_id = (SELECT bob FROM who) AND ended_at IS NULL),
          1::bigint, 'bob''s session is untouched');
SELECT is(taskauth.logout_everywhere(), 0, 'a second logout_everywhere ends none');

-- change_password ----------------------------------------------------------------------------------
SELECT * FROM taskauth.sign_in('bob@sessions.test', 'bob-password') \gset b1_
SELECT * FROM taskauth.sign_in('bob@sessions.test', 'bob-password') \gset b2_
SELECT taskauth.authenticate(:'b1_access_token');
SELECT throws_ok($$SELECT taskauth.change_password('not-bobs-password', 'new-bob-password')$$,
                 '28P01', 'current password is incorrect', 'change_password with a wrong old password is 28P01');
SELECT throws_ok($$SELECT taskauth.change_password('bob-password', 'short')$$,
                 '22023', 'password is too short', 'a new password below taskauth.min_password_length is 22023');
SELECT throws_ok($$SELECT taskauth.change_password('bob-password', NULL)$$,
                 '22023', 'password is too short', 'a NULL new password is 22023');
SELECT lives_ok($$SELECT taskauth.change_password('bob-password', 'new-bob-password')$$, 'change_password');
SELECT is((SELECT string_agg(coalesce(end_reason, 'active'), ',' ORDER BY created_at, id) FROM taskauth.sessions
            WHERE user_id = (SELECT bob FROM who)
              AND id IN ((pg_temp.claims_of(:'b_login') ->> 'sid')::uuid,
                         (pg_temp.claims_of(:'b2_access_token') ->> 'sid')::uuid)),
          'password_changed,password_changed', 'bob''s other sessions ended');
SELECT is((SELECT ended_at FROM taskauth.sessions WHERE id = (pg_temp.claims_of(:'b1_access_token') ->> 'sid')::uuid),
          NULL, 'the session that changed the password goes on');
SELECT throws_ok($$SELECT taskauth.login('bob@sessions.test', 'bob-password')$$, '28P01', 'invalid email or password',
                 'the old password no longer logs in');
SELECT ok(taskauth.login('bob@sessions.test', 'new-bob-password') IS NOT NULL, 'the new one does');

-- owner only: revoke_session, revoke_user, prune ---------------------------------------------------
SET LOCAL ROLE ta_sessions_api;
SELECT throws_ok(format('SELECT taskauth.revoke_session(%L)', pg_temp.claims_of(:'b1_access_token') ->> 'sid'),
                 '42501', NULL, 'an API role cannot revoke_session');
SELECT throws_ok(format('SELECT taskauth.revoke_user(%L)', (SELECT alice FROM who)), '42501', NULL,
                 'an API role cannot revoke_user');
SELECT throws_ok($$SELECT taskauth.prune()$$, '42501', NULL, 'an API role cannot prune');
SELECT throws_ok($$SELECT * FROM taskauth.revocations$$, '42501', NULL, 'an API role cannot read revocations');
SELECT throws_ok($$SELECT * FROM taskauth.refresh_key$$, '42501', NULL, 'an API role cannot read the refresh key');
SELECT throws_ok(format('SELECT taskauth.refresh_token_make(%L, 1)', gen_random_uuid()), '42501', NULL,
                 'an API role cannot make refresh tokens');
SELECT throws_ok($$SELECT * FROM taskauth.refresh_token_open('x')$$, '42501', NULL,
                 'an API role cannot open refresh tokens');
SELECT taskauth.authenticate(:'b1_access_token');
SELECT is((SELECT count(DISTINCT user_id) || ':' || min(user_id::text) FROM taskauth.sessions),
          '1:' || (SELECT bob FROM who), 'bob sees his own sessions only');
SELECT lives_ok(format('SELECT * FROM taskauth.sign_in(%L, %L)', 'alice@sessions.test', 'alice-password'),
                'the API role can sign_in');
RESET ROLE;

SELECT is(taskauth.revoke_session((pg_temp.claims_of(:'b1_access_token') ->> 'sid')::uuid), true,
          'revoke_session of a live session is true');
SELECT is(taskauth.revoke_session(gen_random_uuid()), false, 'revoke_session of an unknown session is false');
SELECT lives_ok(format('SELECT taskauth.revoke_user(%L)', (SELECT alice FROM who)), 'revoke_user');
SELECT is((SELECT (reason, expires_at > now() + interval '7 days') FROM taskauth.revocations
            WHERE user_id = (SELECT alice FROM who) AND session_id IS NULL)::text,
          ('user_revoked', true)::text, 'revoke_user keeps a user revocation for token lifetime plus retention');
SELECT is((SELECT count(*) FROM taskauth.sessions WHERE user_id = (SELECT alice FROM who) AND ended_at IS NULL),
          0::bigint, 'revoke_user ends every session of the user');

-- deleting a user revokes at once (the sessions go with the user, the revocation stays)
DELETE FROM taskauth.users WHERE id = (SELECT bob FROM who);
SELECT is((SELECT count(*) FROM taskauth.revocations WHERE user_id = (SELECT bob FROM who) AND session_id IS NULL),
          1::bigint, 'deleting a user revokes every token of the user');
SELECT is((SELECT count(*) FROM taskauth.sessions WHERE user_id = (SELECT bob FROM who)), 0::bigint,
          'the deleted user''s sessions are gone');

-- prune: only what can refuse nothing any more
INSERT INTO taskauth.revocations (session_id, user_id, revoked_at, expires_at, reason)
VALUES (gen_random_uuid(), (SELECT alice FROM who), now() - interval '2 days', now() - interval '1 day', 'logout');
UPDATE taskauth.sessions SET access_expires_at = now() - interval '1 day'
 WHERE id = (pg_temp.claims_of(:'a1_access_token') ->> 'sid')::uuid;
CREATE TEMP TABLE before_prune ON COMMIT DROP AS
SELECT (SELECT count(*) FROM taskauth.revocations) AS r, (SELECT count(*) FROM taskauth.sessions) AS s;
SELECT is(taskauth.prune(), 2::bigint, 'prune deletes one expired revocation and one session that is over');
SELECT is((SELECT count(*) FROM taskauth.revocations) - (SELECT r FROM before_prune), -1::bigint,
          'every other revocation is kept');
SELECT is((SELECT count(*) FROM taskauth.refresh_key), 1::bigint, 'prune keeps the refresh key');

-- follow_issuer_sessions, access_token_key, grant_api_access(.., accounts), the issuer throttle:
-- bad input and who may run them -----------------------------------------------------------------
CREATE TABLE pg_temp.no_expiry (id uuid, "userId" uuid);
SELECT throws_ok($$SELECT taskauth.follow_issuer_sessions('pg_temp.no_expiry')$$, '42703',
                 'table no_expiry has no column "expiresAt"',
                 'follow_issuer_sessions names the column a session table lacks (42703)');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pg_temp.no_expiry'::regclass), 0::bigint,
          'and adds no trigger');
SELECT matches(taskauth.access_token_key('access-key-secret-0123456789abcdefghij'), '^[A-Za-z0-9_-]{43}$',
               'access_token_key: 43 base64url characters');
SELECT is(taskauth.access_token_key('access-key-secret-0123456789abcdefghij'),
          taskauth.access_token_key('access-key-secret-0123456789abcdefghij'), 'the same for the same secret');
SELECT isnt(taskauth.access_token_key('access-key-secret-0123456789abcdefghij'),
            taskauth.access_token_key('access-key-secret-0123456789abcdefghik'), 'another for another secret');
SELECT is(taskauth.access_token_key(NULL), NULL, 'NULL for NULL');
CREATE ROLE ta_sess_issuer_api NOLOGIN;
SELECT taskauth.grant_api_access('ta_sess_issuer_api', accounts => false);
SELECT is(ARRAY[has_function_privilege('ta_sess_issuer_api', 'taskauth.register(text,text)', 'EXECUTE'),
                has_function_privilege('ta_sess_issuer_api', 'taskauth.sign_in(text,text)', 'EXECUTE'),
                has_table_privilege('ta_sess_issuer_api', 'taskauth.sessions', 'SELECT'),
                has_function_privilege('ta_sess_issuer_api', 'taskauth.authenticate(text)', 'EXECUTE'),
                has_table_privilege('ta_sess_issuer_api', 'taskauth.tasks', 'INSERT')],
          ARRAY[false, false, false, true, true],
          'grant_api_access(accounts => false): no accounts or sessions, authenticate and tasks');
SELECT is((SELECT array_agg(has_function_privilege('ta_sess_issuer_api', f, 'EXECUTE') ORDER BY f)
             FROM unnest(ARRAY['taskauth.backend_stats()', 'taskauth.count_issuer_login_attempt(text)',
                               'taskauth.issuer_login_succeeded(text)', 'taskauth.access_token_key(text)',
                               'taskauth.follow_issuer_sessions(regclass,name,name,name)']) f),
          ARRAY[false, false, false, false, false], 'the owner-only functions stay out of an API role''s reach');
SET LOCAL taskauth.login_throttle_threshold = 2;
SELECT taskauth.count_issuer_login_attempt(' Ivy@Issuer.test'), taskauth.count_issuer_login_attempt('ivy@issuer.test');
SELECT throws_ok($$SELECT taskauth.count_issuer_login_attempt('IVY@issuer.test')$$, 'PT429', 'too many failed logins',
                 'count_issuer_login_attempt: the email locked after the threshold, however it is spelled (PT429)');
SELECT is((SELECT count(*) FROM taskauth.login_throttle WHERE key = taskauth.login_throttle_key('ivy@issuer.test')
              AND locked_until > now()), 1::bigint, 'one locked row, keyed by the email''s hash');

-- the refresh key deleted: every refresh token is invalid, and ends nothing
SET LOCAL taskauth.login_throttle_threshold = 0;
SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password') \gset k1_
DELETE FROM taskauth.refresh_key;
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'k1_refresh_token'),
                 '28000', 'refresh token is not valid', 'with the refresh key deleted, a refresh token is not valid');
SELECT * FROM taskauth.sign_in('alice@sessions.test', 'alice-password') \gset k2_
SELECT is((SELECT count(*) FROM taskauth.refresh_key), 1::bigint, 'the next sign_in makes a new key');
SELECT throws_ok(format('SELECT * FROM taskauth.refresh(%L)', :'k1_refresh_token'),
                 '28000', 'refresh token is not valid', 'a token of the old key stays invalid');
SELECT is((SELECT (refresh_generation, ended_at) FROM taskauth.sessions
            WHERE id = (pg_temp.claims_of(:'k1_access_token') ->> 'sid')::uuid)::text,
          (1::bigint, NULL::timestamptz)::text, 'and ends nothing');
SELECT lives_ok(format('SELECT * FROM taskauth.refresh(%L)', :'k2_refresh_token'), 'the new key''s tokens refresh');

SELECT * FROM finish();
ROLLBACK;
