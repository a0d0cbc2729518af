/*
 * lazy.c: the lazy identity. When a statement asks for the identity (current_user_id(),
 * claims(), current_setting('jwt.sub') or 'jwt.claims') and nothing was verified yet in the
 * transaction, the bearer token that the frontend put in request.headers (PostgREST's shape:
 * JSON, names lower-cased) is verified, once, exactly as pre_request() would: the same header
 * (x-taskauth-token, else "Authorization: Bearer"), anonymous without one, and pre_request()'s
 * error for a bad one (SQLSTATE PGRST, which PostgREST answers with 401 and WWW-Authenticate).
 * authenticate() and pre_request() keep working and take precedence: the identity they set is
 * never replaced here.
 *
 * Three places need more than a check at the point of use:
 *   - A parallel worker cannot set settings. A plan that may run in parallel gets the identity
 *     verified in the leader before it starts (ExecutorStart), so its workers copy it; a worker
 *     never verifies, and reads what the leader had.
 *   - A function with a SET clause undoes at its exit every setting changed inside it, the
 *     identity included. The token is kept for the transaction, so a later use verifies it again
 *     (a cache hit) rather than reading as anonymous. A subtransaction rolled back undoes the
 *     identity and request.headers alike: what was taken in it is forgotten.
 *   - request.headers must not change once the identity was taken from it (or taken as
 *     anonymous): every later statement of the transaction checks it, and a change is refused,
 *     never followed.
 */
#include "identity.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

/* What this transaction's identity was taken from (all in TopTransactionContext). */
static struct
{
	LocalTransactionId lxid;	/* the transaction; any other value: nothing taken yet */
	SubTransactionId subxid;	/* the subtransaction it was taken in (or one that took it
								 * over at its commit) */
	char	   *headers;		/* request.headers as it read then ("" when unset) */
	char	   *token;			/* the bearer token found, or NULL: anonymous */
	size_t		token_len;
}			taken;

/* True while the identity is being taken: statements it runs must not start it again. */
static bool taking = false;

static ExecutorStart_hook_type prev_executor_start = NULL;

static LocalTransactionId
current_lxid(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

/* request.headers as it reads now; "" when unset (as PostgREST's reads after a commit). */
static const char *
request_headers(void)
{
	const char *h = GetConfigOption("request.headers", true, false);

	return h != NULL ? h : "";
}

/* pre_request()'s refusal: SQLSTATE PGRST, which PostgREST answers with 401. */
static void
refuse(const char *reason)
{
	StringInfoData msg;

	initStringInfo(&msg);
	appendStringInfoString(&msg, "{\"code\" : \"PGRST301\", \"message\" : ");
	escape_json(&msg, reason);
	appendStringInfoChar(&msg, '}');
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE('P', 'G', 'R', 'S', 'T')),
			 errmsg("%s", msg.data),
			 errdetail("{\"status\" : 401, \"headers\" : {\"WWW-Authenticate\" : \"Bearer error=\\\"invalid_token\\\"\"}}")));
}

/*
 * The bearer token of request.headers (palloc'd), or NULL: x-taskauth-token (a header PostgREST
 * does not interpret, for deployments where PostgREST has no jwt-secret), else the token of an
 * "Authorization: Bearer" header, trimmed of spaces and tabs, as pre_request() reads them.
 */
static char *
bearer_token(const char *headers, size_t *len)
{
	Jsonb	   *jb;
	JsonbValue	buf;
	JsonbValue *v;
	const char *s;
	int			n;

	if (headers[0] == '\0')
		return NULL;
	/* not JSON: the same error as pre_request()'s cast */
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(headers)));
	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return NULL;
	v = getKeyJsonValueFromContainer(&jb->root, "x-taskauth-token", 16, &buf);
	if (v != NULL && v->type == jbvString)
	{
		s = v->val.string.val;
		n = v->val.string.len;
	}
	else
	{
		v = getKeyJsonValueFromContainer(&jb->root, "authorization", 13, &buf);
		if (v == NULL || v->type != jbvString)
			return NULL;
		s = v->val.string.val;
		n = v->val.string.len;
		/* "Bearer", any case, then at least one space or tab */
		if (n < 7 || pg_strncasecmp(s, "bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
			return NULL;
		s += 7;
		n -= 7;
	}
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = (size_t) n;
	return pnstrdup(s, n);
}

/* Verify the token taken, turning a token's refusal (28000) into pre_request()'s. */
static void
verify_taken(void)
{
	MemoryContext mcxt = CurrentMemoryContext;

	PG_TRY();
	{
		(void) taskauth_authenticate_token(taken.token, taken.token_len);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION)
		{
			FreeErrorData(edata);
			PG_RE_THROW();
		}
		FlushErrorState();
		/* our messages name the reason and never contain the token */
		refuse(edata->message);
	}
	PG_END_TRY();
}

/* Refuse request.headers changed since the identity was taken from it in this transaction. */
static void
check_unchanged(void)
{
	if (strcmp(request_headers(), taken.headers) != 0)
		refuse("request.headers changed after the identity of the request was taken from it");
}

/* Take the identity (taking is set): see taskauth_lazy_identity. */
static bool
take_identity(void)
{
	if (taken.lxid != current_lxid())
	{
		const char *headers = request_headers();
		size_t		len = 0;
		char	   *token = bearer_token(headers, &len);
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		taken.headers = pstrdup(headers);
		taken.token = token != NULL ? pnstrdup(token, len) : NULL;
		taken.token_len = len;
		MemoryContextSwitchTo(old);
		taken.lxid = current_lxid();
		taken.subxid = GetCurrentSubTransactionId();
		if (token == NULL)
			return false;
	}
	else
		/* undone by a function's SET clause or a rolled-back subtransaction: again */
		check_unchanged();
	verify_taken();
	return true;
}

bool
taskauth_lazy_identity(void)
{
	volatile bool result = false;

	/* a worker reads what its leader had; a statement of the taking itself, nothing */
	if (taking || IsParallelWorker() || !IsTransactionState())
		return false;
	/* anonymous for this transaction (request.headers is checked per statement) */
	if (taken.lxid == current_lxid() && taken.token == NULL)
		return false;
	taking = true;
	PG_TRY();
	{
		result = take_identity();
	}
	PG_FINALLY();
	{
		taking = false;
	}
	PG_END_TRY();
	return result;
}

/*
 * Before a plan runs: refuse request.headers changed since the identity was taken from them;
 * and for a plan that may run in parallel, take the identity now, in the leader, since its
 * workers cannot.
 */
static void
lazy_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (!taking && !IsParallelWorker())
	{
		if (taken.lxid == current_lxid())
			check_unchanged();
		else if (queryDesc->plannedstmt->parallelModeNeeded && !taskauth_identity_verified())
			(void) taskauth_lazy_identity();
	}
	if (prev_executor_start != NULL)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
taskauth_lazy_forget(void)
{
	taken.lxid = InvalidLocalTransactionId;
}

/*
 * A subtransaction's end. Rolled back: what was taken in it is undone with it (the identity and
 * the request.headers it was taken from alike), so it is forgotten. Committed: its parent now
 * holds what it took.
 */
static void
lazy_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	if (taken.lxid != current_lxid() || taken.subxid < mySubid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		taken.lxid = InvalidLocalTransactionId;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		taken.subxid = parentSubid;
}

void
TaskauthLazyInit(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = lazy_executor_start;
	RegisterSubXactCallback(lazy_subxact_callback, NULL);
}
