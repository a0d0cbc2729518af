
-- Sessions, refresh tokens and revocation (src/sessions.c, src/revocation.c): sign_in and
-- refresh hand out short-lived access tokens that name their session (sid) with a rotating
-- refresh token; logout and revocation make authenticate() refuse tokens at once in every
-- backend.

-- Sessions -------------------------------------------------------------------------------------

CREATE TABLE taskauth.sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES taskauth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    access_expires_at timestamptz NOT NULL,
    refresh_generation bigint CHECK (refresh_generation >= 1),
    user_agent text CHECK (char_length(user_agent) <= 512),
    client_addr inet,
    ended_at timestamptz,
    end_reason text CHECK (end_reason IN ('logout', 'logout_everywhere', 'password_changed',
                                          'revoked', 'user_revoked', 'refresh_token_reused')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);

COMMENT ON TABLE taskauth.sessions IS
'Sign-ins: one row per login() or sign_in(); their access tokens carry the id as sid. A user sees only their own sessions.';
COMMENT ON COLUMN taskauth.sessions.id IS
'Session id: the sid claim of its access tokens. Statistics kept: random values, unique, which tell nothing of other users.';
COMMENT ON COLUMN taskauth.sessions.user_id IS
'The signed-in user. Statistics kept: the planner needs them to pick the user''s index; an estimate could only be asked of an id, and no user can read another''s.';
COMMENT ON COLUMN taskauth.sessions.created_at IS 'When the user signed in.';
COMMENT ON COLUMN taskauth.sessions.refreshed_at IS 'When refresh() last gave the session new tokens (created_at until then).';
COMMENT ON COLUMN taskauth.sessions.expires_at IS
'Absolute end: refresh() refuses the session from then on (created_at plus taskauth.session_lifetime; for login() sessions, which have no refresh token, the end of their one access token).';
COMMENT ON COLUMN taskauth.sessions.access_expires_at IS
'exp of the newest access token issued for the session: until then, only revocation stops its tokens.';
COMMENT ON COLUMN taskauth.sessions.refresh_generation IS
'Which refresh token of the session is current: refresh() takes only the token of this generation and moves it on by one; an older one presented again ends the session. NULL for login() sessions, which have no refresh token.';
COMMENT ON COLUMN taskauth.sessions.user_agent IS
'User-Agent header of the sign-in request when PostgREST''s request.headers had one (first 512 characters); informational.';
COMMENT ON COLUMN taskauth.sessions.client_addr IS
'First address of the sign-in request''s X-Forwarded-For (or X-Real-IP) header when request.headers had one; as trustworthy as the proxy that sets it.';
COMMENT ON COLUMN taskauth.sessions.ended_at IS 'When the session was ended (signed out or revoked); NULL while it lasts.';
COMMENT ON COLUMN taskauth.sessions.end_reason IS
'Why it ended: logout, logout_everywhere, password_changed, revoked (revoke_session), user_revoked (revoke_user or the user deleted) or refresh_token_reused.';

REVOKE ALL ON taskauth.sessions FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.sessions', '');

-- No per-value statistics of what a user can read only of their own (see tasks): a
-- most-common-values list of user agents or addresses would tell anyone from EXPLAIN which
-- devices and addresses other users sign in from.
ALTER TABLE taskauth.sessions ALTER COLUMN created_at SET STATISTICS 0,
                              ALTER COLUMN refreshed_at SET STATISTICS 0,
                              ALTER COLUMN expires_at SET STATISTICS 0,
                              ALTER COLUMN access_expires_at SET STATISTICS 0,
                              ALTER COLUMN refresh_generation SET STATISTICS 0,
                              ALTER COLUMN user_agent SET STATISTICS 0,
                              ALTER COLUMN client_addr SET STATISTICS 0,
                              ALTER COLUMN ended_at SET STATISTICS 0,
                              ALTER COLUMN end_reason SET STATISTICS 0;

CREATE INDEX sessions_user_id_idx ON taskauth.sessions (user_id);

COMMENT ON INDEX taskauth.sessions_user_id_idx IS
'Serves logout_everywhere, change_password and revoke_user, and the row-level security filter.';

ALTER TABLE taskauth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE taskauth.sessions FORCE ROW LEVEL SECURITY;

CREATE POLICY sessions_select_own ON taskauth.sessions FOR SELECT
    USING (user_id = taskauth.current_user_id());

COMMENT ON POLICY sessions_select_own ON taskauth.sessions IS
'A user sees only their own sessions; anonymous transactions see none.';

