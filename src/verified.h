/*
 * verified.h: what verifying a token for authenticate() establishes, whichever key verified it:
 * one of the server's HMAC keys (jwt.c) or an external issuer's public keys (issuers.c).
 */
#ifndef TASKAUTH_VERIFIED_H
#define TASKAUTH_VERIFIED_H

#include "taskauth.h"

#include "core/jws.h"

/*
 * A string claim's value, not NUL-terminated, pointing into the claims (their text or their
 * jsonb); val is NULL when the claim is absent or not a string.
 */
typedef struct TaskauthClaimString
{
	const char *val;
	int			len;
} TaskauthClaimString;

typedef struct TaskauthVerifiedToken
{
	/* sub, sid and iss as jsonb keeps them (of duplicate keys, the last given) */
	TaskauthClaimString sub;
	TaskauthClaimString sid;
	TaskauthClaimString iss;
	ta_jws_times times;			/* exp, nbf and iat, checked again on every later use */
	char	   *claims_text;	/* the claims as jsonb_out writes them (palloc'd): jwt.claims */

	/*
	 * Which read of the keys verified it (issuers.c's name, see taskauth_issuer_keys_current):
	 * 0 for keys that change only with an invalidation (the server's, an issuer's JWKS kept in
	 * taskauth.issuers).
	 */
	uint64		key_read;
} TaskauthVerifiedToken;

/*
 * Verify an HMAC-signed token with the given key bytes (jwt.c), requiring aud to hold audience
 * unless it is NULL, and fill out. Raises SQLSTATE 28000 on any failure. When every claim is a
 * scalar and nothing is escaped (every token the server issues), no jsonb is built: the claims'
 * text is written straight from the token.
 */
extern void taskauth_jwt_verify_hmac_token(const char *token, size_t token_len,
										   const char *key, size_t key_len,
										   const char *audience, TaskauthVerifiedToken *out);

/* Fill out's sub, sid, iss and claims_text from verified claims held as jsonb (jwt.c). */
extern void taskauth_verified_from_jsonb(Jsonb *claims, TaskauthVerifiedToken *out);

#endif
