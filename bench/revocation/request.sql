-- Part 2: a measured user's request: role and authenticate() in one statement (as PostgREST sends
-- its settings), then a small query that row-level security limits to the user's 20 tasks.
\set n random(1, 200)
BEGIN;
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token) FROM bench_tokens WHERE n = :n;
SELECT id, title, is_completed FROM taskauth.tasks;
END;
