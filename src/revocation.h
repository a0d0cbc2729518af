/*
 * revocation.h: revoked sessions and users, as authenticate() consults them (src/revocation.c).
 */
#ifndef TASKAUTH_REVOCATION_H
#define TASKAUTH_REVOCATION_H

#include "postgres.h"

/*
 * Bring the revoked sets this backend uses (the database's shared area, or its own) up to date with what has committed. Call after
 * AcceptInvalidationMessages(); costs nothing when no revocation arrived since the last call.
 */
extern void taskauth_revocations_sync(void);

/*
 * Whether a verified token is revoked: its session (sid, NULL when the token names none of the
 * server's sessions) was ended, or its user (sub) was revoked after the token's iat (a token
 * without iat counts as issued before any revocation).
 */
extern bool taskauth_token_revoked(const uint8 *sub, const uint8 *sid, bool has_iat, double iat);

/*
 * The revoked sets' generation: it moves whenever taskauth_token_revoked() could answer
 * differently for some token (a revocation read, the sets emptied or swept), so a token found
 * unrevoked needs no new lookup while it stands. Read after taskauth_revocations_sync().
 */
extern uint64 taskauth_revoked_sets_generation(void);

/* What this backend has done with revocations, for taskauth.backend_stats(). */
typedef struct TaskauthRevocationStats
{
	uint64		full_loads;		/* reads of the whole table (the first, and after a reset) */
	uint64		loads;			/* reads of what was new */
	uint64		sweeps;			/* expired entries swept out of memory */
	uint64		sessions;		/* revoked sessions held */
	uint64		users;			/* revoked users held */
	uint64		bytes;			/* memory of this backend's own sets */
	bool		shared;			/* lookups use the database's shared area */
	uint64		shared_bytes;	/* its size */
	const char *shared_missing; /* why there is no area, when there is none */
} TaskauthRevocationStats;

extern void taskauth_revocation_stats(TaskauthRevocationStats *out);

/* Define the settings and register the invalidation callback; called once from _PG_init. */
extern void TaskauthRevocationInit(void);

#endif
