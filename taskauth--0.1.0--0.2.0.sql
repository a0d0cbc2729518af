-- taskauth 0.1.0 -> 0.2.0. Each change here is also made in the install script's fragments
-- (src/sql/); test/interop/upgrade.sh checks that an upgraded database and a fresh install of
-- 0.2.0 have the same objects, privileges, settings and comments.
\echo Use "ALTER EXTENSION taskauth UPDATE TO '0.2.0'" to load this file. \quit

-- Tokens: public keys are recognised in every common spelling (src/jwt.c); add_signing_key
-- now asks jwt_sign, which knows them all.
CREATE OR REPLACE FUNCTION taskauth.add_signing_key(secret text, kid text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which may hold the password or secret
SET log_min_error_statement = panic
AS $$
DECLARE
    new_kid text := add_signing_key.kid;
BEGIN
    IF add_signing_key.secret IS NULL OR octet_length(add_signing_key.secret) < 32 THEN
        RAISE EXCEPTION 'signing key secret must be at least 32 bytes'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A secret made of a few characters repeated (repeat('a', 40), "changeme" four times) is
    -- guessed before any random one: refuse what cannot have come from a random generator.
    IF (SELECT count(DISTINCT c) FROM regexp_split_to_table(add_signing_key.secret, '') AS c) < 8 THEN
        RAISE EXCEPTION 'signing key secret is too predictable'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It has fewer than 8 different characters.',
                  HINT = 'Use random bytes, for example encode(gen_random_bytes(48), ''base64'') from pgcrypto or the output of openssl rand -base64 48.';
    END IF;
    -- A public key's text is known to everyone: as an HMAC secret it would let anyone sign.
    -- jwt_sign recognises every spelling of one (PEM, JWK, OpenSSH, base64 DER) and refuses it.
    BEGIN
        PERFORM taskauth.jwt_sign('{}', add_signing_key.secret);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'signing key secret is a public key, not an hmac secret'
            USING ERRCODE = 'invalid_parameter_value';
    END;
    IF new_kid IS NULL THEN
        -- 12 random bytes, base64url: bytes 1-6 and 11-16 of a version 4 uuid are all random
        new_kid := translate(encode(substr(uuid_send(gen_random_uuid()), 1, 6) ||
                                    substr(uuid_send(gen_random_uuid()), 11, 6), 'base64'),
                             '+/', '-_');
    ELSIF new_kid !~ '^[A-Za-z0-9._-]{1,64}$' THEN
        RAISE EXCEPTION 'key id must be 1 to 64 characters from A-Z, a-z, 0-9, ".", "_" and "-"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO taskauth.signing_keys (kid, secret) VALUES (new_kid, add_signing_key.secret);
    RETURN new_kid;
END
$$;

COMMENT ON FUNCTION taskauth.add_signing_key(text, text) IS
'Installs an HMAC secret (at least 32 bytes) as an active signing key and returns its kid (12 random bytes in base64url when none is given); existing keys stay active.';

-- Login: one evenly timed check and one place that raises, whatever the input.
CREATE FUNCTION taskauth.login_check(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_login_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.login_check(text, text) IS
'Internal to login(): checks a password (NULL: none) against a stored hash (NULL: no account) in the time one check at today''s settings takes, whatever the input; false for no account, an unusable hash or a NULL password.';

REVOKE ALL ON FUNCTION taskauth.login_check(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION taskauth.login(email text, password text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which may hold the password or secret
SET log_min_error_statement = panic
AS $$
#variable_conflict use_column
DECLARE
    found_id uuid;
    found_email text;
    stored text;
BEGIN
    -- load the library first, so the settings read below are its own (see register)
    PERFORM taskauth.current_user_id();
    SELECT u.id, u.email, u.hashed_password INTO found_id, found_email, stored
      FROM taskauth.users AS u
     WHERE lower(u.email) = lower(btrim(login.email));
    -- One check, evenly timed, whether or not the account exists (stored is NULL then), and one
    -- place that raises: every field of the error, CONTEXT included, is the same for an unknown
    -- email, a wrong or NULL password and an account whose hash cannot be used.
    IF NOT taskauth.login_check(login.password, stored) THEN
        RAISE EXCEPTION 'invalid email or password'
            USING ERRCODE = 'invalid_password';
    END IF;
    -- bcrypt cannot hold a password over 72 bytes (an argon2id or scrypt one, say): keep its hash
    IF taskauth.password_needs_rehash(stored) AND
       NOT (current_setting('taskauth.password_algorithm') = 'bcrypt' AND octet_length(login.password) > 72) THEN
        UPDATE taskauth.users AS u SET hashed_password = taskauth.hash_password(login.password)
         WHERE u.id = found_id;
    END IF;
    RETURN taskauth.issue_token(found_id, found_email);
END
$$;

COMMENT ON FUNCTION taskauth.login(text, text) IS
'Checks an email and password and returns a JWT {sub, email, iat, exp} signed with the newest active key. Unknown email and wrong password both raise 28P01 "invalid email or password" in about the same time; a hash weaker than today''s settings is upgraded.';

-- grant_api_access refuses to finish while the library is not in every session.
CREATE OR REPLACE FUNCTION taskauth.grant_api_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    overriding int;
BEGIN
    -- policies that read current_setting('jwt.sub') need the library in every session
    IF taskauth.preload_status() IS NULL THEN
        RAISE EXCEPTION 'taskauth is not loaded into every session of database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A session that taskauth is not loaded into can set a jwt.sub placeholder of its own, and a policy reading current_setting(''jwt.sub'') would believe it.',
                  HINT = format('Run ALTER DATABASE %I SET session_preload_libraries = ''taskauth'' (keeping any libraries that list already has), or add taskauth to shared_preload_libraries.',
                                current_database());
    END IF;
    -- a role's own setting replaces the database's for that role's connections
    SELECT count(*) INTO overriding
      FROM pg_db_role_setting s, unnest(s.setconfig) c
     WHERE s.setrole <> 0
       AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
       AND c LIKE 'session\_preload\_libraries=%' AND c !~ '(=|[ ,"/])taskauth("|,|$)';
    IF overriding > 0 AND taskauth.preload_status() = 'session_preload_libraries' THEN
        RAISE WARNING '% role setting(s) of session_preload_libraries leave out taskauth', overriding
            USING DETAIL = 'A role''s own session_preload_libraries replaces the database''s for that role''s connections.',
                  HINT = 'Add taskauth to those settings (ALTER ROLE ... SET session_preload_libraries).';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA taskauth TO %s', role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION taskauth.register(text, text), '
                   'taskauth.login(text, text), taskauth.authenticate(text), '
                   'taskauth.current_user_id(), taskauth.claims(), taskauth.pre_request() TO %s',
                   role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON taskauth.tasks TO %s', role);
    EXECUTE format('GRANT SELECT (id, email, created_at, updated_at) ON taskauth.users TO %s', role);
END
$$;

COMMENT ON FUNCTION taskauth.grant_api_access(regrole) IS
'Gives an API role what it needs: register, login, authenticate, current_user_id, claims and pre_request; select, insert, update and delete on tasks (row-level security limits them to its user''s own); select of users except hashed_password. Never the signing keys.';

-- No per-value statistics of what users write (see the install script).
ALTER TABLE taskauth.tasks ALTER COLUMN title SET STATISTICS 0,
                           ALTER COLUMN description SET STATISTICS 0;

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
