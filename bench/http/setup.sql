-- The benchmark's data, run by the database owner after the example app's setup.sql:
-- 10k users and 1M tasks (100 each, interleaved in the heap as real inserts would leave them)
-- in taskauth.users and taskauth.tasks, and the roles the other servers read them as.
--   psql -v ON_ERROR_STOP=1 -v login_password=... -f setup.sql
\set ON_ERROR_STOP on

-- (a) the original design's FastAPI backend: a login role that bypasses row-level security and
-- filters by user_id itself; its search_path names the schema of the users and tasks tables.
CREATE ROLE fastapi_app LOGIN BYPASSRLS PASSWORD :'login_password';
ALTER ROLE fastapi_app SET search_path = taskauth;
GRANT USAGE ON SCHEMA taskauth TO fastapi_app;
GRANT SELECT ON taskauth.users, taskauth.tasks TO fastapi_app;

-- (h) the same backend on taskauth (examples/fastapi): a login role given what an API needs,
-- under row-level security, as the example's README sets it up.
CREATE ROLE fastapi_rls LOGIN PASSWORD :'login_password';
SELECT taskauth.grant_api_access('fastapi_rls', accounts => false);

-- (c) the floor: the same PostGraphile with authentication switched off, its requests running
-- as a role with web's grants that bypasses row-level security (the query names the user).
CREATE ROLE bench_floor NOLOGIN BYPASSRLS;
SELECT taskauth.grant_api_access('bench_floor');
GRANT bench_floor TO authenticator;
-- (d) diagnostic: the floor without the transaction PostGraphile opens for its settings, logged
-- in directly with bench_floor's rights.
CREATE ROLE bench_direct LOGIN BYPASSRLS IN ROLE bench_floor PASSWORD :'login_password';

-- One bcrypt hash (cost 4) for every user: no request here checks a password.
INSERT INTO taskauth.users (email, hashed_password)
SELECT 'user' || g || '@example.com', taskauth.hash_password('benchmark-password', 4)
FROM generate_series(1, 10000) g WHERE g = 1;
INSERT INTO taskauth.users (email, hashed_password)
SELECT 'user' || g || '@example.com', (SELECT hashed_password FROM taskauth.users LIMIT 1)
FROM generate_series(2, 10000) g;

CREATE TABLE bench_users AS
SELECT row_number() OVER (ORDER BY email)::int AS n, id, email FROM taskauth.users;
ALTER TABLE bench_users ADD PRIMARY KEY (n);

INSERT INTO taskauth.tasks (user_id, title, description, is_completed)
SELECT u.id, 'task ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'description of task ' || g END,
       g % 3 = 0
FROM generate_series(0, 999999) g
JOIN bench_users u ON u.n = g % 10000 + 1;

-- The tokens the load generator rotates: 200 users spread over the 10k, each token signed by
-- taskauth.issue_token with the server's key; the FastAPI backend (a) has the key it derives from
-- that secret (taskauth.access_token_key) as JWT_SECRET.
CREATE TABLE bench_tokens AS
SELECT n, id AS uid, taskauth.issue_token(id, email) AS token
FROM bench_users WHERE n % 50 = 0;
