-- (b) The same request done app-side: the API server has verified the token itself, the
-- database does no token work, and a role that bypasses row-level security filters by user_id.
\set n random(1, 10000)
BEGIN;
SELECT uid FROM bench_tokens WHERE n = :n \gset
SET LOCAL ROLE bench_app;
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks
WHERE user_id = :uid;
END;
