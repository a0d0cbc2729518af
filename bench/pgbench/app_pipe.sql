-- (b-p) app.sql with the request pipelined: the user id is looked up first (as in app.sql),
-- then BEGIN, the role switch, the tasks query and END go to the server in one round trip.
-- Needs -M extended or -M prepared. The counterpart of rls_pipe.sql.
\set n random(1, 10000)
SELECT uid FROM bench_tokens WHERE n = :n \gset
\startpipeline
BEGIN;
SET LOCAL ROLE bench_app;
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks
WHERE user_id = :uid;
END;
\endpipeline
