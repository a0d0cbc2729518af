/*
 * jwt.c: SQL glue for jwt.
 */
#include "taskauth.h"

/* Define the jwt settings. */
void
TaskauthJwtInit(void)
{
}
