-- What the database owner runs once, after `node migrate.mjs` made Better Auth's tables:
--   psql -d task_app -v ON_ERROR_STOP=1 -v authenticator_password=... \
--        -v signing_secret=... [-v app_url=http://127.0.0.1:3000] -f setup.sql
-- With app_url, Better Auth at that URL is registered as an issuer whose keys taskauth reads
-- from Better Auth's own jwks table; without it (the HS256 setup), signing_secret must be the
-- key the app signs its API tokens with, derived from BETTER_AUTH_SECRET, which
-- `node api-token-key.mjs` prints (never the secret itself: README.md, "Second setup").

CREATE EXTENSION IF NOT EXISTS taskauth;

-- The role PostGraphile logs in as. NOINHERIT: it has no rights of its own, it only switches.
SELECT 'CREATE ROLE authenticator LOGIN NOINHERIT'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') \gexec
ALTER ROLE authenticator PASSWORD :'authenticator_password';
-- The role every API request runs as, signed in or not.
SELECT 'CREATE ROLE web NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'web') \gexec
-- Better Auth owns the accounts, in both setups: the API gets tasks, the caller's own user row
-- and authenticate, but none of taskauth's account and session functions (register, login,
-- sign_in, refresh, logout, ...), so that no client can create or claim an account under an
-- email that a person signs up with in Better Auth later. The revoke first takes back what an
-- earlier version of this file granted (the accounts included) on a database set up before.
SELECT taskauth.revoke_api_access('web');
SELECT taskauth.grant_api_access('web', accounts => false);
GRANT web TO authenticator;

-- The server's own signing key (at least 32 bytes). taskauth signs the tokens it issues itself
-- (taskauth.issue_token or sign_in, run by the owner) with a key derived from it, typed at+jwt;
-- in the HS256 setup it is the app's API token key, and verifies Better Auth's tokens itself.
SELECT taskauth.add_signing_key(:'signing_secret') AS signing_key_id;

\if :{?app_url}
-- Better Auth's tokens: iss and aud are its base URL; its jwks table is read where it is.
SELECT taskauth.add_issuer(:'app_url', audience => :'app_url',
                           key_table => 'public.jwks', provision_users => true);
\endif

-- Better Auth's sign-outs reach taskauth at once, in both setups: a row of its session table
-- deleted (sign-out, revoke-other-sessions, the user deleted) or given an expiry in the past
-- revokes, from the commit on, every token whose sid names that session (auth.mjs puts the
-- session's id into its tokens as sid: definePayload). Running it again replaces the triggers
-- (the first time, it notes that there were none to drop: not worth a NOTICE).
SET client_min_messages = warning;
SELECT taskauth.follow_issuer_sessions('public.session');

-- Better Auth's sign-ins count in taskauth's per-email login throttle (auth.mjs:
-- signInThrottleHooks), on Better Auth's own connection (AUTH_DATABASE_URL). Its role, the one
-- that made its tables (node migrate.mjs), runs the two owner-only functions for that: granted
-- here unless it owns the extension (the tests and `make serve` connect as the superuser that
-- created it).
SELECT format('GRANT EXECUTE ON FUNCTION taskauth.count_issuer_login_attempt(text), '
              'taskauth.issuer_login_succeeded(text) TO %s', c.relowner::regrole)
  FROM pg_catalog.pg_class AS c, pg_catalog.pg_extension AS e
 WHERE c.oid = 'public.session'::regclass AND e.extname = 'taskauth' AND c.relowner <> e.extowner \gexec
