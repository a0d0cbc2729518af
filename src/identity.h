/*
 * identity.h: declarations shared by identity.c (verified identity, accounts) and keys.c (the
 * server's signing keys and their per-backend cache).
 */
#ifndef TASKAUTH_IDENTITY_H
#define TASKAUTH_IDENTITY_H

#include "taskauth.h"

/* Longest key id accepted (the install script's CHECK on signing_keys.kid says the same). */
#define TASKAUTH_KID_MAX_LEN 64

/* One active server key as cached in this backend. */
typedef struct TaskauthKey
{
	char		kid[TASKAUTH_KID_MAX_LEN + 1];
	size_t		kid_len;
	char	   *secret;			/* malloc'd, wiped before it is freed */
	size_t		secret_len;
} TaskauthKey;

/*
 * The active keys, newest first. The array stays valid until the next call into keys.c; callers
 * use it within one function call and never keep it.
 */
extern const TaskauthKey *taskauth_keys_active(int *nkeys);

/* The active key with this kid, or NULL. */
extern const TaskauthKey *taskauth_keys_find(const char *kid, size_t kid_len);

/* Register the cache's invalidation callback; called once from TaskauthIdentityInit. */
extern void TaskauthKeysInit(void);

#endif
