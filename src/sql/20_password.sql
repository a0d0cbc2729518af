
-- Passwords: bcrypt and yescrypt through libxcrypt, argon2id through libargon2.
-- Each is a primitive (src/sql/60_hardening.sql): owner only, like every function here.

CREATE FUNCTION taskauth.hash_password(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password(text) IS
'Hashes a password with the algorithm of taskauth.password_algorithm: bcrypt ($2b$, cost taskauth.bcrypt_cost, passwords up to 72 bytes) or argon2id (taskauth.argon2_* parameters).';

REVOKE ALL ON FUNCTION taskauth.hash_password(text) FROM PUBLIC;

CREATE FUNCTION taskauth.hash_password(password text, cost int)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_cost'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password(text, int) IS
'Hashes a password with bcrypt ($2b$) at the given cost (4..31, at most taskauth.max_bcrypt_cost); passwords over 72 bytes are refused.';

REVOKE ALL ON FUNCTION taskauth.hash_password(text, int) FROM PUBLIC;

CREATE FUNCTION taskauth.hash_password_argon2id(password text)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_argon2id'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password_argon2id(text) IS
'Hashes a password with argon2id (v=19, PHC string) at taskauth.argon2_memory_kib, taskauth.argon2_time and taskauth.argon2_parallelism.';

REVOKE ALL ON FUNCTION taskauth.hash_password_argon2id(text) FROM PUBLIC;

CREATE FUNCTION taskauth.hash_password_argon2id(password text, memory_kib int, iterations int, parallelism int)
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_hash_password_argon2id_params'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.hash_password_argon2id(text, int, int, int) IS
'Hashes a password with argon2id (v=19, PHC string) at explicit memory in KiB, passes and lanes, each within the taskauth.max_argon2_* settings.';

REVOKE ALL ON FUNCTION taskauth.hash_password_argon2id(text, int, int, int) FROM PUBLIC;

CREATE FUNCTION taskauth.verify_password(password text, hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_verify_password'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.verify_password(text, text) IS
'True when the password matches a $2a$/$2b$/$2y$ bcrypt, $argon2id$ or $y$ yescrypt hash; a malformed hash or one above the taskauth.max_* settings is an error (22023).';

REVOKE ALL ON FUNCTION taskauth.verify_password(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.password_needs_rehash(hash text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'taskauth_password_needs_rehash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.password_needs_rehash(text) IS
'True when a stored hash is weaker than what hash_password(password) would make under the current settings (other algorithm, lower cost or parameters, older bcrypt prefix).';

REVOKE ALL ON FUNCTION taskauth.password_needs_rehash(text) FROM PUBLIC;
