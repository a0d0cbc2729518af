-- (b1) As app.sql, plus verifying the token with taskauth.authenticate() in its own statement,
-- without row-level security: separates the cost of the token from the cost of the policies.
\set n random(1, 10000)
BEGIN;
SELECT uid, token FROM bench_tokens WHERE n = :n \gset
SELECT taskauth.authenticate(:token);
SET LOCAL ROLE bench_app;
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks
WHERE user_id = :uid;
END;
