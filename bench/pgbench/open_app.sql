-- The same request as open_rls.sql done app-side: the API server has verified the token, the
-- database does no token work, and a role that bypasses row-level security filters by user_id.
-- The same statements and round trips: the role and the user in one statement, then the query.
\set n random(1, :tokens)
BEGIN;
SELECT set_config('role', 'bench_app', true), uid FROM bench_tokens WHERE n = :n \gset
SELECT count(*), max(title) FROM taskauth.tasks WHERE NOT is_completed AND user_id = :uid;
END;
