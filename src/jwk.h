/*
 * jwk.h: the SQL glue's interface to public-key verification (src/jwk.c), used by the external
 * issuer code (src/issuers.c).
 */
#ifndef TASKAUTH_JWK_GLUE_H
#define TASKAUTH_JWK_GLUE_H

#include "taskauth.h"

#include "core/jwk.h"
#include "core/jws_asym.h"

/* A parsed JWK or JWKS, as kept in the per-backend cache. */
typedef struct TaskauthKeySet
{
	ta_jwk	  **keys;			/* malloc'd array of nkeys loaded keys */
	size_t		nkeys;
	bool		is_set;			/* came from {"keys": [...]} */
} TaskauthKeySet;

/*
 * The parsed form of a JWK or JWKS jsonb, from the per-backend cache or newly loaded. A lone JWK
 * that cannot verify anything raises its error (SQLSTATE 22023). The result stays valid until
 * the next call of this function; never keep it.
 */
extern const TaskauthKeySet *taskauth_keyset_get(Jsonb *key);

/*
 * Verify a public-key signed token with a key set and return its claims; raises SQLSTATE 28000
 * on any token failure. opts may be NULL.
 */
extern Jsonb *taskauth_jwt_verify_keyset(const char *token, size_t token_len,
										 const TaskauthKeySet *ks,
										 const TaskauthVerifyOptions *opts);

/*
 * The same for a token the caller has split (ta_jws_split), whose header it has parsed
 * (ta_jws_asym_parse_header) and whose payload it has decoded (ta_jws_decode_payload, so
 * NUL-terminated): the signature is checked over the token's bytes, then the claims.
 */
extern Jsonb *taskauth_jwt_verify_keyset_decoded(const ta_jws_parts *parts,
												 const ta_jws_asym_header *hdr, char *payload,
												 size_t payload_len, const TaskauthKeySet *ks,
												 const TaskauthVerifyOptions *opts);

#endif
