-- Part 3 (b): the same request as PostgREST's documentation has it: PostgREST has verified the
-- token itself (outside the database, not timed here) and passes its claims in
-- request.jwt.claims; the db-pre-request hook looks the jti up in a deny-list table (plpgsql);
-- a policy on request.jwt.claims' sub picks the user's tasks.
\set n random(1, 200)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'bench_api', true),
       set_config('request.jwt.claims', pg_claims, true), set_config('request.method', 'GET', true),
       set_config('request.path', '/tasks', true), set_config('request.headers', pg_headers, true)
FROM pgrst_requests WHERE n = :n;
SELECT public.check_denylist();
SELECT id, title, description, is_completed, created_at, updated_at FROM pgrst_tasks;
END;
