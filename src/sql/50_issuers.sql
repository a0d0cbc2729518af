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

REVOKE ALL ON FUNCTION taskauth.issuers_changed() FROM PUBLIC;

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

-- a primitive (src/sql/60_hardening.sql): owner only
REVOKE ALL ON FUNCTION taskauth.check_jwks(jsonb) FROM PUBLIC;

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
'Registers an external issuer: its iss, the audience its tokens must carry, its public keys (a JWK Set, a table of JWKs or both) and whether authenticate() creates its users on first sight.';

REVOKE ALL ON FUNCTION taskauth.add_issuer(text, text, jsonb, regclass, boolean) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.add_issuer_key(text, jsonb) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.remove_issuer_key(text, text) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.remove_issuer(text) FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.issuer_config(text) FROM PUBLIC;

CREATE FUNCTION taskauth.has_issuers()
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM taskauth.issuers);
$$;

COMMENT ON FUNCTION taskauth.has_issuers() IS
'Internal: whether any external issuer is registered.';

REVOKE ALL ON FUNCTION taskauth.has_issuers() FROM PUBLIC;

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

REVOKE ALL ON FUNCTION taskauth.provision_user(uuid, text) FROM PUBLIC;
