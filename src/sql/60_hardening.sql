-- What an API role and PUBLIC may run, and making sure the library is in every session.

-- The primitives ------------------------------------------------------------------------------
-- Each of these can cost a caller-chosen amount of work (a hash at the maximum cost, an argon2id
-- hash of 256 MiB, an RSA key of 16384 bits), so no role gets them unasked: an API role reaches
-- hashing and verification only through register, login and authenticate, which cost one login
-- at the configured settings. grant_primitive_access gives them to a role that needs them.

-- The list below is the one place that names them: each fragment revokes its own from PUBLIC
-- beside its CREATE.

CREATE FUNCTION taskauth.primitive_functions()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f::regprocedure
      FROM unnest(ARRAY['taskauth.jwt_sign(jsonb, text, text)',
                        'taskauth.jwt_verify(text, text)',
                        'taskauth.jwt_verify(text, text, text, text)',
                        'taskauth.jwt_verify(text, jsonb)',
                        'taskauth.jwt_verify(text, jsonb, text, text)',
                        'taskauth.jwk_from_pem(text)',
                        'taskauth.check_jwks(jsonb)',
                        'taskauth.hash_password(text)',
                        'taskauth.hash_password(text, int)',
                        'taskauth.hash_password_argon2id(text)',
                        'taskauth.hash_password_argon2id(text, int, int, int)',
                        'taskauth.verify_password(text, text)',
                        'taskauth.password_needs_rehash(text)']) AS f
$$;

COMMENT ON FUNCTION taskauth.primitive_functions() IS
'Internal: the token and password primitives that grant_primitive_access gives and revoke_primitive_access takes back.';

REVOKE ALL ON FUNCTION taskauth.primitive_functions() FROM PUBLIC;

CREATE FUNCTION taskauth.grant_primitive_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA taskauth TO %s', role);
    FOR f IN SELECT taskauth.primitive_functions() LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', f, role);
    END LOOP;
END
$$;

COMMENT ON FUNCTION taskauth.grant_primitive_access(regrole) IS
'Lets a role call the token and password primitives (primitive_functions), each of which can cost seconds of CPU at the maxima: never give it to a role that serves anonymous clients.';

REVOKE ALL ON FUNCTION taskauth.grant_primitive_access(regrole) FROM PUBLIC;

CREATE FUNCTION taskauth.revoke_primitive_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT taskauth.primitive_functions() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', f, role);
    END LOOP;
END
$$;

COMMENT ON FUNCTION taskauth.revoke_primitive_access(regrole) IS
'Takes back what grant_primitive_access gave (schema usage stays with PUBLIC).';

REVOKE ALL ON FUNCTION taskauth.revoke_primitive_access(regrole) FROM PUBLIC;

-- The library in every session ------------------------------------------------------------------
-- A policy of the user's own that reads current_setting('jwt.sub') directly is safe only where
-- the library is loaded before the session can run anything: the library reserves the jwt
-- prefix and refuses forged values, but a session it was never loaded into can set a jwt.sub
-- placeholder of its own. So installing taskauth adds it to this database's
-- session_preload_libraries (keeping what the list held), and preload_status() reports whether
-- that still holds; grant_api_access refuses to finish when it does not.

-- The one reading of a library list (the value of session_preload_libraries or
-- shared_preload_libraries, as SHOW or pg_db_role_setting spells it): entries split at commas,
-- blanks and double quotes trimmed, empty ones left out; an entry names taskauth as "taskauth"
-- or as a path ending in "/taskauth".
CREATE FUNCTION taskauth.preload_entries(list text, OUT library text, OUT is_taskauth boolean)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.library, e.library ~ '(^|/)taskauth$'
      FROM (SELECT btrim(l, ' "') AS library FROM regexp_split_to_table(list, ',') AS l) AS e
     WHERE e.library <> ''
$$;

COMMENT ON FUNCTION taskauth.preload_entries(text) IS
'Internal: the libraries of a preload list setting''s value, each marked when it is taskauth.';

REVOKE ALL ON FUNCTION taskauth.preload_entries(text) FROM PUBLIC;

CREATE FUNCTION taskauth.preload_status()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN EXISTS (SELECT FROM taskauth.preload_entries(current_setting('shared_preload_libraries')) e
                      WHERE e.is_taskauth)
            THEN 'shared_preload_libraries'
        WHEN EXISTS (SELECT FROM pg_db_role_setting s, unnest(s.setconfig) c,
                                 taskauth.preload_entries(substr(c, strpos(c, '=') + 1)) e
                      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                        AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%' AND e.is_taskauth)
            THEN 'session_preload_libraries'
        ELSE NULL
    END
$$;

COMMENT ON FUNCTION taskauth.preload_status() IS
'Where every new session of this database loads the library from: ''shared_preload_libraries'', ''session_preload_libraries'', or NULL when none does.';

-- a fact about the server's configuration, for its administrators, not for API clients
REVOKE ALL ON FUNCTION taskauth.preload_status() FROM PUBLIC;

DO $$
DECLARE
    libs text[];
BEGIN
    IF taskauth.preload_status() IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(e.library) INTO libs
      FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) c,
           taskauth.preload_entries(substr(c, strpos(c, '=') + 1)) e
     WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
       AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%';
    libs := coalesce(libs, '{}') || 'taskauth'::text;
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET session_preload_libraries = %s',
                              pg_catalog.current_database(),
                              (SELECT pg_catalog.string_agg(pg_catalog.format('%L', l), ', ') FROM unnest(libs) l));
END
$$;
