-- (a) The request done by taskauth: verify the caller's token in the database, then let
-- row-level security pick the rows. The token is looked up first, exactly as app.sql looks up
-- the user id, so both scripts do the same amount of non-auth work.
\set n random(1, 10000)
BEGIN;
SELECT token FROM bench_tokens WHERE n = :n \gset
SET LOCAL ROLE bench_api;
SELECT taskauth.authenticate(:token);
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks;
END;
