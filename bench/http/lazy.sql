-- Diagnostic target (g), a prototype of authenticating inside the request's own query, in a
-- copy of the benchmark's database (never in the one the other targets use): the policy that
-- lets a role read tasks asks lazy_user_id(), which runs taskauth.pre_request() (reading the
-- bearer token from request.headers, which PostGraphile sets in its settings statement) when
-- the transaction has no identity yet. So the API needs no hook and no statement of its own
-- for authentication. Written in PL/pgSQL over taskauth's public functions; done in C inside
-- current_user_id() it would cost less.
\set ON_ERROR_STOP on
CREATE SCHEMA bench_proto;
GRANT USAGE ON SCHEMA bench_proto TO PUBLIC;
CREATE FUNCTION bench_proto.lazy_user_id() RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF taskauth.current_user_id() IS NULL THEN
        PERFORM taskauth.pre_request();
    END IF;
    RETURN taskauth.current_user_id();
END
$$;
ALTER POLICY tasks_select_own ON taskauth.tasks
    USING (user_id = (SELECT bench_proto.lazy_user_id()));
