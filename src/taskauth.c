/*
 * taskauth.c: module entry. _PG_init only hands off to each area.
 */
#include "taskauth.h"
#include "revocation.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Define settings and hooks of every area. */
void
_PG_init(void)
{
	TaskauthJwtInit();
	TaskauthPasswordInit();
	TaskauthIdentityInit();
	TaskauthIssuersInit();
	TaskauthRevocationInit();
	TaskauthSessionsInit();
}
