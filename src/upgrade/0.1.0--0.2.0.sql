-- taskauth 0.1.0 -> 0.2.0: the delta from which the Makefile builds taskauth--0.1.0--0.2.0.sql
-- (tools/build-upgrade). It holds what only an upgrade needs (ALTERs, REVOKEs of 0.1.0's
-- objects, notices) and directives that pull whole fragments of the install script (src/sql/)
-- or single statement groups out of them, so that a fix made in a fragment reaches the upgrade
-- path too: "-- @include FILE [OBJECT]" for what 0.1.0 lacks, "-- @update FILE OBJECT" for an
-- object 0.1.0 has (see tools/build-upgrade). test/interop/upgrade.sh checks that an upgraded
-- database and a fresh install have the same objects, privileges, settings and comments.
--
-- The script is built only until 0.2.0 is released. Then the built file is copied to the top
-- directory as a plain file, frozen like taskauth--0.1.0.sql, and this delta and its Makefile
-- rule go (docs/operations.md, "Upgrading from 0.1.0").
\echo Use "ALTER EXTENSION taskauth UPDATE TO '0.2.0'" to load this file. \quit

-- Comments made shorter (the docs carry the detail); register says why it loads the library.
-- @update 30_identity.sql FUNCTION taskauth.authenticate(text)

-- @update 30_identity.sql FUNCTION taskauth.pre_request()

-- @update 30_identity.sql FUNCTION taskauth.register(text, text)

-- @update 50_issuers.sql FUNCTION taskauth.add_issuer(text, text, jsonb, regclass, boolean)

-- Tokens: add_signing_key asks jwt_sign, which knows every spelling of a public key; taskauth's
-- own access tokens are signed with a key derived from a signing key's secret.
-- @update 30_identity.sql FUNCTION taskauth.add_signing_key(text, text)

-- @update 30_identity.sql FUNCTION taskauth.issue_token(uuid, text)

-- @include 30_identity.sql FUNCTION taskauth.access_token_key(text)

-- @include 30_identity.sql FUNCTION taskauth.load_library()

-- Login: one evenly timed check and one place that raises, whatever the input.
-- @include 30_identity.sql FUNCTION taskauth.login_check(text, text)

-- @update 30_identity.sql FUNCTION taskauth.login(text, text)

-- No per-value statistics of what users can read.
-- @update 30_identity.sql TABLE taskauth.users

-- @update 30_identity.sql INDEX taskauth.users_email_lower_key

-- @update 30_identity.sql TABLE taskauth.tasks

-- The policies call current_user_id() directly (an index scan evaluates it once, as its key).
ALTER POLICY users_select_own ON taskauth.users USING (id = taskauth.current_user_id());
ALTER POLICY tasks_select_own ON taskauth.tasks USING (user_id = taskauth.current_user_id());
ALTER POLICY tasks_insert_own ON taskauth.tasks WITH CHECK (user_id = taskauth.current_user_id());
ALTER POLICY tasks_update_own ON taskauth.tasks
    USING (user_id = taskauth.current_user_id())
    WITH CHECK (user_id = taskauth.current_user_id());
ALTER POLICY tasks_delete_own ON taskauth.tasks USING (user_id = taskauth.current_user_id());

-- API roles: one list of what grant_api_access gives; it refuses to finish while the library is
-- not in every session (preload_status, from 60_hardening.sql below).
-- @include 30_identity.sql FUNCTION taskauth.api_privileges()

-- @include 30_identity.sql FUNCTION taskauth.grant_api_access(regrole, boolean)

-- @update 30_identity.sql FUNCTION taskauth.grant_api_access(regrole)

-- @update 30_identity.sql FUNCTION taskauth.revoke_api_access(regrole)

-- @include 60_hardening.sql

-- The primitives were PUBLIC's in 0.1.0; the fragments revoke them beside their CREATEs.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT taskauth.primitive_functions() LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- Roles given grant_api_access under 0.1.0 need it again for the session functions. It is not
-- done here: privileges granted inside an extension script count as the extension's own
-- (pg_init_privs), which pg_dump leaves out, so a restored database would lose them.
CREATE FUNCTION pg_temp.taskauth_name_api_roles() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r regrole;
BEGIN
    FOR r IN SELECT DISTINCT a.grantee::regrole
               FROM pg_proc p, aclexplode(p.proacl) a
              WHERE p.oid = 'taskauth.login(text,text)'::regprocedure
                AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
                AND a.grantee <> (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'taskauth')
    LOOP
        RAISE WARNING 'role % may log in but not yet sign in, refresh or sign out', r
            USING HINT = format('Run SELECT taskauth.grant_api_access(%L); after the update.', r::text);
    END LOOP;
END
$$;

-- Sessions, refresh tokens and revocation: new in 0.2.0.
-- @include 70_sessions.sql

-- Name the API roles of 0.1.0 that need grant_api_access again (see above).
SELECT pg_temp.taskauth_name_api_roles();
