-- Accounts: register's errors (each its own SQLSTATE), login's single error for unknown email
-- and wrong password, rehash on login, the shape of the token's claims.
SET client_min_messages = error;
BEGIN;
SELECT plan(48);

SET LOCAL taskauth.bcrypt_cost = 4;

CREATE FUNCTION pg_temp.jws_part(token text, n int) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT convert_from(decode(rpad(translate(split_part(token, '.', n), '-_', '+/'),
                                    (length(split_part(token, '.', n)) + 3) / 4 * 4, '='),
                               'base64'), 'UTF8')::jsonb
$$;

CREATE TEMP TABLE kid ON COMMIT DROP AS
SELECT taskauth.add_signing_key('accounts-test-secret-0123456789abcdefgh', 'acc') AS kid;

-- register
SELECT taskauth.register('  Carol@Example.TEST ', 'carol-password') AS carol \gset
SELECT is(email, 'Carol@Example.TEST', 'the email is stored trimmed, its case kept')
  FROM taskauth.users WHERE id = :'carol';
SELECT matches(hashed_password, '^\$2b\$04\$', 'the password is stored as a bcrypt hash at the set cost')
  FROM taskauth.users WHERE id = :'carol';
SELECT ok(taskauth.verify_password('carol-password', hashed_password), 'the stored hash verifies the password')
  FROM taskauth.users WHERE id = :'carol';
SELECT throws_ok($$SELECT taskauth.register('carol@example.test', 'another-password')$$, '23505',
                 'email is already registered', 'the same email in other case is taken (23505)');
SELECT throws_ok($$SELECT taskauth.register(' CAROL@EXAMPLE.TEST', 'another-password')$$, '23505',
                 'email is already registered', 'and with blanks around it');
SELECT throws_ok($$SELECT taskauth.register('carol.example.test', 'long-enough')$$, '23514',
                 'email address is malformed', 'an email without @ is malformed (23514)');
SELECT throws_ok($$SELECT taskauth.register('carol@@example.test', 'long-enough')$$, '23514',
                 'email address is malformed', 'two @ signs are malformed');
SELECT throws_ok($$SELECT taskauth.register('car ol@example.test', 'long-enough')$$, '23514',
                 'email address is malformed', 'a blank inside is malformed');
SELECT throws_ok($$SELECT taskauth.register('carol@localhost', 'long-enough')$$, '23514',
                 'email address is malformed', 'a domain without a dot is malformed');
SELECT throws_ok($$SELECT taskauth.register('@example.test', 'long-enough')$$, '23514',
                 'email address is malformed', 'an empty local part is malformed');
SELECT throws_ok($$SELECT taskauth.register('   ', 'long-enough')$$, '23514',
                 'email address is malformed', 'a blank email is malformed');
SELECT throws_ok($$SELECT taskauth.register(NULL, 'long-enough')$$, '23514',
                 'email address is malformed', 'a NULL email is malformed');
SELECT throws_ok($$SELECT taskauth.register('dave@example.test', 'seven77')$$, '22023',
                 'password is too short', 'a 7-character password is too short (22023)');
SELECT throws_ok($$SELECT taskauth.register('dave@example.test', NULL)$$, '22023',
                 'password is too short', 'a NULL password is too short');
SELECT lives_ok($$SELECT taskauth.register('dave@example.test', 'eight888')$$,
                'an 8-character password is accepted');
SELECT lives_ok($$SELECT taskauth.register('erin@example.test', 'éééééééé')$$,
                'length counts characters: 8 two-byte characters are enough');
SET LOCAL taskauth.min_password_length = 12;
SELECT throws_ok($$SELECT taskauth.register('frank@example.test', 'eleven11111')$$, '22023',
                 'password is too short', 'taskauth.min_password_length = 12 refuses 11 characters');
RESET taskauth.min_password_length;
SELECT throws_ok(format('SELECT taskauth.register(%L, %L)', 'frank@example.test', repeat('p', 73)), '22023',
                 'password is longer than 72 bytes', 'a bcrypt password over 72 bytes is refused, not truncated');
SELECT is((SELECT count(*) FROM taskauth.users WHERE email ILIKE 'frank%'), 0::bigint,
          'failed registrations leave no row');

-- login
SELECT taskauth.login('carol@example.test', 'carol-password') AS tok \gset
SELECT is(pg_temp.jws_part(:'tok', 1), '{"alg":"HS256","typ":"at+jwt","kid":"acc"}'::jsonb,
          'token header: an access token (typ at+jwt, RFC 9068)');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(pg_temp.jws_part(:'tok', 2)) k),
          ARRAY['aud', 'email', 'exp', 'iat', 'sid', 'sub'], 'token claims are exactly aud, sub, email, sid, iat, exp');
SELECT is(pg_temp.jws_part(:'tok', 2) ->> 'aud', 'taskauth', 'aud is taskauth');
SELECT is((SELECT user_id FROM taskauth.sessions WHERE id = (pg_temp.jws_part(:'tok', 2) ->> 'sid')::uuid),
          :'carol'::uuid, 'sid names a new session of the user');
SELECT is(pg_temp.jws_part(:'tok', 2) ->> 'sub', :'carol', 'sub is the user id');
SELECT is(pg_temp.jws_part(:'tok', 2) ->> 'email', 'Carol@Example.TEST', 'email is the stored email');
SELECT is((pg_temp.jws_part(:'tok', 2) ->> 'iat')::bigint, floor(extract(epoch FROM now()))::bigint,
          'iat is the transaction''s time in whole seconds');
