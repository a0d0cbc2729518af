/*
 * errors.c: turns core status codes into ereports. The only place that does.
 */
#include "taskauth.h"

/* Raise the error that a core status stands for. */
void
taskauth_report(ta_status st)
{
	const char *msg = ta_status_message(st);

	/* Name the limit, which the setting may have moved; never anything of the token. */
	if (st == TA_JWT_TOO_LARGE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("jwt is larger than taskauth.max_token_size (%d bytes)",
						taskauth_max_token_size)));
	switch (ta_status_class_of(st))
	{
		case TA_CLASS_TOKEN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("%s", msg)));
			break;
		case TA_CLASS_ARGUMENT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s", msg)));
			break;
		case TA_CLASS_STATE:
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s", msg)));
			break;
		case TA_CLASS_INTERNAL:
			if (st == TA_ERR_NOMEM)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("%s", msg)));
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("%s", msg)));
			break;
		case TA_CLASS_OK:
			break;
	}
	elog(ERROR, "taskauth_report called with status %d", (int) st);
	pg_unreachable();
}
