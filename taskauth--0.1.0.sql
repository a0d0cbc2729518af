-- taskauth install script, assembled by the Makefile from src/sql/NN_area.sql.
\echo Use "CREATE EXTENSION taskauth" to load this file. \quit

-- The schema is created by CREATE EXTENSION (control file: schema = taskauth).
REVOKE ALL ON SCHEMA taskauth FROM PUBLIC;
GRANT USAGE ON SCHEMA taskauth TO PUBLIC;

-- Tokens: JWS compact form, HS256/HS384/HS512 (src/jwt.c).

CREATE FUNCTION taskauth.jwt_sign(claims jsonb, secret text, algorithm text DEFAULT 'HS256')
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_jwt_sign'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_sign(jsonb, text, text) IS
'Signs a JSON object of claims as a compact JWS with HMAC (HS256, HS384 or HS512); header {"alg":..,"typ":"JWT"}.';

CREATE FUNCTION taskauth.jwt_verify(token text, secret text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, text) IS
'Verifies an HS256/HS384/HS512 token and its exp, nbf and iat claims; returns the claims or raises SQLSTATE 28000.';

CREATE FUNCTION taskauth.jwt_verify(token text, secret text, audience text, issuer text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, text, text, text) IS
'Verifies a token like jwt_verify(token, secret) and also its aud and iss claims (a NULL audience or issuer skips that check); NULL token or secret gives NULL.';

-- Passwords: bcrypt and yescrypt through libxcrypt, argon2id through libargon2.

