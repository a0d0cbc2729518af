
-- Tokens: JWS compact form, HS256/HS384/HS512 (src/jwt.c).
-- Each is a primitive (src/sql/60_hardening.sql): owner only, like every function here.

CREATE FUNCTION taskauth.jwt_sign(claims jsonb, secret text, algorithm text DEFAULT 'HS256')
RETURNS text
AS 'MODULE_PATHNAME', 'taskauth_jwt_sign'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_sign(jsonb, text, text) IS
'Signs a JSON object of claims as a compact JWS with HMAC (HS256, HS384 or HS512); header {"alg":..,"typ":"JWT"}.';

REVOKE ALL ON FUNCTION taskauth.jwt_sign(jsonb, text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.jwt_verify(token text, secret text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, text) IS
'Verifies an HS256/HS384/HS512 token and its exp, nbf and iat claims; returns the claims or raises SQLSTATE 28000.';

REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.jwt_verify(token text, secret text, audience text, issuer text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, text, text, text) IS
'Verifies a token like jwt_verify(token, secret) and also its aud and iss claims (a NULL audience or issuer skips that check); NULL token or secret gives NULL.';

REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, text, text, text) FROM PUBLIC;
