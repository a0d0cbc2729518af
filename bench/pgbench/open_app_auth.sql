-- open_app.sql plus taskauth.authenticate(token) in its first statement, without row-level
-- security: beside open_rls.sql and open_app.sql in one run (bench/request_modes.sh, breakdown),
-- it splits the request's extra cost into the token's part and the policies' part.
\set n random(1, :tokens)
BEGIN;
SELECT set_config('role', 'bench_app', true), uid, taskauth.authenticate(token) FROM bench_tokens WHERE n = :n \gset
SELECT count(*), max(title) FROM taskauth.tasks WHERE NOT is_completed AND user_id = :uid;
END;