SELECT is((pg_temp.jws_part(:'tok', 2) ->> 'exp')::bigint - (pg_temp.jws_part(:'tok', 2) ->> 'iat')::bigint,
          900::bigint, 'the default lifetime is 15 minutes');
SELECT is(taskauth.authenticate(:'tok'), :'carol'::uuid, 'the token authenticates');
SET LOCAL taskauth.token_lifetime = '15min';
SELECT is((pg_temp.jws_part(t, 2) ->> 'exp')::bigint - (pg_temp.jws_part(t, 2) ->> 'iat')::bigint,
          900::bigint, 'taskauth.token_lifetime = 15min gives 900 seconds')
  FROM taskauth.login('carol@example.test', 'carol-password') t;
RESET taskauth.token_lifetime;
SELECT throws_ok($$SELECT taskauth.login('carol@example.test', 'wrong-password')$$, '28P01',
                 'invalid email or password', 'a wrong password raises 28P01');
SELECT throws_ok($$SELECT taskauth.login('nobody@example.test', 'carol-password')$$, '28P01',
                 'invalid email or password', 'an unknown email raises the same error');
SELECT throws_ok($$SELECT taskauth.login('carol@example.test', NULL)$$, '28P01',
                 'invalid email or password', 'a NULL password raises the same error');
SELECT throws_ok($$SELECT taskauth.login(NULL, 'carol-password')$$, '28P01',
                 'invalid email or password', 'a NULL email raises the same error');
SELECT throws_ok(format('SELECT taskauth.login(%L, %L)', 'carol@example.test', 'carol-password' || repeat('x', 70)),
                 '28P01', 'invalid email or password', 'a password over 72 bytes never matches');

-- rehash on login
SET LOCAL taskauth.bcrypt_cost = 5;
SELECT ok(taskauth.password_needs_rehash(hashed_password), 'after raising the cost, the cost-4 hash needs a rehash')
  FROM taskauth.users WHERE id = :'carol';
SELECT lives_ok($$SELECT taskauth.login('carol@example.test', 'carol-password')$$, 'login at the higher cost');
SELECT matches(hashed_password, '^\$2b\$05\$', 'login re-hashed the password at cost 5')
  FROM taskauth.users WHERE id = :'carol';
SELECT lives_ok($$SELECT taskauth.login('carol@example.test', 'carol-password')$$, 'the new hash logs in');
SET LOCAL taskauth.password_algorithm = 'argon2id';
SET LOCAL taskauth.argon2_memory_kib = 1024;
SET LOCAL taskauth.argon2_time = 1;
SELECT lives_ok($$SELECT taskauth.login('carol@example.test', 'carol-password')$$, 'login after switching to argon2id');
SELECT matches(hashed_password, '^\$argon2id\$v=19\$m=1024,t=1,p=1\$', 'login re-hashed the password with argon2id')
  FROM taskauth.users WHERE id = :'carol';
SELECT throws_ok($$SELECT taskauth.login('nobody@example.test', 'x')$$, '28P01',
                 'invalid email or password', 'an unknown email under argon2id raises the same error');

-- a stored hash that cannot be checked answers like a wrong password
INSERT INTO taskauth.users (email, hashed_password)
VALUES ('heidi@example.test', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT throws_ok($$SELECT taskauth.login('heidi@example.test', 'heidi-password')$$, '28P01',
                 'invalid email or password',
                 'a stored hash above the maxima answers as a wrong password, not 22023');
-- a long password kept in an argon2id hash is not forced into bcrypt's 72 bytes
INSERT INTO taskauth.users (email, hashed_password)
VALUES ('ivan@example.test', taskauth.hash_password_argon2id(repeat('long-', 20), 1024, 1, 1));
SET LOCAL taskauth.password_algorithm = 'bcrypt';
SELECT lives_ok($$SELECT taskauth.login('ivan@example.test', repeat('long-', 20))$$,
                'a 100-byte password in an argon2id hash logs in while the algorithm is bcrypt');
SELECT matches(hashed_password, '^\$argon2id\$', 'and its hash stays argon2id, which bcrypt could not hold')
  FROM taskauth.users WHERE email = 'ivan@example.test';

-- settings that a client must not lower or raise for itself
CREATE ROLE ta_accounts_api NOLOGIN;
DO $$ BEGIN PERFORM taskauth.grant_api_access('ta_accounts_api'); END $$;
SET LOCAL ROLE ta_accounts_api;
SELECT lives_ok($$SELECT taskauth.register('grace@example.test', 'grace-password')$$,
                'an API role registers (register runs as the extension owner)');
SELECT is(taskauth.authenticate(taskauth.login('grace@example.test', 'grace-password')),
          (SELECT id FROM taskauth.users), 'an API role logs in, and then sees its own users row');
SELECT throws_ok($$SET taskauth.min_password_length = 1$$, '42501',
                 'permission denied to set parameter "taskauth.min_password_length"',
                 'a client cannot lower the minimum password length');
SELECT throws_ok($$SET taskauth.token_lifetime = '100d'$$, '42501',
                 'permission denied to set parameter "taskauth.token_lifetime"',
                 'a client cannot lengthen its tokens');

SELECT * FROM finish();
ROLLBACK;
