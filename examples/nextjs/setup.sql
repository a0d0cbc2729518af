-- What the database owner runs once, after `node migrate.mjs` made Better Auth's tables:
--   psql -d tasks -v ON_ERROR_STOP=1 -v authenticator_password=... \
--        -v app_url=http://127.0.0.1:3000 -f setup.sql
-- app_url is BETTER_AUTH_URL: the iss and aud of Better Auth's tokens.

CREATE EXTENSION IF NOT EXISTS taskauth;

-- The role the app's task queries log in as (DATABASE_URL). NOINHERIT: it has no rights of its
-- own, it only switches to web.
SELECT 'CREATE ROLE authenticator LOGIN NOINHERIT'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') \gexec
ALTER ROLE authenticator PASSWORD :'authenticator_password';
-- The role every transaction of the app's task queries runs as. Better Auth owns the accounts:
-- web gets the tasks, the caller's own user row and authenticate, none of taskauth's account
-- and session functions.
SELECT 'CREATE ROLE web NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'web') \gexec
SELECT taskauth.grant_api_access('web', accounts => false);
GRANT web TO authenticator;

-- Better Auth's tokens: iss and aud are its base URL; its jwks table is read where it is. A
-- user's first verified token creates their taskauth.users row.
SELECT taskauth.add_issuer(:'app_url', audience => :'app_url',
                           key_table => 'public.jwks', provision_users => true);

-- Signing out signs out of the database at once: a row of Better Auth's session table deleted
-- (sign-out) or given an expiry in the past revokes, from the commit on, every token whose sid
-- names that session (lib/auth.js puts it there).
SET client_min_messages = warning;
SELECT taskauth.follow_issuer_sessions('public.session');

-- Better Auth's sign-ins count in taskauth's per-email login throttle (lib/auth.js:
-- signInThrottleHooks), on Better Auth's own connection (AUTH_DATABASE_URL). Its role, the one
-- that made its tables (node migrate.mjs), runs the two owner-only functions for that: granted
-- here unless it owns the extension (`make serve-next` connects as the superuser that created
-- it).
SELECT format('GRANT EXECUTE ON FUNCTION taskauth.count_issuer_login_attempt(text), '
              'taskauth.issuer_login_succeeded(text) TO %s', c.relowner::regrole)
  FROM pg_catalog.pg_class AS c, pg_catalog.pg_extension AS e
 WHERE c.oid = 'public.session'::regclass AND e.extname = 'taskauth' AND c.relowner <> e.extowner \gexec
