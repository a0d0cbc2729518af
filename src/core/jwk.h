/*
 * jwk.h: JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) as OpenSSL public keys.
 *
 * Postgres-free. The caller extracts a JWK's members from its JSON (the glue reads them from a
 * jsonb) and hands them over as byte spans; this module checks them, decodes the base64url key
 * material, builds an EVP_PKEY and decides which algorithms the key may verify: the key type and
 * curve fix the algorithm family, and an "alg" member narrows it to one algorithm. Key selection
 * over a set of keys by "kid" and algorithm, and PEM to JWK conversion, live here too.
 */
#ifndef TASKAUTH_JWK_H
#define TASKAUTH_JWK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/asym.h"
#include "core/ta_status.h"

/* Smallest RSA modulus accepted (NIST SP 800-131A, RFC 7518 §3.3 "2048 bits or larger"). */
#define TA_JWK_RSA_MIN_BITS 2048
/* Largest RSA modulus accepted, so a hostile key cannot make each verification slow. */
#define TA_JWK_RSA_MAX_BITS 16384
/* Longest PEM text ta_jwk_from_pem reads. */
#define TA_JWK_PEM_MAX 65536

/* A JSON string member's bytes (without quotes, escapes resolved); p == NULL when absent. */
typedef struct ta_jwk_member
{
	const char *p;
	size_t		len;
} ta_jwk_member;

/* What the "key_ops" member (RFC 7517 §4.3) says. */
typedef enum ta_jwk_ops
{
	TA_JWK_OPS_ABSENT = 0,
	TA_JWK_OPS_VERIFY,			/* an array that lists "verify" */
	TA_JWK_OPS_OTHER			/* present but without "verify", or not an array of strings */
} ta_jwk_ops;

/* The members of one JWK, as found by the caller. */
typedef struct ta_jwk_fields
{
	ta_jwk_member kty,
				crv,
				alg,
				kid,
				use,
				n,
				e,
				x,
				y;
	int			has_private;	/* any of d, p, q, dp, dq, qi, oth, k is present */
	ta_jwk_ops	key_ops;
	int			malformed;		/* a member above is present but not a JSON string */
} ta_jwk_fields;

typedef enum ta_jwk_kty
{
	TA_JWK_KTY_UNKNOWN = 0,
	TA_JWK_KTY_RSA,
	TA_JWK_KTY_EC,
	TA_JWK_KTY_OKP
} ta_jwk_kty;

/* A loaded key. status says whether it is usable; an unusable key keeps its kid for reporting. */
typedef struct ta_jwk
{
	ta_status	status;			/* TA_OK, or why this key cannot verify anything */
	ta_jwk_kty	kty;
	unsigned	allowed;		/* TA_ASYM_BIT() of each algorithm this key may verify */
	int			bits;			/* modulus or curve size */
	char	   *kid;			/* malloc'd copy, NULL when the JWK has none */
	size_t		kid_len;
	EVP_PKEY   *pkey;			/* NULL unless status == TA_OK */
	ta_asym_verifier *verifiers[TA_ASYM_ALG_COUNT];	/* made on first use, kept */
} ta_jwk;

/*
 * Load one JWK. Returns TA_ERR_NOMEM with *out == NULL when memory runs out; otherwise *out is a
 * new key (free it with ta_jwk_free) and the return value is its status.
 */
extern ta_status ta_jwk_load(const ta_jwk_fields *f, ta_jwk **out);

/* Free a key (NULL is fine). */
extern void ta_jwk_free(ta_jwk *key);

/* Whether a usable key may verify alg. */
extern int	ta_jwk_allows(const ta_jwk *key, ta_asym_alg alg);

/*
 * Verify a JWS signature with a key set. kid is the token header's "kid" (NULL when absent).
 * With a kid, only keys with that kid are candidates; as a convenience a lone JWK without a kid
 * (is_set == 0) is a candidate for any kid. Without a kid every key is a candidate. Candidates
 * that may not verify alg are skipped; the first that verifies wins.
 * Returns TA_OK, or the most telling failure: TA_JWT_NO_KEY (empty set), TA_JWT_KID_UNKNOWN,
 * TA_JWT_SIGNATURE_MISMATCH, TA_JWT_ALG_NOT_ALLOWED, or the status of an unusable candidate.
 */
extern ta_status ta_jwk_set_verify(ta_jwk *const *keys, size_t nkeys, int is_set,
								   const char *kid, size_t kid_len, ta_asym_alg alg,
								   const uint8_t *input, size_t input_len,
								   const uint8_t *sig, size_t sig_len);

/*
 * Convert a PEM public key (SubjectPublicKeyInfo "PUBLIC KEY", or PKCS#1 "RSA PUBLIC KEY") to
 * the JSON text of its public JWK: {"kty":"RSA","n":..,"e":..}, {"kty":"EC","crv":..,"x":..,
 * "y":..} or {"kty":"OKP","crv":"Ed25519","x":..}. Writes NUL-terminated text into out (capacity
 * cap) and its length into *out_len. Refuses private keys, RSA keys outside the accepted sizes
 * and curves JOSE has no name for.
 */
extern ta_status ta_jwk_from_pem(const char *pem, size_t pem_len,
								 char *out, size_t cap, size_t *out_len);

/*
 * Whether a text that is about to be used as an HMAC secret is in fact a public key: PEM text
 * ("-----BEGIN ...") or a JSON object with a "kty" member, after leading whitespace. A verifier
 * that MACs with such a "secret" accepts tokens forged by anyone who has the public key (the
 * classic RS256-to-HS256 confusion), so HMAC verification should refuse it.
 */
extern bool ta_jwk_text_is_public_key(const char *s, size_t len);

/* Capacity always enough for ta_jwk_from_pem's output (a 16384-bit RSA key). */
#define TA_JWK_JSON_MAX 4096

#endif
