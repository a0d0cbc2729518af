/*
 * identity.c: SQL glue for identity.
 */
#include "taskauth.h"

/* Define the identity settings. */
void
TaskauthIdentityInit(void)
{
}
