/*
 * taskauth.c: module entry. _PG_init only hands off to each area.
 */
#include "taskauth.h"
#include "cache.h"
#include "revocation.h"

#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);	/* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp): the name PostgreSQL calls */

/* Define settings and hooks of every area. */
void
_PG_init(void)
{
	/* first: every other area allocates from the caches' context */
	TaskauthCacheInit();
	TaskauthJwtInit();
	TaskauthPasswordInit();
	TaskauthIdentityInit();
	TaskauthIssuersInit();
	TaskauthRevocationInit();
	TaskauthSessionsInit();
	/* every taskauth.* setting is defined above: refuse (and drop) any other of the prefix */
	MarkGUCPrefixReserved("taskauth");
}
