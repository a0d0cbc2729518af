
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
'Verifies a token with the server''s active signing keys, makes its sub and claims the identity of the current transaction and returns the sub; any failure is SQLSTATE 28000.';

REVOKE ALL ON FUNCTION taskauth.authenticate(text) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.signing_keys_changed() FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.add_signing_key(text, text) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.retire_signing_key(text) FROM PUBLIC;

CREATE FUNCTION taskauth.issue_token(user_id uuid, email text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_issue_token'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.issue_token(uuid, text) IS
'Owner only: signs an access token {aud, sub, email, iat, exp} for any user with the key derived from the newest active signing key (access_token_key).';

REVOKE ALL ON FUNCTION taskauth.issue_token(uuid, text) FROM PUBLIC;

CREATE FUNCTION taskauth.access_token_key(secret text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_access_token_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
-- an error inside must not log the calling statement, which holds the secret
SET log_min_error_statement = panic;

COMMENT ON FUNCTION taskauth.access_token_key(text) IS
'Owner only: the HS256 key, derived from a signing key''s secret, that taskauth''s own access tokens are signed with; give it to another verifier of those tokens (PostgREST''s jwt-secret, say).';

REVOKE ALL ON FUNCTION taskauth.access_token_key(text) FROM PUBLIC;

CREATE FUNCTION taskauth.load_library()
RETURNS void
AS 'MODULE_PATHNAME', 'taskauth_load_library'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.load_library() IS
'Internal: loads the library into the session, so that its settings are defined, and does nothing else (unlike current_user_id(), it never takes the identity).';

REVOKE ALL ON FUNCTION taskauth.load_library() FROM PUBLIC;

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
COMMENT ON COLUMN taskauth.users.id IS
'User id: the sub of the user''s tokens. Statistics kept: random values, unique, which the planner needs to join on and which no user can read of another.';
COMMENT ON COLUMN taskauth.users.email IS 'Email address, trimmed; unique regardless of case.';
COMMENT ON COLUMN taskauth.users.hashed_password IS
'bcrypt or argon2id hash of the password; no API role can read it.';
COMMENT ON COLUMN taskauth.users.created_at IS 'When the account was created.';
COMMENT ON COLUMN taskauth.users.updated_at IS 'When the row last changed (kept by trigger).';

REVOKE ALL ON taskauth.users FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.users', '');

-- No per-value statistics of what users can read only of their own (see tasks below).
ALTER TABLE taskauth.users ALTER COLUMN email SET STATISTICS 0,
                           ALTER COLUMN created_at SET STATISTICS 0,
                           ALTER COLUMN updated_at SET STATISTICS 0;

CREATE UNIQUE INDEX users_email_lower_key ON taskauth.users (lower(email));

COMMENT ON INDEX taskauth.users_email_lower_key IS
'Makes emails unique regardless of case; also serves login''s lookup.';

ALTER INDEX taskauth.users_email_lower_key ALTER COLUMN 1 SET STATISTICS 0;

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
COMMENT ON COLUMN taskauth.tasks.id IS
'Task id. Statistics kept: random values, unique, which tell nothing of what users write.';
COMMENT ON COLUMN taskauth.tasks.user_id IS
'Owner: the verified user of the transaction, by default and by policy. Statistics kept: the planner needs them to pick the owner''s index, and they tell only of ids no user can read.';
COMMENT ON COLUMN taskauth.tasks.title IS 'Title; not empty or blank.';
COMMENT ON COLUMN taskauth.tasks.description IS 'Optional longer text.';
COMMENT ON COLUMN taskauth.tasks.is_completed IS 'Whether the task is done.';
COMMENT ON COLUMN taskauth.tasks.created_at IS 'When the task was created.';
COMMENT ON COLUMN taskauth.tasks.updated_at IS 'When the task last changed (kept by trigger).';

REVOKE ALL ON taskauth.tasks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.tasks', '');

-- No per-value statistics of what users write: the planner uses statistics under row-level
-- security (uuid and text equality are leakproof), so a most-common-values list of titles would
-- let anyone tell from EXPLAIN's row estimate (or PostgREST's Prefer: count=planned) how many
-- tasks of other users carry a given title. The same holds for every column a user can read:
-- only the ids keep statistics, and their comments say why (test/pgtap/hardening.sql checks).
ALTER TABLE taskauth.tasks ALTER COLUMN title SET STATISTICS 0,
                           ALTER COLUMN description SET STATISTICS 0,
                           ALTER COLUMN is_completed SET STATISTICS 0,
                           ALTER COLUMN created_at SET STATISTICS 0,
                           ALTER COLUMN updated_at SET STATISTICS 0;

CREATE INDEX tasks_user_id_created_at_idx ON taskauth.tasks (user_id, created_at);

COMMENT ON INDEX taskauth.tasks_user_id_created_at_idx IS
'Serves the row-level security filter on user_id and listing a user''s tasks in creation order.';

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
    USING (id = taskauth.current_user_id());

COMMENT ON POLICY users_select_own ON taskauth.users IS
'A user sees only their own account row; anonymous transactions see none.';

CREATE POLICY tasks_select_own ON taskauth.tasks FOR SELECT
    USING (user_id = taskauth.current_user_id());

COMMENT ON POLICY tasks_select_own ON taskauth.tasks IS
'A user sees only their own tasks; anonymous transactions see none.';

CREATE POLICY tasks_insert_own ON taskauth.tasks FOR INSERT
    WITH CHECK (user_id = taskauth.current_user_id());

COMMENT ON POLICY tasks_insert_own ON taskauth.tasks IS
'A user creates tasks only for themselves; a task planted on another user is refused.';

CREATE POLICY tasks_update_own ON taskauth.tasks FOR UPDATE
    USING (user_id = taskauth.current_user_id())
    WITH CHECK (user_id = taskauth.current_user_id());

COMMENT ON POLICY tasks_update_own ON taskauth.tasks IS
'A user changes only their own tasks and cannot move one to another user.';

CREATE POLICY tasks_delete_own ON taskauth.tasks FOR DELETE
    USING (user_id = taskauth.current_user_id());

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
    -- Loads the library, so that the settings read below are its own, not a placeholder the
    -- session set before (say, a lowered minimum).
    PERFORM taskauth.load_library();
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

REVOKE ALL ON FUNCTION taskauth.register(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.login_check(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_login_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.login_check(text, text) IS
'Internal to login(): checks a password against a stored hash (either may be NULL) in the time one check at today''s settings takes, whatever the input.';

REVOKE ALL ON FUNCTION taskauth.login_check(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.login(email text, password text)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which may hold the password or secret
SET log_min_error_statement = panic
AS $$
DECLARE
    u record;
BEGIN
    -- the check, its one error and the session: shared with sign_in (src/sql/70_sessions.sql)
    SELECT * INTO u FROM taskauth.sign_in_user(login.email, login.password, false);
    RETURN taskauth.issue_token(u.user_id, u.user_email, u.session_id);
END
$$;

COMMENT ON FUNCTION taskauth.login(text, text) IS
'Checks an email and password and returns an access token for a new session that ends with it; an unknown email and a wrong password both raise 28P01 in about the same time.';

REVOKE ALL ON FUNCTION taskauth.login(text, text) FROM PUBLIC;

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
'PostgREST db-pre-request hook: authenticates the bearer token of request.headers (x-taskauth-token or Authorization); none leaves the request anonymous, a bad one makes PostgREST answer 401.';

REVOKE ALL ON FUNCTION taskauth.pre_request() FROM PUBLIC;

-- API roles ------------------------------------------------------------------------------------

-- What grant_api_access gives and revoke_api_access takes back, in one place: a privilege is
-- added here or nowhere. The objects are named as text, resolved when the list is read, since
-- sign_in and the others of src/sql/70_sessions.sql are created after this.
CREATE FUNCTION taskauth.api_privileges(OUT privileges text, OUT object text, OUT accounts boolean)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('EXECUTE', 'FUNCTION taskauth.authenticate(text)', false),
           ('EXECUTE', 'FUNCTION taskauth.current_user_id()', false),
           ('EXECUTE', 'FUNCTION taskauth.claims()', false),
           ('EXECUTE', 'FUNCTION taskauth.pre_request()', false),
           ('SELECT, INSERT, UPDATE, DELETE', 'TABLE taskauth.tasks', false),
           -- never hashed_password
           ('SELECT (id, email, created_at, updated_at)', 'TABLE taskauth.users', false),
           ('EXECUTE', 'FUNCTION taskauth.register(text, text)', true),
           ('EXECUTE', 'FUNCTION taskauth.login(text, text)', true),
           ('EXECUTE', 'FUNCTION taskauth.sign_in(text, text)', true),
           ('EXECUTE', 'FUNCTION taskauth.refresh(text)', true),
           ('EXECUTE', 'FUNCTION taskauth.logout()', true),
           ('EXECUTE', 'FUNCTION taskauth.logout_everywhere()', true),
           ('EXECUTE', 'FUNCTION taskauth.change_password(text, text)', true),
           ('SELECT', 'TABLE taskauth.sessions', true)
$$;

COMMENT ON FUNCTION taskauth.api_privileges() IS
'Internal: the privileges grant_api_access gives an API role, each marked when it is one of taskauth''s accounts and sessions (accounts => true only).';

REVOKE ALL ON FUNCTION taskauth.api_privileges() FROM PUBLIC;

CREATE FUNCTION taskauth.grant_api_access(role regrole, accounts boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    overriding int;
    p record;
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
       AND c LIKE 'session\_preload\_libraries=%'
       AND NOT EXISTS (SELECT FROM taskauth.preload_entries(substr(c, strpos(c, '=') + 1)) e
                        WHERE e.is_taskauth);
    IF overriding > 0 AND taskauth.preload_status() = 'session_preload_libraries' THEN
        RAISE WARNING '% role setting(s) of session_preload_libraries leave out taskauth', overriding
            USING DETAIL = 'A role''s own session_preload_libraries replaces the database''s for that role''s connections.',
                  HINT = 'Add taskauth to those settings (ALTER ROLE ... SET session_preload_libraries).';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA taskauth TO %s', role);
    -- An issuer of its own (Better Auth, say) owns the accounts: then no API client may create
    -- or claim one here (an account registered first under someone else's email would lock
    -- that person out once they sign up with the issuer), nor start sessions of taskauth's own.
    FOR p IN SELECT * FROM taskauth.api_privileges() AS a
              WHERE NOT a.accounts OR grant_api_access.accounts LOOP
        EXECUTE format('GRANT %s ON %s TO %s', p.privileges, p.object, role);
    END LOOP;
END
$$;

COMMENT ON FUNCTION taskauth.grant_api_access(regrole, boolean) IS
'Gives an API role what it needs (api_privileges): the identity functions and its user''s own tasks and account row, and with accounts true taskauth''s accounts and sessions.';

REVOKE ALL ON FUNCTION taskauth.grant_api_access(regrole, boolean) FROM PUBLIC;

CREATE FUNCTION taskauth.grant_api_access(role regrole)
RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT taskauth.grant_api_access(role, true)
$$;

COMMENT ON FUNCTION taskauth.grant_api_access(regrole) IS
'grant_api_access(role, accounts => true): everything an API role needs, the accounts and sessions of taskauth included.';

REVOKE ALL ON FUNCTION taskauth.grant_api_access(regrole) FROM PUBLIC;

CREATE FUNCTION taskauth.revoke_api_access(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    -- ALL, not just what was granted: a table's column privileges go with it
    FOR p IN SELECT * FROM taskauth.api_privileges() LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s', p.object, role);
    END LOOP;
END
$$;

COMMENT ON FUNCTION taskauth.revoke_api_access(regrole) IS
'Takes back what grant_api_access gave (schema usage stays with PUBLIC).';

REVOKE ALL ON FUNCTION taskauth.revoke_api_access(regrole) FROM PUBLIC;
