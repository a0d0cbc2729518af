-- Part 2: a sign-out: authenticate the next unused session's token of signout_pool, logout(),
-- commit. Run at a fixed rate (pgbench -R) beside request.sql.
BEGIN;
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token)
FROM signout_pool WHERE n = (SELECT nextval('signout_seq'));
SELECT taskauth.logout();
END;
