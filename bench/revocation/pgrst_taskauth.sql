-- Part 3 (a): a PostgREST request replayed, taskauth as the db-pre-request hook. PostgREST has no
-- jwt-secret and passes the token in request.headers (x-taskauth-token); pre_request() verifies
-- it and checks revocation; row-level security picks the user's tasks.
\set n random(1, 200)
BEGIN;
SELECT set_config('search_path', 'public', true), set_config('role', 'bench_api', true),
       set_config('request.jwt.claims', ta_claims, true), set_config('request.method', 'GET', true),
       set_config('request.path', '/tasks', true), set_config('request.headers', ta_headers, true)
FROM pgrst_requests WHERE n = :n;
SELECT taskauth.pre_request();
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks;
END;
