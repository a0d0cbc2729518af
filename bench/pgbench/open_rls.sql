-- The whole request of bench/request_modes.sh, as taskauth serves it: the API role and the
-- token in one statement, then "count and max title of my open tasks" under row-level
-- security. One of TOKENS users' tokens (the client keeps presenting it).
\set n random(1, :tokens)
BEGIN;
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token) FROM bench_tokens WHERE n = :n;
SELECT count(*), max(title) FROM taskauth.tasks WHERE NOT is_completed;
END;
