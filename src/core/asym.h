/*
 * asym.h: public-key JWS signature verification (RFC 7518 §3.3-3.5, RFC 8037 §3.1).
 *
 * Postgres-free. Verifies a JWS signing input against a signature with an OpenSSL EVP_PKEY:
 * RSASSA-PKCS1-v1_5 (RS256/384/512), RSASSA-PSS (PS256/384/512), ECDSA with the JOSE raw R||S
 * signature form (ES256/384/512) through OpenSSL, and EdDSA over Ed25519 through libsodium with
 * the key's raw octets (small-order and non-canonical keys and R values refused). Whether a key
 * may be used with an algorithm at all is decided by jwk.h; this layer only checks that the
 * key's type fits.
 */
#ifndef TASKAUTH_ASYM_H
#define TASKAUTH_ASYM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "core/ta_status.h"

typedef enum ta_asym_alg
{
	TA_ASYM_RS256 = 0,
	TA_ASYM_RS384,
	TA_ASYM_RS512,
	TA_ASYM_PS256,
	TA_ASYM_PS384,
	TA_ASYM_PS512,
	TA_ASYM_ES256,
	TA_ASYM_ES384,
	TA_ASYM_ES512,
	TA_ASYM_EDDSA,				/* "EdDSA" (RFC 8037) or "Ed25519" (RFC 9864), Ed25519 keys */
	TA_ASYM_ALG_COUNT
} ta_asym_alg;

/* Bit of an algorithm in a key's set of allowed algorithms. */
#define TA_ASYM_BIT(alg) (1u << (unsigned) (alg))

/*
 * Map a JWS "alg" header value to an algorithm. Exact, case-sensitive match (RFC 7515 §4.1.1).
 * Returns TA_OK, TA_JWT_ALG_NONE for "none" in any casing, TA_JWT_ALG_NOT_ALLOWED for the
 * HMAC algorithms (a public key never verifies a MAC), TA_JWT_ALG_UNSUPPORTED otherwise.
 */
extern ta_status ta_asym_alg_from_name(const char *name, size_t len, ta_asym_alg *out);

/* The registered name of an algorithm ("RS256", ..., "EdDSA"). */
extern const char *ta_asym_alg_name(ta_asym_alg alg);

/*
 * Verify sig over input with pkey under alg. Returns TA_OK, TA_JWT_SIGNATURE_MISMATCH (also for a
 * signature of the wrong length or encoding), TA_JWT_ALG_NOT_ALLOWED when the key's type does not
 * fit alg, TA_ERR_NOMEM or TA_ERR_CRYPTO.
 */
extern ta_status ta_asym_verify(EVP_PKEY *pkey, ta_asym_alg alg,
								const uint8_t *input, size_t input_len,
								const uint8_t *sig, size_t sig_len);

/*
 * A key made ready to verify one algorithm, reusable for many signatures: OpenSSL 3 resolves an
 * algorithm again on each fresh context, which costs a large part of one verification.
 */
typedef struct ta_asym_verifier ta_asym_verifier;

/* Make a verifier; TA_JWT_ALG_NOT_ALLOWED when the key's type does not fit alg. */
extern ta_status ta_asym_verifier_new(EVP_PKEY *pkey, ta_asym_alg alg, ta_asym_verifier **out);

/* Verify sig over input; same results as ta_asym_verify. */
extern ta_status ta_asym_verifier_verify(ta_asym_verifier *v,
										 const uint8_t *input, size_t input_len,
										 const uint8_t *sig, size_t sig_len);

/* Free a verifier (NULL is fine). */
extern void ta_asym_verifier_free(ta_asym_verifier *v);

#endif
