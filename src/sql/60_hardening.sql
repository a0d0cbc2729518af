-- What an API role and PUBLIC may run, and making sure the library is in every session.

-- The primitives ------------------------------------------------------------------------------
-- Each of these can cost a caller-chosen amount of work (a hash at the maximum cost, an argon2id
-- hash of 256 MiB, an RSA key of 16384 bits), so no role gets them unasked: an API role reaches
-- hashing and verification only through register, login and authenticate, which cost one login
-- at the configured settings. grant_primitive_access gives them to a role that needs them.

REVOKE ALL ON FUNCTION taskauth.jwt_sign(jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.jwk_from_pem(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.check_jwks(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.hash_password(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.hash_password(text, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.hash_password_argon2id(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.hash_password_argon2id(text, int, int, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.verify_password(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.password_needs_rehash(text) FROM PUBLIC;

CREATE FUNCTION taskauth.grant_primitive_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA taskauth TO %s', role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION taskauth.jwt_sign(jsonb, text, text), '
                   'taskauth.jwt_verify(text, text), taskauth.jwt_verify(text, text, text, text), '
                   'taskauth.jwt_verify(text, jsonb), taskauth.jwt_verify(text, jsonb, text, text), '
                   'taskauth.jwk_from_pem(text), taskauth.check_jwks(jsonb), '
                   'taskauth.hash_password(text), taskauth.hash_password(text, int), '
                   'taskauth.hash_password_argon2id(text), '
                   'taskauth.hash_password_argon2id(text, int, int, int), '
                   'taskauth.verify_password(text, text), taskauth.password_needs_rehash(text) TO %s',
                   role);
END
$$;

COMMENT ON FUNCTION taskauth.grant_primitive_access(regrole) IS
'Lets a role call the token and password primitives (jwt_sign, jwt_verify, jwk_from_pem, check_jwks, hash_password, hash_password_argon2id, verify_password, password_needs_rehash), each of which can cost seconds of CPU at the maxima: never give it to a role that serves anonymous clients.';

CREATE FUNCTION taskauth.revoke_primitive_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('REVOKE EXECUTE ON FUNCTION taskauth.jwt_sign(jsonb, text, text), '
                   'taskauth.jwt_verify(text, text), taskauth.jwt_verify(text, text, text, text), '
                   'taskauth.jwt_verify(text, jsonb), taskauth.jwt_verify(text, jsonb, text, text), '
                   'taskauth.jwk_from_pem(text), taskauth.check_jwks(jsonb), '
                   'taskauth.hash_password(text), taskauth.hash_password(text, int), '
                   'taskauth.hash_password_argon2id(text), '
                   'taskauth.hash_password_argon2id(text, int, int, int), '
                   'taskauth.verify_password(text, text), taskauth.password_needs_rehash(text) FROM %s',
                   role);
END
$$;

COMMENT ON FUNCTION taskauth.revoke_primitive_access(regrole) IS
'Takes back what grant_primitive_access gave (schema usage stays with PUBLIC).';

REVOKE ALL ON FUNCTION taskauth.grant_primitive_access(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.revoke_primitive_access(regrole) FROM PUBLIC;

-- The library in every session ------------------------------------------------------------------
-- A policy of the user's own that reads current_setting('jwt.sub') directly is safe only where
-- the library is loaded before the session can run anything: the library reserves the jwt
-- prefix and refuses forged values, but a session it was never loaded into can set a jwt.sub
-- placeholder of its own. So installing taskauth adds it to this database's
-- session_preload_libraries (keeping what the list held), and preload_status() reports whether
-- that still holds; grant_api_access refuses to finish when it does not.

CREATE FUNCTION taskauth.preload_status()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a list entry names taskauth as "taskauth" or a path ending in "/taskauth"
    WITH db_libs AS (
        SELECT btrim(l, ' "') AS lib
          FROM pg_db_role_setting s, unnest(s.setconfig) c,
               regexp_split_to_table(substr(c, strpos(c, '=') + 1), ',') l
         WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%'),
    shared_libs AS (
        SELECT btrim(l, ' "') AS lib
          FROM regexp_split_to_table(current_setting('shared_preload_libraries'), ',') l)
    SELECT CASE
        WHEN EXISTS (SELECT FROM shared_libs WHERE lib ~ '(^|/)taskauth$')
            THEN 'shared_preload_libraries'
        WHEN EXISTS (SELECT FROM db_libs WHERE lib ~ '(^|/)taskauth$')
            THEN 'session_preload_libraries'
        ELSE NULL
    END
$$;

COMMENT ON FUNCTION taskauth.preload_status() IS
'Where the library is loaded into every new session of this database from: ''shared_preload_libraries'', ''session_preload_libraries'' (this database''s setting, which CREATE EXTENSION makes), or NULL when it is not, and a policy reading current_setting(''jwt.sub'') could be fooled.';

-- a fact about the server's configuration, for its administrators, not for API clients
REVOKE ALL ON FUNCTION taskauth.preload_status() FROM PUBLIC;

DO $$
DECLARE
    libs text[];
BEGIN
    IF taskauth.preload_status() IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(btrim(l, ' "')) INTO libs
      FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) c,
           regexp_split_to_table(substr(c, strpos(c, '=') + 1), ',') l
     WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
       AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%' AND btrim(l, ' "') <> '';
    libs := coalesce(libs, '{}') || 'taskauth'::text;
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET session_preload_libraries = %s',
                              pg_catalog.current_database(),
                              (SELECT pg_catalog.string_agg(pg_catalog.format('%L', l), ', ') FROM unnest(libs) l));
END
$$;
