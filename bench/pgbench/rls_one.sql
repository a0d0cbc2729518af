-- (a1) As rls.sql, with the role switch and authenticate() in one statement (as PostgREST
-- sends its settings in one statement): the same number of round trips as app.sql.
\set n random(1, 10000)
BEGIN;
SELECT token FROM bench_tokens WHERE n = :n \gset
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(:token);
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks;
END;
