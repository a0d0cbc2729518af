/*
 * password.c: SQL glue for password.
 */
#include "taskauth.h"

/* Define the password settings. */
void
TaskauthPasswordInit(void)
{
}
