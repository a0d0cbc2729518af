-- Benchmark data: 10k users, 1M tasks (100 each, interleaved in the heap as real inserts
-- would be), one signing key, a token per user minted by taskauth.login, and two roles:
-- bench_api (what taskauth's grant_api_access gives) and bench_app (BYPASSRLS, plain SELECT).
\set ON_ERROR_STOP on
CREATE EXTENSION taskauth;
SELECT taskauth.add_signing_key('benchmark-secret-0123456789abcdef-0123456789') AS kid;
CREATE ROLE bench_api NOLOGIN;
SELECT taskauth.grant_api_access('bench_api');
CREATE ROLE bench_app NOLOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA taskauth TO bench_app;
GRANT SELECT ON taskauth.tasks TO bench_app;

SET taskauth.bcrypt_cost = 4;
-- tokens that outlive the longest benchmark run (the default is 15 minutes)
SET taskauth.token_lifetime = '1d';
CREATE TEMP TABLE pw AS SELECT taskauth.hash_password('benchmark-password', 4) AS h;
INSERT INTO taskauth.users (email, hashed_password)
SELECT 'user' || g || '@example.com', (SELECT h FROM pw) FROM generate_series(1, 10000) g;

CREATE TABLE bench_tokens (n int PRIMARY KEY, uid uuid NOT NULL, token text NOT NULL);
INSERT INTO bench_tokens
SELECT row_number() OVER (ORDER BY email), id, taskauth.login(email, 'benchmark-password')
FROM taskauth.users;

INSERT INTO taskauth.tasks (user_id, title, description, is_completed)
SELECT t.uid, 'task ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'description of task ' || g END,
       g % 3 = 0
FROM generate_series(0, 999999) g
JOIN bench_tokens t ON t.n = g % 10000 + 1;
