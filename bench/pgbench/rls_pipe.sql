-- (a-p) rls.sql with the request pipelined: the token is looked up first (as in rls.sql), then
-- BEGIN, the role switch, authenticate(), the tasks query and END go to the server in one
-- round trip, as libpq pipeline mode or a driver's batch sends them. Needs -M extended or
-- -M prepared. Compare with app_pipe.sql, which pipelines app.sql the same way.
\set n random(1, 10000)
SELECT token FROM bench_tokens WHERE n = :n \gset
\startpipeline
BEGIN;
SET LOCAL ROLE bench_api;
SELECT taskauth.authenticate(:token);
SELECT id, title, description, is_completed, created_at, updated_at FROM taskauth.tasks;
END;
\endpipeline
