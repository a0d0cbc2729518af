-- The revocations of the database "with": users n 10201..20200 get 10 sessions each, then
-- taskauth.revoke_user() revokes each user, which ends their sessions too: 100,000 revoked
-- sessions and 10,000 revoked users, all expiring hours ahead (tokens and revocations of this
-- run live 6 h). The baseline's deny-list gets 100,000 jtis.
\set ON_ERROR_STOP on
SET taskauth.token_lifetime = '6h';
-- (g = 0, always false, makes the call depend on g: one session per row, not per user)
SELECT count(*) AS sessions FROM bench_users u CROSS JOIN generate_series(1, 10) g
CROSS JOIN LATERAL taskauth.start_session(u.id, g = 0) s WHERE u.n > 10200;
DO $$
DECLARE
    u uuid;
BEGIN
    FOR u IN SELECT id FROM bench_users WHERE n > 10200 ORDER BY n LOOP
        PERFORM taskauth.revoke_user(u);
    END LOOP;
END
$$;
INSERT INTO jwt_denylist SELECT gen_random_uuid()::text, now() + interval '6 hours'
FROM generate_series(1, 100000);
INSERT INTO revoked_probe
SELECT taskauth.issue_token(u.id, u.email, s.id)
FROM taskauth.sessions s JOIN bench_users u ON u.id = s.user_id
WHERE s.end_reason = 'user_revoked' LIMIT 1;
