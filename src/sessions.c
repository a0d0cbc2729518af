/*
 * sessions.c: the C parts of sessions (src/sql/70_sessions.sql): random refresh tokens, and
 * ending a session from a transaction that is about to fail.
 *
 * refresh() must revoke a session whose refresh token is presented a second time, and it must
 * also raise an error then; the error rolls its own transaction back, revocation included. The
 * revocation is therefore made by a background worker in a transaction of its own, which the
 * caller waits for before raising.
 */
#include "taskauth.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "core/b64url.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include <openssl/crypto.h>

/* Random bytes in a refresh token. */
#define REFRESH_TOKEN_BYTES 32

/* A new refresh token: 256 random bits in base64url (43 characters). */
PG_FUNCTION_INFO_V1(taskauth_random_token);
Datum
taskauth_random_token(PG_FUNCTION_ARGS)
{
	uint8		raw[REFRESH_TOKEN_BYTES];
	char		out[TA_B64URL_ENCODED_LEN(REFRESH_TOKEN_BYTES) + 1];
	size_t		len;
	text	   *result;

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	TA_CHECK(ta_b64url_encode(raw, sizeof(raw), out, sizeof(out), &len));
	result = cstring_to_text_with_len(out, (int) len);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(out, sizeof(out));
	PG_RETURN_TEXT_P(result);
}

/* What the worker is asked to do, in bgw_extra. */
typedef struct DetachedRequest
{
	Oid			database;
	Oid			role;
	pg_uuid_t	session;
} DetachedRequest;

PGDLLEXPORT void taskauth_detached_main(Datum arg);

/* Background worker: end one session (reason refresh_token_reused) and commit. */
void
taskauth_detached_main(Datum arg)
{
	DetachedRequest req;
	Datum		values[1];
	Oid			types[1] = {UUIDOID};
	int			rc;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.database, req.role, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "taskauth: ending a session whose refresh token was reused");
	/* never wait long: the backend that asked waits for this worker */
	SPI_execute("SET LOCAL lock_timeout = '5s'", false, 0);
	SPI_execute("SET LOCAL statement_timeout = '30s'", false, 0);
	values[0] = UUIDPGetDatum(&req.session);
	rc = SPI_execute_with_args("SELECT taskauth.end_sessions(NULL, $1, NULL, 'refresh_token_reused')",
							   1, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "ending the session failed: SPI code %d", rc);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/*
 * End a session in a transaction of its own (a background worker), and wait for it: the
 * caller's transaction may roll back without undoing it. True when the worker ran to its end;
 * false, with a warning, when no worker could be started (max_worker_processes is used up).
 */
PG_FUNCTION_INFO_V1(taskauth_end_session_detached);
Datum
taskauth_end_session_detached(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *session = PG_GETARG_UUID_P(0);
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	DetachedRequest req;
	BgwHandleStatus status;

	memset(&req, 0, sizeof(req));
	req.database = MyDatabaseId;
	/* the function's owner when called from a SECURITY DEFINER function: the extension's owner */
	req.role = GetUserId();
	req.session = *session;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "taskauth");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "taskauth_detached_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "taskauth session revoker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "taskauth session revoker");
	memcpy(worker.bgw_extra, &req, sizeof(req));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker to end a session"),
				 errdetail("A refresh token was presented a second time; its session stays valid."),
				 errhint("Raise max_worker_processes.")));
		PG_RETURN_BOOL(false);
	}
	status = WaitForBackgroundWorkerShutdown(handle);
	PG_RETURN_BOOL(status == BGWH_STOPPED);
}
