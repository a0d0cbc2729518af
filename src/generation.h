/*
 * generation.h: the counters that tell this backend's caches to start again (src/generation.c).
 *
 * Three sources can change what authenticate() must answer for a token it has seen: the server's
 * signing keys (keys.c), the issuer registry (issuers.c) and revocations (revocation.c). Each
 * bumps a counter here from its invalidation callback; readers (identity.c, revocation.c) compare
 * the counter with the value they worked under. Nothing here calls back into its callers, so
 * dependencies run one way: the sources and the readers include this file, and it includes none
 * of them.
 */
#ifndef TASKAUTH_GENERATION_H
#define TASKAUTH_GENERATION_H

#include "postgres.h"

/*
 * Keys or issuers may have changed: every token verified before must be verified again. Tokens
 * cached in identity.c carry the value they were verified under.
 */
extern void taskauth_generation_bump_keys(void);
extern uint64 taskauth_generation_keys(void);

/*
 * Revocations were added: the revoked sets must read what is new. A revocation leaves the
 * verified-token cache alone (a sign-out must not cost every other user a verification); the
 * revoked sets are consulted on every use of a token instead.
 */
extern void taskauth_generation_bump_revocations(void);
extern uint64 taskauth_generation_revocations(void);

/* Revocations were removed or rewritten (prune, DELETE, TRUNCATE): read them all again. */
extern void taskauth_generation_bump_revocations_reset(void);
extern uint64 taskauth_generation_revocations_reset(void);

#endif
