/*
 * identity.h: declarations shared by identity.c (verified identity, accounts) and keys.c (the
 * server's signing keys and their per-backend cache).
 */
#ifndef TASKAUTH_IDENTITY_H
#define TASKAUTH_IDENTITY_H

#include "taskauth.h"

#include "utils/uuid.h"

/* A uuid in canonical text form: 32 hex digits and 4 dashes. */
#define UUID_TEXT_LEN 36

/*
 * Parse a uuid in 8-4-4-4-12 hex form (either case) into out without raising: true on success.
 * The one parser of a uuid a token carries (sub, sid).
 */
extern bool taskauth_parse_uuid(const char *s, size_t len, pg_uuid_t *out);

/*
 * Verify a token (the server's own, or a registered issuer's) and make its sub and claims the
 * identity of the current transaction; returns the sub (palloc'd). What authenticate() does, for
 * callers in C. Every failure is SQLSTATE 28000.
 */
extern pg_uuid_t *taskauth_authenticate_token(const char *token, size_t len);

/* Whether the current transaction has a verified identity (jwt.sub is set). */
extern bool taskauth_identity_verified(void);

/*
 * lazy.c: when nothing was verified yet in the transaction, verify the bearer token of
 * request.headers as pre_request() would (raising its error for a bad one); true when an
 * identity is now set. Never in a parallel worker.
 */
extern bool taskauth_lazy_identity(void);

/*
 * An identity set explicitly (authenticate(), pre_request()) replaces one taken from
 * request.headers: forget what was taken, so that the headers are no longer held to it.
 */
extern void taskauth_lazy_forget(void);
extern void TaskauthLazyInit(void);

/* Longest key id accepted (the install script's CHECK on signing_keys.kid says the same). */
#define TASKAUTH_KID_MAX_LEN 64

/*
 * The key taskauth signs and verifies its own access tokens (typ "at+jwt") with, derived from a
 * signing key's secret: the base64url (no padding) of HMAC-SHA256(secret, this label), used as
 * the 43 ASCII bytes of an HS256 key. The secret itself may be shared with another issuer
 * (BETTER_AUTH_SECRET, say) that signs other kinds of tokens with it; taskauth never signs with
 * it (RFC 8725 §3.9, §3.11: one key per purpose, explicit typing).
 */
#define TASKAUTH_AT_KEY_LABEL "taskauth at+jwt v1"
#define TASKAUTH_AT_KEY_LEN 43

/* The audience (aud) of taskauth's own access tokens, required of every at+jwt token. */
#define TASKAUTH_AT_AUDIENCE "taskauth"

/* Derive the access-token key of a secret into out (TASKAUTH_AT_KEY_LEN bytes and a NUL). */
extern void taskauth_derive_at_key(const char *secret, size_t secret_len,
								   char out[TASKAUTH_AT_KEY_LEN + 1]);

/* One active server key as cached in this backend. */
typedef struct TaskauthKey
{
	char		kid[TASKAUTH_KID_MAX_LEN + 1];
	size_t		kid_len;
	char	   *secret;			/* in TaskauthCacheContext, wiped before it is freed */
	size_t		secret_len;
	char		at_key[TASKAUTH_AT_KEY_LEN + 1];	/* taskauth_derive_at_key(secret); wiped too */
} TaskauthKey;

/*
 * The active keys, newest first. The array stays valid until the next call into keys.c; callers
 * use it within one function call and never keep it.
 */
extern const TaskauthKey *taskauth_keys_active(int *nkeys);

/* The active key with this kid, or NULL. */
extern const TaskauthKey *taskauth_keys_find(const char *kid, size_t kid_len);

#endif
