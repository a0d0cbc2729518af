-- Public-key tokens: JWK/JWKS verification and PEM conversion (src/jwk.c).
-- Each is a primitive (src/sql/60_hardening.sql): owner only, like every function here.

CREATE FUNCTION taskauth.jwt_verify(token text, key jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify_jwk'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, jsonb) IS
'Verifies an RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA token with a JWK or a JWKS ({"keys":[...]}) and its exp, nbf and iat claims; returns the claims or raises SQLSTATE 28000.';

REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, jsonb) FROM PUBLIC;

CREATE FUNCTION taskauth.jwt_verify(token text, key jsonb, audience text, issuer text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwt_verify_jwk'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwt_verify(text, jsonb, text, text) IS
'Verifies a token like jwt_verify(token, key jsonb) and also its aud and iss claims (a NULL audience or issuer skips that check); NULL token or key gives NULL.';

REVOKE ALL ON FUNCTION taskauth.jwt_verify(text, jsonb, text, text) FROM PUBLIC;

CREATE FUNCTION taskauth.jwk_from_pem(pem text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'taskauth_jwk_from_pem'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION taskauth.jwk_from_pem(text) IS
'Converts a PEM public key (RSA of 2048 bits or more, EC P-256/P-384/P-521, Ed25519) to its public JWK; refuses private keys.';

REVOKE ALL ON FUNCTION taskauth.jwk_from_pem(text) FROM PUBLIC;
