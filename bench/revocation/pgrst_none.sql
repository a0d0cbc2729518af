-- Part 3 (c): (b) with no db-pre-request hook at all: PostgREST verifies the token and nothing
-- checks revocation. The floor both (a) and (b) are measured against.
\set n random(1, 200)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'bench_api', true),
       set_config('request.jwt.claims', pg_claims, true), set_config('request.method', 'GET', true),
       set_config('request.path', '/tasks', true), set_config('request.headers', pg_headers, true)
FROM pgrst_requests WHERE n = :n;
SELECT 1;
SELECT id, title, description, is_completed, created_at, updated_at FROM pgrst_tasks;
END;
