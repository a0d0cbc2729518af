-- Part 2, control: signout.sql's work rolled back, so no revocation reaches other backends; the
-- same CPU spent beside request.sql, without the sign-outs' effect on it.
BEGIN;
SELECT set_config('role', 'bench_api', true), taskauth.authenticate(token)
FROM signout_pool WHERE n = (SELECT nextval('signout_rb_seq'));
SELECT taskauth.logout();
ROLLBACK;