CREATE FUNCTION taskauth.hash_password(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password(text) IS
'Hashes a password with the algorithm of taskauth.password_algorithm: bcrypt ($2b$, cost taskauth.bcrypt_cost, passwords up to 72 bytes) or argon2id (taskauth.argon2_* parameters).';

CREATE FUNCTION taskauth.hash_password(password text, cost int)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_cost'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password(text, int) IS
'Hashes a password with bcrypt ($2b$) at the given cost (4..31, at most taskauth.max_bcrypt_cost); passwords over 72 bytes are refused.';

CREATE FUNCTION taskauth.hash_password_argon2id(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_argon2id'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password_argon2id(text) IS
'Hashes a password with argon2id (v=19, PHC string) at taskauth.argon2_memory_kib, taskauth.argon2_time and taskauth.argon2_parallelism.';

CREATE FUNCTION taskauth.hash_password_argon2id(password text, memory_kib int, iterations int, parallelism int)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_argon2id_params'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password_argon2id(text, int, int, int) IS
'Hashes a password with argon2id (v=19, PHC string) at explicit memory in KiB, passes and lanes, each within the taskauth.max_argon2_* settings.';

CREATE FUNCTION taskauth.verify_password(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_verify_password'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.verify_password(text, text) IS
'True when the password matches a $2a$/$2b$/$2y$ bcrypt, $argon2id$ or $y$ yescrypt hash; a malformed hash or one above the taskauth.max_* settings is an error (22023).';

CREATE FUNCTION taskauth.password_needs_rehash(hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.password_needs_rehash(text) IS
'True when a stored hash is weaker than what hash_password(password) would make under the current settings (other algorithm, lower cost or parameters, older bcrypt prefix).';

-- Identity and ownership (src/identity.c, src/keys.c): the verified identity of a transaction,
-- the server's signing keys, accounts, and tasks owned under forced row-level security.

-- The verified identity -----------------------------------------------------------------------

-- PARALLEL SAFE is honest: jwt.sub and jwt.claims are ordinary (PGC_SUSET) settings that
-- PostgreSQL copies into parallel workers; a check hook, not the context, refuses forged values.
CREATE FUNCTION taskauth.current_user_id()
RETURNS uuid
AS 'MODULE_PATHNAME', 'taskauth_current_user_id'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.current_user_id() IS
'The verified user id (JWT sub) of the current transaction, or NULL when it is anonymous; set only by taskauth.authenticate().';

CREATE FUNCTION taskauth.claims()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_claims'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.claims() IS
'The verified JWT claims of the current transaction, or NULL when it is anonymous.';

CREATE FUNCTION taskauth.authenticate(token text)
RETURNS uuid
AS 'MODULE_PATHNAME', 'taskauth_authenticate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.authenticate(text) IS
'Verifies a token with the server''s active signing keys (by kid when the header has one), makes its sub and claims the identity of the current transaction, and returns the sub; any failure is SQLSTATE 28000.';

-- Server signing keys -------------------------------------------------------------------------

CREATE TABLE taskauth.signing_keys (
    kid text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9._-]{1,64}$'),
    secret text NOT NULL CHECK (octet_length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    retired_at timestamptz
);

COMMENT ON TABLE taskauth.signing_keys IS
'HMAC secrets that taskauth.authenticate() verifies with and taskauth.login() signs with; a key is active while retired_at is NULL. Readable only by its owner.';
COMMENT ON COLUMN taskauth.signing_keys.kid IS
'Key id, written into the header of tokens signed with this key.';
COMMENT ON COLUMN taskauth.signing_keys.secret IS
'The HMAC secret (its UTF-8 bytes are the key), at least 32 bytes.';
COMMENT ON COLUMN taskauth.signing_keys.created_at IS
'When the key was added; login() signs with the newest active key.';
COMMENT ON COLUMN taskauth.signing_keys.retired_at IS
'When the key was retired; NULL while it is active.';

REVOKE ALL ON taskauth.signing_keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.signing_keys', '');

CREATE FUNCTION taskauth.signing_keys_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'taskauth_signing_keys_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.signing_keys_changed() IS
'Trigger function: tells every backend to drop its cached signing keys.';

CREATE TRIGGER signing_keys_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON taskauth.signing_keys
FOR EACH STATEMENT EXECUTE FUNCTION taskauth.signing_keys_changed();

COMMENT ON TRIGGER signing_keys_changed ON taskauth.signing_keys IS
'Invalidates the per-backend key cache in every backend when the keys change.';

CREATE FUNCTION taskauth.add_signing_key(secret text, kid text DEFAULT NULL)
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
    -- a public key's text is known to everyone: as an HMAC secret it would let anyone sign
    IF add_signing_key.secret ~ '^\s*-----BEGIN ' OR
       (add_signing_key.secret ~ '^\s*\{' AND strpos(add_signing_key.secret, '"kty"') > 0) THEN
        RAISE EXCEPTION 'signing key secret is a public key, not an hmac secret'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
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

CREATE FUNCTION taskauth.retire_signing_key(kid text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE taskauth.signing_keys AS k SET retired_at = clock_timestamp()
     WHERE k.kid = retire_signing_key.kid AND k.retired_at IS NULL;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION taskauth.retire_signing_key(text) IS
'Retires an active signing key: tokens carrying its kid, or verifiable only with it, are refused from then on. True when a key was retired.';

CREATE FUNCTION taskauth.issue_token(user_id uuid, email text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_issue_token'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.issue_token(uuid, text) IS
'Signs {sub, email, iat, exp} with the newest active signing key (kid in the header, HS256); exp is iat plus taskauth.token_lifetime. Owner only: it mints tokens for any user.';

REVOKE ALL ON FUNCTION taskauth.signing_keys_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.add_signing_key(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.retire_signing_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.issue_token(uuid, text) FROM PUBLIC;

-- Accounts and tasks --------------------------------------------------------------------------

CREATE TABLE taskauth.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email = btrim(email) AND email <> ''),
    hashed_password text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE taskauth.users IS
'Accounts: one row per user, created by taskauth.register(). Each user sees only their own row.';
COMMENT ON COLUMN taskauth.users.id IS 'User id: the sub of the user''s tokens.';
COMMENT ON COLUMN taskauth.users.email IS 'Email address, trimmed; unique regardless of case.';
COMMENT ON COLUMN taskauth.users.hashed_password IS
'bcrypt or argon2id hash of the password; no API role can read it.';
COMMENT ON COLUMN taskauth.users.created_at IS 'When the account was created.';
COMMENT ON COLUMN taskauth.users.updated_at IS 'When the row last changed (kept by trigger).';

CREATE UNIQUE INDEX users_email_lower_key ON taskauth.users (lower(email));

COMMENT ON INDEX taskauth.users_email_lower_key IS
'Makes emails unique regardless of case; also serves login''s lookup.';

CREATE TABLE taskauth.tasks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT taskauth.current_user_id()
        REFERENCES taskauth.users (id) ON DELETE CASCADE,
    title text NOT NULL CHECK (btrim(title) <> ''),
    description text,
    is_completed boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE taskauth.tasks IS
'Tasks, each owned by one user; row-level security lets a user see and change only their own.';
COMMENT ON COLUMN taskauth.tasks.id IS 'Task id.';
COMMENT ON COLUMN taskauth.tasks.user_id IS
'Owner; defaults to the verified user of the transaction and cannot be set to anyone else.';
COMMENT ON COLUMN taskauth.tasks.title IS 'Title; not empty or blank.';
COMMENT ON COLUMN taskauth.tasks.description IS 'Optional longer text.';
COMMENT ON COLUMN taskauth.tasks.is_completed IS 'Whether the task is done.';
COMMENT ON COLUMN taskauth.tasks.created_at IS 'When the task was created.';
COMMENT ON COLUMN taskauth.tasks.updated_at IS 'When the task last changed (kept by trigger).';

CREATE INDEX tasks_user_id_created_at_idx ON taskauth.tasks (user_id, created_at);

COMMENT ON INDEX taskauth.tasks_user_id_created_at_idx IS
'Serves the row-level security filter on user_id and listing a user''s tasks in creation order.';

REVOKE ALL ON taskauth.users, taskauth.tasks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.users', '');
SELECT pg_catalog.pg_extension_config_dump('taskauth.tasks', '');

CREATE FUNCTION taskauth.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION taskauth.touch_updated_at() IS
'Trigger function: sets updated_at to the transaction''s time on every update.';

REVOKE ALL ON FUNCTION taskauth.touch_updated_at() FROM PUBLIC;

CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON taskauth.users
FOR EACH ROW EXECUTE FUNCTION taskauth.touch_updated_at();

COMMENT ON TRIGGER users_touch_updated_at ON taskauth.users IS 'Keeps users.updated_at current.';

CREATE TRIGGER tasks_touch_updated_at BEFORE UPDATE ON taskauth.tasks
FOR EACH ROW EXECUTE FUNCTION taskauth.touch_updated_at();

COMMENT ON TRIGGER tasks_touch_updated_at ON taskauth.tasks IS 'Keeps tasks.updated_at current.';

-- Row-level security, forced so that the tables' owner is held to it too (superusers and
-- BYPASSRLS roles are not; register() and login() rely on that, see their comments).

ALTER TABLE taskauth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE taskauth.users FORCE ROW LEVEL SECURITY;
ALTER TABLE taskauth.tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE taskauth.tasks FORCE ROW LEVEL SECURITY;

CREATE POLICY users_select_own ON taskauth.users FOR SELECT
    USING (id = (SELECT taskauth.current_user_id()));

COMMENT ON POLICY users_select_own ON taskauth.users IS
'A user sees only their own account row; anonymous transactions see none.';

CREATE POLICY tasks_select_own ON taskauth.tasks FOR SELECT
    USING (user_id = (SELECT taskauth.current_user_id()));

COMMENT ON POLICY tasks_select_own ON taskauth.tasks IS
'A user sees only their own tasks; anonymous transactions see none.';

CREATE POLICY tasks_insert_own ON taskauth.tasks FOR INSERT
    WITH CHECK (user_id = (SELECT taskauth.current_user_id()));

COMMENT ON POLICY tasks_insert_own ON taskauth.tasks IS
'A user creates tasks only for themselves; a task planted on another user is refused.';

CREATE POLICY tasks_update_own ON taskauth.tasks FOR UPDATE
    USING (user_id = (SELECT taskauth.current_user_id()))
    WITH CHECK (user_id = (SELECT taskauth.current_user_id()));

COMMENT ON POLICY tasks_update_own ON taskauth.tasks IS
'A user changes only their own tasks and cannot move one to another user.';

CREATE POLICY tasks_delete_own ON taskauth.tasks FOR DELETE
    USING (user_id = (SELECT taskauth.current_user_id()));

COMMENT ON POLICY tasks_delete_own ON taskauth.tasks IS
'A user deletes only their own tasks.';

-- register and login run as the extension's owner (a superuser, since the extension is not
-- trusted), which is how they read and write users under forced row-level security while API
-- roles cannot. Both pin search_path and name every object schema-qualified.

CREATE FUNCTION taskauth.register(email text, password text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which may hold the password or secret
SET log_min_error_statement = panic
AS $$
#variable_conflict use_column
DECLARE
    clean text := btrim(register.email);
    min_len int;
    hashed text;
    new_id uuid;
BEGIN
    -- Calling a C function loads the library, which defines the settings read below; before
    -- that, a session's own placeholder (say, a lowered minimum) would be read instead.
    PERFORM taskauth.current_user_id();
    min_len := current_setting('taskauth.min_password_length')::int;
    -- one "@", no blanks or control characters, a dot inside the domain
    IF clean IS NULL OR octet_length(clean) > 254 OR
       clean !~ '^[^@[:space:][:cntrl:]]{1,64}@[^@[:space:][:cntrl:].]+(\.[^@[:space:][:cntrl:].]+)+$' THEN
        RAISE EXCEPTION 'email address is malformed'
            USING ERRCODE = 'check_violation';
    END IF;
    IF register.password IS NULL OR char_length(register.password) < min_len THEN
        RAISE EXCEPTION 'password is too short'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A password needs at least %s characters.', min_len);
    END IF;
    -- hash before the insert so a taken email costs the same time as a new one
    hashed := taskauth.hash_password(register.password);
    INSERT INTO taskauth.users (email, hashed_password) VALUES (clean, hashed)
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        RAISE EXCEPTION 'email is already registered'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION taskauth.register(text, text) IS
'Creates an account and returns its id. Errors: email already registered (23505), malformed email (23514), password shorter than taskauth.min_password_length (22023).';

CREATE FUNCTION taskauth.login(email text, password text)
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
    dummy text;
    matched boolean;
BEGIN
    -- load the library first, so the settings read below are its own (see register)
    PERFORM taskauth.current_user_id();
    SELECT u.id, u.email, u.hashed_password INTO found_id, found_email, stored
      FROM taskauth.users AS u
     WHERE lower(u.email) = lower(btrim(login.email));
    IF found_id IS NULL THEN
        -- Spend the time a real check takes, against a hash of today's algorithm and cost (its
        -- salt and digest are fixed and match no password), so that time does not tell which
        -- emails have accounts.
        IF current_setting('taskauth.password_algorithm') = 'argon2id' THEN
            dummy := format('$argon2id$v=19$m=%s,t=%s,p=%s$D3+w3Gn4S8+S4aeQxfcmRw$7FkwkfM6ac6QCor8HSS4pIfr78d/MZpCQwbZYAHJkDk',
                            current_setting('taskauth.argon2_memory_kib'),
                            current_setting('taskauth.argon2_time'),
                            current_setting('taskauth.argon2_parallelism'));
        ELSE
            dummy := format('$2b$%s$SIfIXG7KSCztEqVw.TeSmelWRMiPXgpwbcrChJ796FgtnQ.0CTQ76',
                            lpad(current_setting('taskauth.bcrypt_cost'), 2, '0'));
        END IF;
        PERFORM taskauth.verify_password(coalesce(login.password, ''), dummy);
        RAISE EXCEPTION 'invalid email or password'
            USING ERRCODE = 'invalid_password';
    END IF;
    BEGIN
        matched := login.password IS NOT NULL AND taskauth.verify_password(login.password, stored);
    EXCEPTION WHEN invalid_parameter_value THEN
        -- a stored hash that is malformed or above today's maxima: answer as for a wrong
        -- password, so the error does not tell that the email has an account
        matched := false;
    END;
    IF NOT matched THEN
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

-- PostgREST's db-pre-request hook ------------------------------------------------------------

CREATE FUNCTION taskauth.pre_request()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
DECLARE
    raw text := pg_catalog.current_setting('request.headers', true);
    headers jsonb;
    token text;
    reason text;
BEGIN
    -- PostgREST sets request.headers for each request; it reads '' after a commit
    IF raw IS NULL OR raw = '' THEN
        RETURN;
    END IF;
    headers := raw::jsonb;
    -- a header PostgREST does not interpret, for deployments where PostgREST has no jwt-secret
    token := headers ->> 'x-taskauth-token';
    IF token IS NULL THEN
        token := substring(headers ->> 'authorization' FROM '^[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+(.*)$');
        IF token IS NULL THEN
            RETURN;			-- no bearer token: anonymous
        END IF;
    END IF;
    BEGIN
        PERFORM taskauth.authenticate(pg_catalog.btrim(token, E' \t'));
    EXCEPTION WHEN invalid_authorization_specification THEN
        -- our messages name the reason and never contain the token
        GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
        RAISE SQLSTATE 'PGRST'
            USING MESSAGE = pg_catalog.json_build_object('code', 'PGRST301', 'message', reason)::text,
                  DETAIL = pg_catalog.json_build_object(
                      'status', 401,
                      'headers', pg_catalog.json_build_object(
                          'WWW-Authenticate', 'Bearer error="invalid_token"'))::text;
    END;
END
$$;

COMMENT ON FUNCTION taskauth.pre_request() IS
'PostgREST db-pre-request hook: authenticates the token from the x-taskauth-token header or an "Authorization: Bearer" header of request.headers; no token leaves the request anonymous; a bad one makes PostgREST answer 401 with WWW-Authenticate: Bearer error="invalid_token".';

-- API roles ------------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION taskauth.authenticate(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.register(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.login(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.pre_request() FROM PUBLIC;

CREATE FUNCTION taskauth.grant_api_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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

CREATE FUNCTION taskauth.revoke_api_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('REVOKE EXECUTE ON FUNCTION taskauth.register(text, text), '
                   'taskauth.login(text, text), taskauth.authenticate(text), '
                   'taskauth.current_user_id(), taskauth.claims(), taskauth.pre_request() FROM %s',
                   role);
    EXECUTE format('REVOKE ALL ON taskauth.tasks, taskauth.users FROM %s', role);
END
$$;

COMMENT ON FUNCTION taskauth.revoke_api_access(regrole) IS
'Takes back what grant_api_access gave (schema usage stays with PUBLIC).';

REVOKE ALL ON FUNCTION taskauth.grant_api_access(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.revoke_api_access(regrole) FROM PUBLIC;
-- Public-key tokens: JWK/JWKS verification and PEM conversion (src/jwk.c).

CREATE FUNCTION taskauth.jwt_verify(token text, key jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify_jwk'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, jsonb) IS
'Verifies an RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA token with a JWK or a JWKS ({"keys":[...]}) and its exp, nbf and iat claims; returns the claims or raises SQLSTATE 28000.';

CREATE FUNCTION taskauth.jwt_verify(token text, key jsonb, audience text, issuer text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify_jwk'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, jsonb, text, text) IS
'Verifies a token like jwt_verify(token, key jsonb) and also its aud and iss claims (a NULL audience or issuer skips that check); NULL token or key gives NULL.';

CREATE FUNCTION taskauth.jwk_from_pem(pem text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwk_from_pem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwk_from_pem(text) IS
'Converts a PEM public key (RSA of 2048 bits or more, EC P-256/P-384/P-521, Ed25519) to its public JWK; refuses private keys.';
-- External issuers for authenticate(): trusted iss values, their audience, and where their
-- public keys come from (src/issuers.c).

CREATE TABLE taskauth.issuers (
    issuer text PRIMARY KEY CHECK (issuer <> ''),
    audience text CHECK (audience <> ''),
    jwks jsonb CHECK (jwks IS NULL OR (jsonb_typeof(jwks) = 'object' AND jsonb_typeof(jwks -> 'keys') = 'array')),
    key_table regclass,
    kid_column name NOT NULL DEFAULT 'id',
    key_column name NOT NULL DEFAULT 'publicKey',
    alg_column name DEFAULT 'alg',
    expires_column name DEFAULT 'expiresAt',
    key_grace interval NOT NULL DEFAULT '30 days' CHECK (key_grace >= '0'),
    provision_users boolean NOT NULL DEFAULT false,
    email_claim text NOT NULL DEFAULT 'email',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (jwks IS NOT NULL OR key_table IS NOT NULL)
);

COMMENT ON TABLE taskauth.issuers IS
'External token issuers that taskauth.authenticate() trusts: a token whose iss is listed here is verified with that issuer''s public keys. Readable only by its owner.';
COMMENT ON COLUMN taskauth.issuers.issuer IS 'The iss claim of the issuer''s tokens, compared exactly.';
COMMENT ON COLUMN taskauth.issuers.audience IS 'The aud a token must carry (a string or one element of an array); NULL skips the check.';
COMMENT ON COLUMN taskauth.issuers.jwks IS 'Public keys added by SQL, as a JWK Set {"keys": [...]}.';
COMMENT ON COLUMN taskauth.issuers.key_table IS 'A table or view with one public JWK per row, read where it is (Better Auth''s jwks table, say).';
COMMENT ON COLUMN taskauth.issuers.kid_column IS 'Column of key_table holding the key id (the token header''s kid).';
COMMENT ON COLUMN taskauth.issuers.key_column IS 'Column of key_table holding the public JWK as JSON text or jsonb.';
COMMENT ON COLUMN taskauth.issuers.alg_column IS 'Column of key_table holding the key''s algorithm, or NULL; when set, the key verifies only that algorithm.';
COMMENT ON COLUMN taskauth.issuers.expires_column IS 'Column of key_table holding when the key stopped signing, or NULL for keys that never expire.';
COMMENT ON COLUMN taskauth.issuers.key_grace IS 'How long after its expiry time a key still verifies tokens it signed (Better Auth''s jwks.gracePeriod, 30 days by default).';
COMMENT ON COLUMN taskauth.issuers.provision_users IS 'Create a taskauth.users row (id = sub, email from the claims) on a user''s first authenticate.';
COMMENT ON COLUMN taskauth.issuers.email_claim IS 'The claim that holds the user''s email address, for provisioning.';
COMMENT ON COLUMN taskauth.issuers.created_at IS 'When the issuer was registered.';

REVOKE ALL ON taskauth.issuers FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.issuers', '');

CREATE FUNCTION taskauth.issuers_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'taskauth_issuers_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.issuers_changed() IS
'Trigger function: tells every backend to drop its cached issuer settings and keys.';

CREATE TRIGGER issuers_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON taskauth.issuers
FOR EACH STATEMENT EXECUTE FUNCTION taskauth.issuers_changed();

COMMENT ON TRIGGER issuers_changed ON taskauth.issuers IS
'Invalidates the per-backend issuer cache in every backend when the registry changes.';

CREATE FUNCTION taskauth.check_jwks(jwks jsonb)
RETURNS integer
AS 'MODULE_PATHNAME', 'taskauth_check_jwks'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.check_jwks(jsonb) IS
'Checks that every key of a JWK or JWK Set can verify signatures (raising SQLSTATE 22023 for the first that cannot) and returns how many keys there are.';

CREATE FUNCTION taskauth.add_issuer(issuer text, audience text DEFAULT NULL, jwks jsonb DEFAULT NULL,
                                    key_table regclass DEFAULT NULL, provision_users boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    set_ jsonb := add_issuer.jwks;
BEGIN
    -- a lone JWK is kept as a set of one
    IF set_ IS NOT NULL AND NOT set_ ? 'keys' THEN
        set_ := jsonb_build_object('keys', jsonb_build_array(set_));
    END IF;
    IF set_ IS NOT NULL THEN
        PERFORM taskauth.check_jwks(set_);
    END IF;
    IF set_ IS NULL AND add_issuer.key_table IS NULL THEN
        RAISE EXCEPTION 'an issuer needs keys: jwks, key_table or both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO taskauth.issuers (issuer, audience, jwks, key_table, provision_users)
    VALUES (add_issuer.issuer, add_issuer.audience, set_, add_issuer.key_table, add_issuer.provision_users);
END
$$;

COMMENT ON FUNCTION taskauth.add_issuer(text, text, jsonb, regclass, boolean) IS
'Registers an external issuer: its iss, the audience its tokens must carry (NULL: not checked), its public keys as a JWK or JWK Set and/or a table of JWKs (Better Auth''s jwks table with its default column names), and whether authenticate() creates users on first sight. Further columns of taskauth.issuers adjust the table''s column names and key expiry.';

CREATE FUNCTION taskauth.add_issuer_key(issuer text, jwk jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM taskauth.check_jwks(add_issuer_key.jwk);
    UPDATE taskauth.issuers AS i
       SET jwks = jsonb_build_object('keys', coalesce(i.jwks -> 'keys', '[]'::jsonb) ||
                                             jsonb_build_array(add_issuer_key.jwk))
     WHERE i.issuer = add_issuer_key.issuer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'issuer is not registered'
            USING ERRCODE = 'no_data_found';
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.add_issuer_key(text, jsonb) IS
'Adds a public JWK to a registered issuer''s keys (for rotation: add the new key, later remove the old one with remove_issuer_key).';

CREATE FUNCTION taskauth.remove_issuer_key(issuer text, kid text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n int;
BEGIN
    UPDATE taskauth.issuers AS i
       SET jwks = jsonb_build_object('keys', coalesce((SELECT jsonb_agg(k) FROM jsonb_array_elements(i.jwks -> 'keys') AS k
                                                       WHERE k ->> 'kid' IS DISTINCT FROM remove_issuer_key.kid), '[]'::jsonb))
     WHERE i.issuer = remove_issuer_key.issuer AND i.jwks IS NOT NULL
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(i.jwks -> 'keys') AS k WHERE k ->> 'kid' = remove_issuer_key.kid);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;

COMMENT ON FUNCTION taskauth.remove_issuer_key(text, text) IS
'Removes the keys with this kid from a registered issuer''s jwks; returns whether any was removed.';

CREATE FUNCTION taskauth.remove_issuer(issuer text)
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH d AS (DELETE FROM taskauth.issuers AS i WHERE i.issuer = remove_issuer.issuer RETURNING 1)
    SELECT count(*) > 0 FROM d;
$$;

COMMENT ON FUNCTION taskauth.remove_issuer(text) IS
'Unregisters an external issuer; its tokens no longer authenticate. Returns whether it was registered.';

-- Called from C by authenticate() (through the function manager, so no EXECUTE grant to API
-- roles is needed); both run as the extension's owner to read the registry, the key table and
-- taskauth.users, which API roles cannot.

CREATE FUNCTION taskauth.issuer_config(issuer text, OUT audience text, OUT jwks jsonb,
                                       OUT provision_users boolean, OUT email_claim text,
                                       OUT has_key_table boolean)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    i taskauth.issuers;
    table_keys jsonb := '[]';
BEGIN
    SELECT * INTO i FROM taskauth.issuers AS x WHERE x.issuer = issuer_config.issuer;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF i.key_table IS NOT NULL THEN
        -- This runs as the extension's owner: read only plain columns of a plain table, so that
        -- no code of the table's owner runs here (no view, no rule, no user-defined type or cast).
        IF (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = i.key_table) NOT IN ('r', 'p')
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                       WHERE a.attrelid = i.key_table AND a.attnum > 0 AND NOT a.attisdropped
                         AND ((a.attname IN (i.key_column, i.kid_column, i.alg_column)
                               AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype,
                                                      'json'::regtype, 'jsonb'::regtype,
                                                      'uuid'::regtype))
                           OR (a.attname = i.expires_column
                               AND a.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype,
                                                      'date'::regtype))))
        THEN
            RAISE EXCEPTION 'key table of the jwt issuer is not a plain table of text, uuid, json and timestamp columns'
                USING ERRCODE = 'invalid_authorization_specification';
        END IF;
        -- Key rows are read where they are; a key stays valid until its expiry plus the grace.
        EXECUTE format(
            'SELECT coalesce(jsonb_agg(jsonb_strip_nulls(k.%I::jsonb || jsonb_build_object(''kid'', k.%I::text, ''alg'', %s))), ''[]'') FROM %s AS k WHERE %s',
            i.key_column, i.kid_column,
            CASE WHEN i.alg_column IS NULL THEN 'NULL::text' ELSE format('k.%I::text', i.alg_column) END,
            i.key_table,
            CASE WHEN i.expires_column IS NULL THEN 'true'
                 ELSE format('k.%1$I IS NULL OR k.%1$I + $1 > pg_catalog.now()', i.expires_column) END)
        INTO table_keys USING i.key_grace;
    END IF;
    audience := i.audience;
    jwks := jsonb_build_object('keys', coalesce(i.jwks -> 'keys', '[]'::jsonb) || table_keys);
    provision_users := i.provision_users;
    email_claim := i.email_claim;
    has_key_table := i.key_table IS NOT NULL;
END
$$;

COMMENT ON FUNCTION taskauth.issuer_config(text) IS
'Internal: an issuer''s audience, its keys (SQL-added and unexpired table keys, with kid and alg) and provisioning settings; no row fields when the issuer is not registered.';

CREATE FUNCTION taskauth.has_issuers()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM taskauth.issuers);
$$;

COMMENT ON FUNCTION taskauth.has_issuers() IS
'Internal: whether any external issuer is registered.';

CREATE FUNCTION taskauth.provision_user(id uuid, email text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM taskauth.users AS u WHERE u.id = provision_user.id) THEN
        RETURN;
    END IF;
    -- A read-only transaction (PostgREST runs GET requests so) reads without the row; the
    -- first read-write one creates it, before it can insert anything that refers to it.
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN;
    END IF;
    -- checked here, so that a bad claim is a token error and the row never shows in a message
    IF provision_user.email IS NULL OR btrim(provision_user.email) = '' THEN
        RAISE EXCEPTION 'jwt email claim is missing or empty'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    -- The account has no password here: a random bcrypt string that no password matches.
    INSERT INTO taskauth.users (id, email, hashed_password)
    VALUES (provision_user.id, btrim(provision_user.email),
            '$2b$' || lpad(current_setting('taskauth.bcrypt_cost'), 2, '0') || '$' ||
            substr(translate(encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'base64'), '+=', '.'), 1, 21) || '.' ||
            substr(translate(encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'base64'), '+=', '.'), 1, 30) || '.')
    ON CONFLICT DO NOTHING;
    -- Nothing inserted: the same user was created meanwhile, or the email is someone else's.
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM taskauth.users AS u WHERE u.id = provision_user.id) THEN
        RAISE EXCEPTION 'email of the external user belongs to another account'
            USING ERRCODE = 'unique_violation';
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.provision_user(uuid, text) IS
'Internal: creates the taskauth.users row of an external issuer''s user on first authenticate in a read-write transaction (no usable password).';

REVOKE ALL ON FUNCTION taskauth.add_issuer(text, text, jsonb, regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.add_issuer_key(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.remove_issuer_key(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.remove_issuer(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.issuer_config(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.has_issuers() FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.provision_user(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION taskauth.issuers_changed() FROM PUBLIC;