-- Refresh tokens are not stored: each names its session and generation and carries a MAC made
-- with this key (src/core/refresh_token.c), so a session's storage does not grow with its
-- refreshes.
CREATE TABLE taskauth.refresh_key (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    key bytea NOT NULL CHECK (octet_length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE taskauth.refresh_key IS
'The one key (32 random bytes) that MACs refresh tokens, made by the first sign-in that needs it; kept by pg_dump, so tokens from before a restore still refresh. Deleting it makes every refresh token invalid. Readable only by its owner.';
COMMENT ON COLUMN taskauth.refresh_key.id IS 'Always true: the table holds one row.';
COMMENT ON COLUMN taskauth.refresh_key.key IS 'The HMAC-SHA256 key of refresh tokens.';
COMMENT ON COLUMN taskauth.refresh_key.created_at IS 'When the first sign-in that needed it made it.';

REVOKE ALL ON taskauth.refresh_key FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.refresh_key', '');

-- Revocations ----------------------------------------------------------------------------------

CREATE SEQUENCE taskauth.revocations_seq;

COMMENT ON SEQUENCE taskauth.revocations_seq IS
'Numbers revocations (in the order they were made, not the order they commit). Its relcache invalidation tells every backend to read all revocations again.';

SELECT pg_catalog.pg_extension_config_dump('taskauth.revocations_seq', '');

CREATE TABLE taskauth.revocations (
    seq bigint PRIMARY KEY DEFAULT nextval('taskauth.revocations_seq'),
    session_id uuid,
    user_id uuid NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    reason text NOT NULL,
    xact xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
);

ALTER SEQUENCE taskauth.revocations_seq OWNED BY taskauth.revocations.seq;

COMMENT ON TABLE taskauth.revocations IS
'What authenticate() refuses before exp: a session''s tokens, or a user''s tokens issued before revoked_at (session_id NULL). Append-only; readable only by its owner.';
COMMENT ON COLUMN taskauth.revocations.seq IS 'Number in the order revocations were made.';
COMMENT ON COLUMN taskauth.revocations.session_id IS 'The revoked session, or NULL for a revocation of the whole user.';
COMMENT ON COLUMN taskauth.revocations.user_id IS 'The user whose session, or all of whose tokens, are revoked.';
COMMENT ON COLUMN taskauth.revocations.revoked_at IS 'When: a user revocation refuses tokens whose iat is earlier.';
COMMENT ON COLUMN taskauth.revocations.expires_at IS
'When every token the row can refuse has expired (plus taskauth.leeway); prune() deletes the row after it, and backends forget it.';
COMMENT ON COLUMN taskauth.revocations.reason IS 'Why: the end_reason of the session, user_revoked, or issuer_session_ended (an external issuer''s session, follow_issuer_sessions).';
COMMENT ON COLUMN taskauth.revocations.xact IS
'The transaction that made the revocation, so that a backend reads again every row that may have committed since its last read, whatever order they commit in.';

REVOKE ALL ON taskauth.revocations FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('taskauth.revocations', '');

CREATE INDEX revocations_expires_at_idx ON taskauth.revocations (expires_at);

COMMENT ON INDEX taskauth.revocations_expires_at_idx IS 'Serves prune().';

CREATE INDEX revocations_xact_idx ON taskauth.revocations (xact);

COMMENT ON INDEX taskauth.revocations_xact_idx IS 'Serves every backend''s read of the revocations made since its last read.';

CREATE INDEX revocations_session_id_idx ON taskauth.revocations (session_id) WHERE session_id IS NOT NULL;

COMMENT ON INDEX taskauth.revocations_session_id_idx IS
'Serves refresh(), which refuses a session with a revocation even while its row is not marked ended yet.';

CREATE FUNCTION taskauth.revocations_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'taskauth_revocations_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.revocations_changed() IS
'Trigger function: tells every backend to read new revocations (after INSERT), or all of them again (after an UPDATE or TRUNCATE, or a DELETE of a row that had not expired).';

REVOKE ALL ON FUNCTION taskauth.revocations_changed() FROM PUBLIC;

CREATE TRIGGER revocations_added
AFTER INSERT ON taskauth.revocations
FOR EACH STATEMENT EXECUTE FUNCTION taskauth.revocations_changed();

COMMENT ON TRIGGER revocations_added ON taskauth.revocations IS
'Makes every backend read the new revocations when they commit.';

CREATE TRIGGER revocations_removed
AFTER DELETE ON taskauth.revocations
REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION taskauth.revocations_changed();

COMMENT ON TRIGGER revocations_removed ON taskauth.revocations IS
'Makes every backend read all revocations again when a deleted row could still refuse a token; rows that have all expired (what prune() deletes) need nothing: backends forget them by themselves.';

CREATE TRIGGER revocations_rewritten
AFTER UPDATE OR TRUNCATE ON taskauth.revocations
FOR EACH STATEMENT EXECUTE FUNCTION taskauth.revocations_changed();

COMMENT ON TRIGGER revocations_rewritten ON taskauth.revocations IS
'Makes every backend read all revocations again when rows are changed or the table is truncated.';

-- Internal building blocks (owner only) ---------------------------------------------------------

-- The one test of a uuid in text (a token's sid, an issuer's session and user ids): the
-- 8-4-4-4-12 hex form in either case, the only one authenticate() reads a sub or sid in.
CREATE FUNCTION taskauth.uuid_or_null(value text)
RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN value::uuid END
$$;

COMMENT ON FUNCTION taskauth.uuid_or_null(text) IS
'Internal: the uuid a text spells in the 8-4-4-4-12 hex form, or NULL when it is anything else.';

REVOKE ALL ON FUNCTION taskauth.uuid_or_null(text) FROM PUBLIC;

CREATE FUNCTION taskauth.refresh_token_make(session_id uuid, generation bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_refresh_token_make'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.refresh_token_make(uuid, bigint) IS
'Internal: the refresh token of a session''s generation (76 characters of base64url: version, session id, generation and their HMAC-SHA256 with taskauth.refresh_key, which the first call makes).';

REVOKE ALL ON FUNCTION taskauth.refresh_token_make(uuid, bigint) FROM PUBLIC;

CREATE FUNCTION taskauth.refresh_token_open(token text, OUT session_id uuid, OUT generation bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'taskauth_refresh_token_open'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.refresh_token_open(text) IS
'Internal: the session and generation a refresh token names, only when taskauth.refresh_key made its MAC; NULLs for any other text.';

REVOKE ALL ON FUNCTION taskauth.refresh_token_open(text) FROM PUBLIC;

CREATE FUNCTION taskauth.start_session(user_id uuid, refreshable boolean,
                                       OUT session_id uuid, OUT refresh_token text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    raw text := current_setting('request.headers', true);
    agent text;
    addr inet;
    lifetime interval := current_setting('taskauth.token_lifetime')::interval;
    started timestamptz := clock_timestamp();
BEGIN
    -- PostgREST's request headers, when this runs under it: informational only
    IF raw IS NOT NULL AND raw <> '' THEN
        BEGIN
            agent := left(raw::jsonb ->> 'user-agent', 512);
        EXCEPTION WHEN invalid_text_representation THEN
            raw := NULL;		-- headers that are not JSON
        END;
        BEGIN
            addr := nullif(btrim(split_part(coalesce(raw::jsonb ->> 'x-forwarded-for',
                                                     raw::jsonb ->> 'x-real-ip'), ',', 1)), '')::inet;
        EXCEPTION WHEN invalid_text_representation OR datatype_mismatch THEN
            NULL;			-- an address that is not one
        END;
    END IF;
    -- created_at is the clock's time, not the transaction's: later than the attempt counted
    -- before this sign-in's password check, which the session then cancels (see login throttling)
    INSERT INTO taskauth.sessions AS s (user_id, created_at, refreshed_at, expires_at,
                                        access_expires_at, refresh_generation, user_agent, client_addr)
    VALUES (start_session.user_id, started, started,
            CASE WHEN refreshable THEN started + current_setting('taskauth.session_lifetime')::interval
                 ELSE now() + lifetime END,
            now() + lifetime, CASE WHEN refreshable THEN 1 END, agent, addr)
    RETURNING s.id INTO session_id;
    IF refreshable THEN
        refresh_token := taskauth.refresh_token_make(start_session.session_id, 1);
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.start_session(uuid, boolean) IS
'Internal to login() and sign_in(): records a session for a user (with the request''s user agent and client address when PostgREST gave them) and, when refreshable, returns its first refresh token (generation 1).';

REVOKE ALL ON FUNCTION taskauth.start_session(uuid, boolean) FROM PUBLIC;

CREATE FUNCTION taskauth.end_sessions(user_id uuid, session_id uuid, keep_session uuid, reason text)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ended integer;
BEGIN
    -- Ending a user's sessions: a sign-in of that user still running holds a KEY SHARE lock on
    -- the user's row from before its password check (sign_in_user) until it commits. Wait for
    -- every such sign-in, so that the UPDATE below, with a snapshot taken after the wait, sees
    -- the sessions they made; a sign-in that starts later waits for this transaction instead.
    -- Only this user's sign-ins wait: nothing locks what other users' sign-outs need.
    IF end_sessions.user_id IS NOT NULL THEN
        PERFORM FROM taskauth.users AS u WHERE u.id = end_sessions.user_id FOR UPDATE;
    END IF;
    WITH e AS (
        UPDATE taskauth.sessions AS s
           SET ended_at = clock_timestamp(), end_reason = end_sessions.reason
         WHERE s.ended_at IS NULL
           AND (end_sessions.user_id IS NULL OR s.user_id = end_sessions.user_id)
           AND (end_sessions.session_id IS NULL OR s.id = end_sessions.session_id)
           AND (end_sessions.keep_session IS NULL OR s.id <> end_sessions.keep_session)
        RETURNING s.id, s.user_id, s.access_expires_at
    ), r AS (
        INSERT INTO taskauth.revocations (session_id, user_id, expires_at, reason)
        SELECT e.id, e.user_id,
               e.access_expires_at + current_setting('taskauth.leeway')::interval, end_sessions.reason
          FROM e
         -- a session whose last token has expired needs no entry
         WHERE e.access_expires_at + current_setting('taskauth.leeway')::interval > now()
    )
    SELECT count(*) INTO ended FROM e;
    RETURN ended;
END
$$;

COMMENT ON FUNCTION taskauth.end_sessions(uuid, uuid, uuid, text) IS
'Internal: ends the matching sessions (a user''s, one, or all but keep_session), revokes their unexpired tokens and returns how many were ended.';

REVOKE ALL ON FUNCTION taskauth.end_sessions(uuid, uuid, uuid, text) FROM PUBLIC;

CREATE FUNCTION taskauth.require_read_committed(what text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% needs a READ COMMITTED transaction', what
            USING ERRCODE = 'invalid_transaction_state',
                  DETAIL = 'At a higher isolation level it could not see what transactions running at the same time commit: the sessions of sign-ins it waited for, or the count of its own attempt.',
                  HINT = 'Call it in a transaction of its own or at the default isolation level.';
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.require_read_committed(text) IS
'Internal: refuses (25000) a transaction above READ COMMITTED, whose snapshot could not see the sign-ins its caller waited for or the attempts it counted.';

REVOKE ALL ON FUNCTION taskauth.require_read_committed(text) FROM PUBLIC;

CREATE FUNCTION taskauth.end_replayed_session(session_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- First what needs no lock: a revocation of the session, which authenticate() and refresh()
    -- honour from this commit on, whoever holds the session's row.
    INSERT INTO taskauth.revocations (session_id, user_id, expires_at, reason)
    SELECT s.id, s.user_id,
           greatest(s.access_expires_at,
                    clock_timestamp() + current_setting('taskauth.token_lifetime')::interval)
             + current_setting('taskauth.leeway')::interval,
           'refresh_token_reused'
      FROM taskauth.sessions AS s
     WHERE s.id = end_replayed_session.session_id AND s.ended_at IS NULL;
    -- Then the session's row, unless another transaction holds it (a refresh, a sign-out, held
    -- open or not): never wait for anyone. prune() marks a row left here as ended.
    UPDATE taskauth.sessions AS s
       SET ended_at = clock_timestamp(), end_reason = 'refresh_token_reused'
     WHERE s.id = (SELECT x.id FROM taskauth.sessions AS x
                    WHERE x.id = end_replayed_session.session_id AND x.ended_at IS NULL
                      FOR UPDATE SKIP LOCKED);
END
$$;

COMMENT ON FUNCTION taskauth.end_replayed_session(uuid) IS
'Internal, run by the background worker of end_session_detached(): ends the session of a replayed refresh token without waiting for any lock.';

REVOKE ALL ON FUNCTION taskauth.end_replayed_session(uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.end_session_detached(session_id uuid)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_end_session_detached'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.end_session_detached(uuid) IS
'Internal to refresh(): ends a session in a background worker''s own transaction, which refresh()''s error cannot roll back. True when the session''s tokens are refused now.';

REVOKE ALL ON FUNCTION taskauth.end_session_detached(uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.issue_token(user_id uuid, email text, session_id uuid)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_issue_token'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.issue_token(uuid, text, uuid) IS
'Owner only: signs an access token {aud, sub, email, sid, iat, exp} of a session with the key derived from the newest active signing key (access_token_key).';

REVOKE ALL ON FUNCTION taskauth.issue_token(uuid, text, uuid) FROM PUBLIC;

-- Login throttling -------------------------------------------------------------------------------

CREATE TABLE taskauth.login_throttle (
    key bytea PRIMARY KEY CHECK (octet_length(key) = 32),
    failures integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

COMMENT ON TABLE taskauth.login_throttle IS
'Failed logins per email, counted by a background worker before each password check; while locked_until is ahead, that email''s logins are refused. Readable only by its owner.';
COMMENT ON COLUMN taskauth.login_throttle.key IS 'SHA-256 of the email, trimmed and lower-cased: the email itself is not stored.';
COMMENT ON COLUMN taskauth.login_throttle.failures IS 'Consecutive failures: counted again from 1 after a successful sign-in or a day without failures.';
COMMENT ON COLUMN taskauth.login_throttle.last_failure_at IS 'When the last failure was counted.';
COMMENT ON COLUMN taskauth.login_throttle.locked_until IS 'Until when logins of the email are refused; NULL below the threshold.';

REVOKE ALL ON taskauth.login_throttle FROM PUBLIC;

CREATE INDEX login_throttle_last_failure_at_idx ON taskauth.login_throttle (last_failure_at);

COMMENT ON INDEX taskauth.login_throttle_last_failure_at_idx IS 'Serves prune().';

CREATE FUNCTION taskauth.record_login_failure(key bytea, user_id uuid, threshold integer,
                                              lock_seconds integer, max_lock_seconds integer,
                                              seen_success timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    last_success timestamptz;
    n integer;
BEGIN
    -- a sign-in since the last failure starts the count again (the account's newest session)
    IF record_login_failure.user_id IS NOT NULL THEN
        SELECT max(s.created_at) INTO last_success
          FROM taskauth.sessions AS s WHERE s.user_id = record_login_failure.user_id;
    END IF;
    -- and the newest the attempt's own transaction saw: its own sign-ins, not committed yet
    last_success := greatest(last_success, record_login_failure.seen_success);
    INSERT INTO taskauth.login_throttle AS t (key, failures, last_failure_at)
    VALUES (record_login_failure.key, 1, clock_timestamp())
    ON CONFLICT ON CONSTRAINT login_throttle_pkey DO UPDATE
       SET failures = CASE WHEN t.last_failure_at < coalesce(last_success, '-infinity')
                             OR greatest(t.last_failure_at, t.locked_until) < clock_timestamp() - interval '1 day'
                           THEN 1 ELSE t.failures + 1 END,
           -- a count started again holds no lock of the old one
           locked_until = CASE WHEN t.last_failure_at < coalesce(last_success, '-infinity')
                                 OR greatest(t.last_failure_at, t.locked_until) < clock_timestamp() - interval '1 day'
                               THEN NULL ELSE t.locked_until END,
           last_failure_at = clock_timestamp()
    RETURNING t.failures INTO n;
    IF n >= threshold THEN
        -- the first lock at the threshold, doubled by every further failure, up to the maximum
        UPDATE taskauth.login_throttle AS t
           SET locked_until = clock_timestamp() + make_interval(secs =>
                   least(max_lock_seconds::float8, lock_seconds * power(2::float8, least(n - threshold, 40))))
         WHERE t.key = record_login_failure.key;
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.record_login_failure(bytea, uuid, integer, integer, integer, timestamptz) IS
'Internal, run by the background worker of login_failed_detached(): counts one failed login of an email and locks it once the failures reach the threshold.';

REVOKE ALL ON FUNCTION taskauth.record_login_failure(bytea, uuid, integer, integer, integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION taskauth.login_failed_detached(key bytea, user_id uuid, seen_success timestamptz)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_login_failed_detached'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION taskauth.login_failed_detached(bytea, uuid, timestamptz) IS
'Internal to count_login_attempt(): counts a failed login in a background worker''s own transaction, which the attempt''s rollback cannot undo. True only when the count committed; PT503 when a synchronous standby has not confirmed it within 5 s.';

REVOKE ALL ON FUNCTION taskauth.login_failed_detached(bytea, uuid, timestamptz) FROM PUBLIC;

CREATE FUNCTION taskauth.login_throttle_key(email text)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT sha256(convert_to(lower(btrim(coalesce($1, ''))), 'UTF8'))
$$;

COMMENT ON FUNCTION taskauth.login_throttle_key(text) IS
'Internal: the key of an email in taskauth.login_throttle, the SHA-256 of the email trimmed and lower-cased (NULL counts as the empty email).';

REVOKE ALL ON FUNCTION taskauth.login_throttle_key(text) FROM PUBLIC;

CREATE FUNCTION taskauth.refuse_locked_login(key bytea, user_id uuid)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked timestamptz;
BEGIN
    -- a lock stands until it runs out, or until the account signs in after its last failure
    SELECT t.locked_until INTO locked FROM taskauth.login_throttle AS t
     WHERE t.key = refuse_locked_login.key AND t.locked_until > clock_timestamp()
       AND NOT EXISTS (SELECT FROM taskauth.sessions AS s
                        WHERE s.user_id = refuse_locked_login.user_id AND s.created_at > t.last_failure_at);
    IF locked IS NOT NULL THEN
        RAISE EXCEPTION 'too many failed logins'
            USING ERRCODE = 'PT429',
                  DETAIL = format('Try again in %s seconds.',
                                  ceil(extract(epoch FROM locked - clock_timestamp()))::bigint);
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.refuse_locked_login(bytea, uuid) IS
'Internal: refuses (PT429) an email while the login throttle locks it; a session of the account started after the last failure ends the lock.';

REVOKE ALL ON FUNCTION taskauth.refuse_locked_login(bytea, uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.count_login_attempt(key bytea, user_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A locked email is refused before anything else, whether or not it has an account.
    PERFORM taskauth.refuse_locked_login(count_login_attempt.key, count_login_attempt.user_id);
    -- A hot standby can neither count an attempt nor start a session.
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot check a password on a hot standby'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'A password is checked only where the attempt can be counted: on the primary.';
    END IF;
    -- Every attempt is counted as a failure before its password is checked, by a worker whose
    -- commit the attempt's own rollback cannot undo; a successful sign-in's session, once
    -- committed, then cancels the count (a sign-in rolled back stays a failure). When no worker can count it (every worker slot
    -- taken, by parallel queries of any role, say), no password is checked at all: an attempt
    -- left uncounted would be a guess the throttle never sees.
    IF NOT taskauth.login_failed_detached(
               count_login_attempt.key, count_login_attempt.user_id,
               -- the newest sign-in this transaction sees, its own uncommitted ones included,
               -- which the worker cannot see
               (SELECT max(s.created_at) FROM taskauth.sessions AS s
                 WHERE s.user_id = count_login_attempt.user_id)) THEN
        RAISE EXCEPTION 'login is temporarily unavailable'
            USING ERRCODE = 'PT503',
                  DETAIL = 'The attempt could not be counted, so no password was checked.',
                  HINT = 'Try again in a moment.';
    END IF;
END
$$;

COMMENT ON FUNCTION taskauth.count_login_attempt(bytea, uuid) IS
'Internal: refuses a locked email (PT429), else counts the attempt before its password is checked; PT503 when it cannot be counted, 25006 on a hot standby.';

REVOKE ALL ON FUNCTION taskauth.count_login_attempt(bytea, uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.count_issuer_login_attempt(email text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET log_min_error_statement = panic
AS $$
DECLARE
    email_key bytea := taskauth.login_throttle_key(count_issuer_login_attempt.email);
BEGIN
    -- Loads the library, so that the settings read below are its own (see register).
    PERFORM taskauth.load_library();
    IF current_setting('taskauth.login_throttle_threshold')::int <= 0 THEN
        RETURN;
    END IF;
    -- the same per-email lock as login(); an issuer's accounts have no taskauth sessions, so
    -- only issuer_login_succeeded() or the lock's end lifts it
    PERFORM taskauth.refuse_locked_login(email_key, NULL);
    -- counted as a failure until issuer_login_succeeded() takes it back; the caller's own
    -- transaction commits it (an issuer calls this in a statement of its own, before its check)
    PERFORM taskauth.record_login_failure(email_key, NULL,
                                          current_setting('taskauth.login_throttle_threshold')::int,
                                          extract(epoch FROM current_setting('taskauth.login_throttle_lock')::interval)::int,
                                          extract(epoch FROM current_setting('taskauth.login_throttle_max_lock')::interval)::int,
                                          NULL);
END
$$;

COMMENT ON FUNCTION taskauth.count_issuer_login_attempt(text) IS
'Owner only (grant it to an issuer''s role): counts an external issuer''s sign-in attempt against the per-email login throttle and refuses (PT429) a locked email.';

REVOKE ALL ON FUNCTION taskauth.count_issuer_login_attempt(text) FROM PUBLIC;

CREATE FUNCTION taskauth.issuer_login_succeeded(email text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET log_min_error_statement = panic
AS $$
    DELETE FROM taskauth.login_throttle AS t
     WHERE t.key = taskauth.login_throttle_key($1)
$$;

COMMENT ON FUNCTION taskauth.issuer_login_succeeded(text) IS
'Owner only (grant it to an issuer''s database role): an external issuer''s sign-in of this email succeeded; its count starts again and any lock ends.';

REVOKE ALL ON FUNCTION taskauth.issuer_login_succeeded(text) FROM PUBLIC;

CREATE FUNCTION taskauth.sign_in_user(email text, password text, refreshable boolean,
                                      OUT user_id uuid, OUT user_email text,
                                      OUT session_id uuid, OUT refresh_token text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET log_min_error_statement = panic
AS $$
#variable_conflict use_column
DECLARE
    stored text;
    s record;
    throttle boolean;
    email_key bytea := taskauth.login_throttle_key(sign_in_user.email);
BEGIN
    -- Loads the library, so that the settings read below are its own (see register).
    PERFORM taskauth.load_library();
    -- Throttling: an email locked by repeated failures is refused before any password hash,
    -- whether or not it has an account (the key is the email's hash, not the account).
    throttle := current_setting('taskauth.login_throttle_threshold')::int > 0;
    IF throttle THEN
        PERFORM taskauth.require_read_committed('login');
    END IF;
    -- KEY SHARE until commit: logout_everywhere, change_password and revoke_user of this user
    -- wait for this sign-in, and so see the session it makes (end_sessions).
    SELECT u.id, u.email, u.hashed_password INTO user_id, user_email, stored
      FROM taskauth.users AS u
     WHERE lower(u.email) = lower(btrim(sign_in_user.email))
       FOR KEY SHARE;
    IF throttle THEN
        -- refused (PT429) before any password hash while locked, whether or not the email has
        -- an account; else counted
        PERFORM taskauth.count_login_attempt(email_key, sign_in_user.user_id);
    END IF;
    -- One check, evenly timed, whether or not the account exists (stored is NULL then), and one
    -- place that raises: every field of the error, CONTEXT included, is the same for an unknown
    -- email, a wrong or NULL password and an account whose hash cannot be used.
    IF NOT taskauth.login_check(sign_in_user.password, stored) THEN
        RAISE EXCEPTION 'invalid email or password'
            USING ERRCODE = 'invalid_password';
    END IF;
    -- The attempt counted above was not a failure: the session started below, once committed,
    -- cancels the count and any lock (refuse_locked_login, record_login_failure). Nothing is
    -- written to the throttle here: a row this transaction held would stall the next attempt's
    -- worker.
    -- bcrypt cannot hold a password over 72 bytes (an argon2id or scrypt one, say): keep its hash
    IF taskauth.password_needs_rehash(stored) AND
       NOT (current_setting('taskauth.password_algorithm') = 'bcrypt' AND octet_length(sign_in_user.password) > 72) THEN
        UPDATE taskauth.users AS u SET hashed_password = taskauth.hash_password(sign_in_user.password)
         WHERE u.id = sign_in_user.user_id;
    END IF;
    s := taskauth.start_session(sign_in_user.user_id, refreshable);
    session_id := s.session_id;
    refresh_token := s.refresh_token;
END
$$;

COMMENT ON FUNCTION taskauth.sign_in_user(text, text, boolean) IS
'Internal to login() and sign_in(): checks an email and password (throttled, evenly timed, one error for every failure), upgrades a weak hash and starts a session.';

REVOKE ALL ON FUNCTION taskauth.sign_in_user(text, text, boolean) FROM PUBLIC;

CREATE FUNCTION taskauth.refresh_session(token text,
                                         OUT access_token text, OUT refresh_token text, OUT expires_in integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET log_min_error_statement = panic
AS $$
#variable_conflict use_column
DECLARE
    sid uuid;
    gen bigint;
    s taskauth.sessions;
    lifetime interval;
BEGIN
    -- Loads the library, so that the settings read below are its own (see register).
    PERFORM taskauth.load_library();
    lifetime := current_setting('taskauth.token_lifetime')::interval;
    IF token IS NULL OR octet_length(token) > 256 THEN
        RAISE EXCEPTION 'refresh token is not valid'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    -- Only a token whose MAC the refresh key made names a session: a made-up or altered one is
    -- refused here and ends nothing.
    SELECT o.session_id, o.generation INTO sid, gen FROM taskauth.refresh_token_open(token) AS o;
    IF sid IS NULL THEN
        RAISE EXCEPTION 'refresh token is not valid'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    -- Rotation: the token of each generation is used once. Two refreshes racing with one token
    -- queue on the session's row; the second finds the generation moved on and takes the replay
    -- path below. The attempt is a subtransaction of its own so that, when it fails, its rollback
    -- gives up the lock it may have taken on the row's newest version: the replay's worker must
    -- find the row free to mark it ended.
    BEGIN
        SELECT * INTO STRICT s FROM taskauth.sessions AS x
         WHERE x.id = sid AND x.refresh_generation = gen FOR UPDATE;
    EXCEPTION WHEN no_data_found THEN
        -- A token of an older generation: it or its successor is in the wrong hands. End the
        -- session (RFC 9700, refresh token rotation) where the error below cannot roll it back;
        -- end_session_detached warns, saying why, when it could not. (A session that is gone, or
        -- a generation it never reached, after a restore of an older backup, say, is only refused.)
        IF EXISTS (SELECT FROM taskauth.sessions AS x WHERE x.id = sid AND x.refresh_generation > gen) THEN
            PERFORM taskauth.end_session_detached(sid);
        END IF;
        RAISE EXCEPTION 'refresh token is not valid'
            USING ERRCODE = 'invalid_authorization_specification';
    END;
    -- ended, or revoked by a replay's worker that found the row held (end_replayed_session)
    IF s.ended_at IS NOT NULL OR
       EXISTS (SELECT FROM taskauth.revocations AS r WHERE r.session_id = sid) THEN
        RAISE EXCEPTION 'session has ended'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF now() >= s.expires_at OR
       now() >= s.refreshed_at + current_setting('taskauth.session_idle_lifetime')::interval THEN
        RAISE EXCEPTION 'session has expired'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    UPDATE taskauth.sessions AS x
       SET refresh_generation = gen + 1, refreshed_at = now(),
           access_expires_at = greatest(x.access_expires_at, now() + lifetime)
     WHERE x.id = sid;
    refresh_token := taskauth.refresh_token_make(sid, gen + 1);
    access_token := taskauth.issue_token(s.user_id, (SELECT u.email FROM taskauth.users AS u WHERE u.id = s.user_id), sid);
    expires_in := extract(epoch FROM lifetime)::integer;
END
$$;

COMMENT ON FUNCTION taskauth.refresh_session(text) IS
'Internal to refresh(): moves a session on to its next refresh generation (ending it when an older generation''s token comes back) and issues a new access token.';

REVOKE ALL ON FUNCTION taskauth.refresh_session(text) FROM PUBLIC;

-- The API ---------------------------------------------------------------------------------------

CREATE FUNCTION taskauth.sign_in(email text, password text)
RETURNS TABLE (access_token text, refresh_token text, expires_in integer)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which may hold the password or secret
SET log_min_error_statement = panic
AS $$
DECLARE
    u record;
BEGIN
    SELECT * INTO u FROM taskauth.sign_in_user(sign_in.email, sign_in.password, true);
    access_token := taskauth.issue_token(u.user_id, u.user_email, u.session_id);
    refresh_token := u.refresh_token;
    expires_in := extract(epoch FROM current_setting('taskauth.token_lifetime')::interval)::integer;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION taskauth.sign_in(text, text) IS
'Like login(), with the same errors and timing, but starts a refreshable session: returns an access token, an opaque refresh token and the access token''s lifetime in seconds.';

REVOKE ALL ON FUNCTION taskauth.sign_in(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.refresh(refresh_token text)
RETURNS TABLE (access_token text, refresh_token text, expires_in integer)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET log_min_error_statement = panic
AS $$
    SELECT r.access_token, r.refresh_token, r.expires_in FROM taskauth.refresh_session($1) AS r
$$;

COMMENT ON FUNCTION taskauth.refresh(text) IS
'Exchanges a refresh token for a new pair of the same session; the old one stops working, and one presented twice ends its session. Every refusal is SQLSTATE 28000.';

REVOKE ALL ON FUNCTION taskauth.refresh(text) FROM PUBLIC;

CREATE FUNCTION taskauth.logout()
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := taskauth.current_user_id();
    sid uuid := taskauth.uuid_or_null(taskauth.claims() ->> 'sid');
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'logout needs an authenticated transaction'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF sid IS NULL THEN
        RAISE EXCEPTION 'the current token belongs to no session'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Tokens of external issuers end with their issuer''s sessions; the owner can refuse them all with taskauth.revoke_user().';
    END IF;
    PERFORM taskauth.end_sessions(me, sid, NULL, 'logout');
END
$$;

COMMENT ON FUNCTION taskauth.logout() IS
'Ends the session of the current transaction''s token: its access tokens are refused by every backend from the commit on, and its refresh token stops working.';

REVOKE ALL ON FUNCTION taskauth.logout() FROM PUBLIC;

CREATE FUNCTION taskauth.logout_everywhere()
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me uuid := taskauth.current_user_id();
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'logout_everywhere needs an authenticated transaction'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM taskauth.require_read_committed('logout_everywhere');
    RETURN taskauth.end_sessions(me, NULL, NULL, 'logout_everywhere');
END
$$;

COMMENT ON FUNCTION taskauth.logout_everywhere() IS
'Ends every session of the current user, this one included, and returns how many were ended.';

REVOKE ALL ON FUNCTION taskauth.logout_everywhere() FROM PUBLIC;

CREATE FUNCTION taskauth.change_password(old_password text, new_password text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- an error inside must not log the calling statement, which holds the passwords
SET log_min_error_statement = panic
AS $$
DECLARE
    me uuid := taskauth.current_user_id();
    sid uuid := taskauth.uuid_or_null(taskauth.claims() ->> 'sid');
    stored text;
    min_len int := current_setting('taskauth.min_password_length')::int;
    throttle boolean := current_setting('taskauth.login_throttle_threshold')::int > 0;
    email_key bytea;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'change_password needs an authenticated transaction'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM taskauth.require_read_committed('change_password');
    -- the new password first: a mistake in it costs no attempt against the throttle
    IF change_password.new_password IS NULL OR char_length(change_password.new_password) < min_len THEN
        RAISE EXCEPTION 'password is too short'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A password needs at least %s characters.', min_len);
    END IF;
    SELECT u.hashed_password, taskauth.login_throttle_key(u.email)
      INTO stored, email_key
      FROM taskauth.users AS u WHERE u.id = me FOR UPDATE;
    -- The old password is guessed like a login: the same per-email throttle counts it.
    IF throttle THEN
        PERFORM taskauth.count_login_attempt(email_key, me);
    END IF;
    IF NOT taskauth.login_check(change_password.old_password, stored) THEN
        RAISE EXCEPTION 'current password is incorrect'
            USING ERRCODE = 'invalid_password';
    END IF;
    -- (a right current password starts no session, so its count stands until the next sign-in)
    UPDATE taskauth.users AS u SET hashed_password = taskauth.hash_password(change_password.new_password)
     WHERE u.id = me;
    PERFORM taskauth.end_sessions(me, NULL, sid, 'password_changed');
END
$$;

COMMENT ON FUNCTION taskauth.change_password(text, text) IS
'Checks the current user''s password (28P01 "current password is incorrect"), sets the new one (22023 when shorter than taskauth.min_password_length) and ends every other session of the user.';

REVOKE ALL ON FUNCTION taskauth.change_password(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.revoke_session(sid uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN taskauth.end_sessions(NULL, revoke_session.sid, NULL, 'revoked') > 0;
END
$$;

COMMENT ON FUNCTION taskauth.revoke_session(uuid) IS
'Owner only: ends one session, refusing its access tokens in every backend from the commit on. True when a session was ended, false when it was unknown or had already ended.';

REVOKE ALL ON FUNCTION taskauth.revoke_session(uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.revoke_user(user_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A user being deleted needs no wait: a sign-in still running fails on its foreign key.
    IF pg_trigger_depth() = 0 THEN
        PERFORM taskauth.require_read_committed('revoke_user');
    END IF;
    PERFORM taskauth.end_sessions(revoke_user.user_id, NULL, NULL, 'user_revoked');
    INSERT INTO taskauth.revocations (session_id, user_id, expires_at, reason)
    VALUES (NULL, revoke_user.user_id,
            clock_timestamp() + current_setting('taskauth.token_lifetime')::interval
                              + current_setting('taskauth.revocation_retention')::interval
                              + current_setting('taskauth.leeway')::interval,
            'user_revoked');
END
$$;

COMMENT ON FUNCTION taskauth.revoke_user(uuid) IS
'Owner only: ends every session of a user and refuses every token of that user issued up to now, whoever issued it.';

REVOKE ALL ON FUNCTION taskauth.revoke_user(uuid) FROM PUBLIC;

CREATE FUNCTION taskauth.prune(max_rows integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    leeway interval := current_setting('taskauth.leeway')::interval;
    n bigint := 0;
    m bigint;
BEGIN
    IF max_rows IS NULL OR max_rows < 1 THEN
        RAISE EXCEPTION 'max_rows must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Bounded: at most max_rows rows of each kind per call, oldest first, and never a row another
    -- transaction holds (SKIP LOCKED): a call takes no lock anyone waits for long, and what it
    -- leaves the next call takes. Expired revocations send no invalidation: no backend reads
    -- anything again because of them.
    -- Sessions a replay's worker revoked without marking them (their row was held): mark them
    -- now, before their revocation goes, so refresh() keeps refusing them.
    UPDATE taskauth.sessions AS s SET ended_at = r.revoked_at, end_reason = r.reason
      FROM taskauth.revocations AS r
     WHERE r.session_id = s.id
       AND s.id IN (SELECT x.id FROM taskauth.sessions AS x
                     WHERE x.ended_at IS NULL
                       AND EXISTS (SELECT FROM taskauth.revocations AS y WHERE y.session_id = x.id)
                     LIMIT max_rows FOR UPDATE SKIP LOCKED);
    DELETE FROM taskauth.revocations AS r
     WHERE r.ctid IN (SELECT x.ctid FROM taskauth.revocations AS x
                       WHERE x.expires_at < now() - leeway
                       ORDER BY x.expires_at LIMIT max_rows FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
    -- sessions over for good: ended or expired, and with no access token still valid
    DELETE FROM taskauth.sessions AS s
     WHERE s.id IN (SELECT x.id FROM taskauth.sessions AS x
                     WHERE x.access_expires_at + leeway < now()
                       AND (x.ended_at IS NOT NULL OR x.expires_at < now() OR
                            x.refreshed_at + current_setting('taskauth.session_idle_lifetime')::interval < now())
                     LIMIT max_rows FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
    -- throttling state that no longer locks anything or counts towards a lock
    DELETE FROM taskauth.login_throttle AS t
     WHERE t.key IN (SELECT x.key FROM taskauth.login_throttle AS x
                      WHERE greatest(x.last_failure_at, x.locked_until) < now() - interval '1 day'
                      LIMIT max_rows FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS m = ROW_COUNT;
    RETURN n + m;
END
$$;

COMMENT ON FUNCTION taskauth.prune(integer) IS
'Owner only: deletes at most max_rows each of expired revocations, sessions that are over and stale throttling state, skipping rows others hold; returns how many went. Run it every few minutes.';

REVOKE ALL ON FUNCTION taskauth.prune(integer) FROM PUBLIC;

CREATE FUNCTION taskauth.users_deleted()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM taskauth.revoke_user(OLD.id);
    RETURN OLD;
END
$$;

COMMENT ON FUNCTION taskauth.users_deleted() IS
'Trigger function: a deleted user''s tokens are revoked at once (revoke_user).';

REVOKE ALL ON FUNCTION taskauth.users_deleted() FROM PUBLIC;

CREATE TRIGGER users_revoke_on_delete BEFORE DELETE ON taskauth.users
FOR EACH ROW EXECUTE FUNCTION taskauth.users_deleted();

COMMENT ON TRIGGER users_revoke_on_delete ON taskauth.users IS
'Revokes every token of a user being deleted, before its sessions go with it.';

-- An external issuer's sessions ------------------------------------------------------------------

CREATE FUNCTION taskauth.issuer_session_ended()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- TG_ARGV: the session table's id, user id and expiry columns (follow_issuer_sessions)
    old_row jsonb := to_jsonb(OLD);
    sid uuid;
    uid uuid;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- still running: an update that does not end the session revokes nothing
        IF (to_jsonb(NEW) ->> TG_ARGV[2])::timestamptz > clock_timestamp() THEN
            RETURN NULL;
        END IF;
    END IF;
    -- ids that are not uuids name no taskauth user or session: nothing of theirs can authenticate
    sid := taskauth.uuid_or_null(old_row ->> TG_ARGV[0]);
    uid := taskauth.uuid_or_null(old_row ->> TG_ARGV[1]);
    IF sid IS NULL OR uid IS NULL THEN
        RETURN NULL;
    END IF;
    -- kept as long as a user revocation: the issuer's tokens live as long as it says
    INSERT INTO taskauth.revocations (session_id, user_id, expires_at, reason)
    VALUES (sid, uid,
            clock_timestamp() + current_setting('taskauth.token_lifetime')::interval
                              + current_setting('taskauth.revocation_retention')::interval
                              + current_setting('taskauth.leeway')::interval,
            'issuer_session_ended');
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION taskauth.issuer_session_ended() IS
'Trigger function of follow_issuer_sessions(): an external issuer''s session row deleted or expired revokes the tokens that carry its id as sid.';

REVOKE ALL ON FUNCTION taskauth.issuer_session_ended() FROM PUBLIC;

CREATE FUNCTION taskauth.follow_issuer_sessions(session_table regclass, id_column name DEFAULT 'id',
                                                user_column name DEFAULT 'userId',
                                                expires_column name DEFAULT 'expiresAt')
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
BEGIN
    FOREACH col IN ARRAY ARRAY[id_column, user_column, expires_column] LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = session_table AND a.attname = col
                          AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'table % has no column %', session_table, quote_ident(col)
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    EXECUTE format('DROP TRIGGER IF EXISTS taskauth_session_ended ON %s', session_table);
    EXECUTE format('DROP TRIGGER IF EXISTS taskauth_session_expired ON %s', session_table);
    EXECUTE format('CREATE TRIGGER taskauth_session_ended AFTER DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION taskauth.issuer_session_ended(%L, %L, %L)',
                   session_table, id_column, user_column, expires_column);
    EXECUTE format('CREATE TRIGGER taskauth_session_expired AFTER UPDATE OF %I ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION taskauth.issuer_session_ended(%L, %L, %L)',
                   expires_column, session_table, id_column, user_column, expires_column);
END
$$;

COMMENT ON FUNCTION taskauth.follow_issuer_sessions(regclass, name, name, name) IS
'Owner only: adds triggers to an external issuer''s session table (Better Auth''s "session" by default) so that a session deleted or expired revokes its tokens (by sid) at once.';

REVOKE ALL ON FUNCTION taskauth.follow_issuer_sessions(regclass, name, name, name) FROM PUBLIC;

CREATE FUNCTION taskauth.unfollow_issuer_sessions(session_table regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS taskauth_session_ended ON %s', session_table);
    EXECUTE format('DROP TRIGGER IF EXISTS taskauth_session_expired ON %s', session_table);
END
$$;

COMMENT ON FUNCTION taskauth.unfollow_issuer_sessions(regclass) IS
'Owner only: removes the triggers follow_issuer_sessions() added to a session table.';

REVOKE ALL ON FUNCTION taskauth.unfollow_issuer_sessions(regclass) FROM PUBLIC;

-- Per-backend statistics ------------------------------------------------------------------------

CREATE FUNCTION taskauth.backend_stats(
    OUT pid integer,
    OUT token_cache_hits bigint, OUT token_cache_misses bigint, OUT token_cache_evictions bigint,
    OUT token_cache_entries bigint, OUT token_cache_bytes bigint,
    OUT revocation_full_loads bigint, OUT revocation_loads bigint, OUT revocation_sweeps bigint,
    OUT revoked_sessions bigint, OUT revoked_users bigint, OUT revocation_bytes bigint,
    OUT revocations_shared boolean, OUT revocation_shared_bytes bigint, OUT revocations_unshared_reason text,
    OUT issuer_key_reads bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'taskauth_backend_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION taskauth.backend_stats() IS
'Owner only: this backend''s cache statistics since it started: the verified-token cache, the revocations read and held (shared or its own), and the reads of issuers'' keys.';

REVOKE ALL ON FUNCTION taskauth.backend_stats() FROM PUBLIC;
