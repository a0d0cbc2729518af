/*
 * sessions.c: the C parts of sessions and login throttling (src/sql/70_sessions.sql): refresh
 * tokens (made and opened by src/core/refresh_token.c with the database's refresh key), and
 * writes that must outlive a transaction that is about to fail.
 *
 * refresh() must revoke a session whose refresh token is presented a second time, and a failed
 * login must be counted; both then raise an error, which rolls their own transaction back,
 * with anything written in it. So these writes are made by a short-lived background worker in a
 * transaction of its own, which the caller waits for before raising. (Shared memory would need
 * the library in shared_preload_libraries and would forget everything at a restart; a worker
 * needs neither, and its rows survive restarts and reach standbys.)
 */
#include "taskauth.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "core/refresh_token.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include <openssl/crypto.h>

/*
 * The refresh key (taskauth.refresh_key, one row of 32 random bytes) into key. With create, the
 * first call in a database makes it: INSERT ... ON CONFLICT DO NOTHING, then the row read again,
 * so that sign-ins racing to make it all end up with the one that committed. False when there
 * is none (and create is false): no refresh token can have been made yet.
 */
static bool
read_refresh_key(uint8 key[TA_REFRESH_KEY_LEN], bool create)
{
	static const char *select_sql = "SELECT key FROM taskauth.refresh_key";
	bool		found = false;
	int			attempt;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (attempt = 0; attempt < 2 && !found; attempt++)
	{
		if (SPI_execute(select_sql, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read taskauth.refresh_key");
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			bytea	   *b;

			if (isnull)
				elog(ERROR, "taskauth.refresh_key holds no key");
			b = DatumGetByteaPP(d);
			if (VARSIZE_ANY_EXHDR(b) != TA_REFRESH_KEY_LEN)
				elog(ERROR, "taskauth.refresh_key holds a key of the wrong length");
			memcpy(key, VARDATA_ANY(b), TA_REFRESH_KEY_LEN);
			found = true;
		}
		else if (create && attempt == 0)
		{
			uint8		fresh[TA_REFRESH_KEY_LEN];
			bytea	   *v = palloc(VARHDRSZ + TA_REFRESH_KEY_LEN);
			Oid			types[1] = {BYTEAOID};
			Datum		values[1];

			if (!pg_strong_random(fresh, sizeof(fresh)))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not generate random bytes")));
			SET_VARSIZE(v, VARHDRSZ + TA_REFRESH_KEY_LEN);
			memcpy(VARDATA(v), fresh, TA_REFRESH_KEY_LEN);
			OPENSSL_cleanse(fresh, sizeof(fresh));
			values[0] = PointerGetDatum(v);
			if (SPI_execute_with_args("INSERT INTO taskauth.refresh_key (key) VALUES ($1) ON CONFLICT DO NOTHING",
									  1, types, values, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not make taskauth.refresh_key");
			OPENSSL_cleanse(VARDATA(v), TA_REFRESH_KEY_LEN);
			pfree(v);
		}
		else
			break;
	}
	SPI_finish();
	return found;
}

/*
 * taskauth.refresh_token_make(sid, generation): the refresh token of a session's generation,
 * MAC'd with the refresh key (made by the first call in the database).
 */
PG_FUNCTION_INFO_V1(taskauth_refresh_token_make);
Datum
taskauth_refresh_token_make(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *sid = PG_GETARG_UUID_P(0);
	int64		generation = PG_GETARG_INT64(1);
	uint8		key[TA_REFRESH_KEY_LEN];
	char		out[TA_REFRESH_TOKEN_LEN + 1];
	size_t		len;
	ta_status	st;
	text	   *result;

	read_refresh_key(key, true);
	st = ta_refresh_token_make(key, sid->data, generation, out, sizeof(out), &len);
	OPENSSL_cleanse(key, sizeof(key));
	TA_CHECK(st);
	result = cstring_to_text_with_len(out, (int) len);
	OPENSSL_cleanse(out, sizeof(out));
	PG_RETURN_TEXT_P(result);
}

/*
 * taskauth.refresh_token_open(token, OUT session_id, OUT generation): what a refresh token
 * names, only when its MAC is the refresh key's; both NULL for anything else (no key yet
 * included). Nothing in a refused token is believed or reported.
 */
PG_FUNCTION_INFO_V1(taskauth_refresh_token_open);
Datum
taskauth_refresh_token_open(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	uint8		key[TA_REFRESH_KEY_LEN];
	pg_uuid_t  *sid = palloc0(sizeof(pg_uuid_t));
	int64		generation = 0;
	ta_status	st = TA_REFRESH_TOKEN_INVALID;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {true, true};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "refresh_token_open must return a record");
	desc = BlessTupleDesc(desc);
	/* the length first: a token of another length needs no key read */
	if (VARSIZE_ANY_EXHDR(token) == TA_REFRESH_TOKEN_LEN && read_refresh_key(key, false))
	{
		st = ta_refresh_token_open(key, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
								   sid->data, &generation);
		OPENSSL_cleanse(key, sizeof(key));
	}
	if (st == TA_OK)
	{
		values[0] = UUIDPGetDatum(sid);
		values[1] = Int64GetDatum(generation);
		nulls[0] = nulls[1] = false;
	}
	else if (st != TA_REFRESH_TOKEN_INVALID)
		taskauth_report(st);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* taskauth.login_throttle_threshold, _lock, _max_lock (see record_login_failure in SQL) */
#define DEFAULT_LOGIN_THROTTLE_THRESHOLD 5
#define DEFAULT_LOGIN_THROTTLE_LOCK 30
#define DEFAULT_LOGIN_THROTTLE_MAX_LOCK (60 * 60)
static int	login_throttle_threshold = DEFAULT_LOGIN_THROTTLE_THRESHOLD;
static int	login_throttle_lock = DEFAULT_LOGIN_THROTTLE_LOCK;
static int	login_throttle_max_lock = DEFAULT_LOGIN_THROTTLE_MAX_LOCK;

/* taskauth.session_lifetime and session_idle_lifetime (read by refresh() in SQL) */
#define DEFAULT_SESSION_LIFETIME (30 * 24 * 60 * 60)
#define DEFAULT_SESSION_IDLE_LIFETIME (7 * 24 * 60 * 60)
static int	session_lifetime = DEFAULT_SESSION_LIFETIME;
static int	session_idle_lifetime = DEFAULT_SESSION_IDLE_LIFETIME;

/* Define the session and login-throttling settings. */
void
TaskauthSessionsInit(void)
{
	DefineCustomIntVariable("taskauth.session_lifetime",
							"How long a session started by sign_in() can be refreshed, from its start.",
							"After this, refresh() refuses its refresh token and the user signs in again.",
							&session_lifetime,
							DEFAULT_SESSION_LIFETIME, 60, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.session_idle_lifetime",
							"How long a session can go without a refresh before refresh() refuses it.",
							NULL,
							&session_idle_lifetime,
							DEFAULT_SESSION_IDLE_LIFETIME, 60, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.login_throttle_threshold",
							"Consecutive failed logins of one email after which further attempts are refused for a while.",
							"Counted per email whether or not it has an account, reset by a successful login; "
							"0 turns throttling off.",
							&login_throttle_threshold,
							DEFAULT_LOGIN_THROTTLE_THRESHOLD, 0, 1000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.login_throttle_lock",
							"How long logins of an email are refused once its failures reach the threshold.",
							"Each further failure after a lock doubles it, up to taskauth.login_throttle_max_lock.",
							&login_throttle_lock,
							DEFAULT_LOGIN_THROTTLE_LOCK, 1, 24 * 60 * 60,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.login_throttle_max_lock",
							"The longest lock of an email's logins after repeated failures.",
							NULL,
							&login_throttle_max_lock,
							DEFAULT_LOGIN_THROTTLE_MAX_LOCK, 1, 30 * 24 * 60 * 60,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* What the worker is asked to do, in bgw_extra. */
typedef enum DetachedKind
{
	DETACHED_END_SESSION = 1,	/* end a session: refresh token reused */
	DETACHED_LOGIN_FAILURE = 2	/* count a failed login */
} DetachedKind;

typedef struct DetachedRequest
{
	Oid			database;
	Oid			role;
	int32		kind;
	pg_uuid_t	session;		/* DETACHED_END_SESSION */
	uint8		key[32];		/* DETACHED_LOGIN_FAILURE: SHA-256 of the normalised email */
	bool		has_user;		/* and the account's id, when there is one */
	pg_uuid_t	user;
	int32		threshold;		/* the settings of the session that failed */
	int32		lock_seconds;
	int32		max_lock_seconds;
	bool		has_seen_success;	/* the newest sign-in the attempt's transaction saw */
	TimestampTz seen_success;
	dsm_handle	result;			/* a DetachedResult, or DSM_HANDLE_INVALID */
} DetachedRequest;

/* What the worker reports back, in a dynamic shared memory segment of the backend that asked. */
typedef struct DetachedResult
{
	bool		committed;		/* the worker's transaction committed (locally, at least) */
	XLogRecPtr	commit_end;		/* the end of its commit record */
} DetachedResult;

StaticAssertDecl(sizeof(DetachedRequest) <= BGW_EXTRALEN, "DetachedRequest must fit in bgw_extra");

PGDLLEXPORT void taskauth_detached_main(Datum arg);

/* Background worker: do one request in a transaction of its own and commit. */
void
taskauth_detached_main(Datum arg)
{
	DetachedRequest req;
	int			rc = 0;
	dsm_segment *seg = NULL;
	bool		wrote;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.database, req.role, 0);
	/* NULL when the backend that asked has gone meanwhile: the work is done all the same */
	if (req.result != DSM_HANDLE_INVALID && (seg = dsm_attach(req.result)) != NULL)
		dsm_pin_mapping(seg);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* never wait long: the backend that asked waits for this worker */
	if (SPI_execute("SET LOCAL lock_timeout = '5s'", false, 0) != SPI_OK_UTILITY ||
		SPI_execute("SET LOCAL statement_timeout = '30s'", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "taskauth worker could not set its time limits");

	/*
	 * Commit at least as durably as synchronous_commit = on, whatever the server, the database
	 * or the role set: with off, local or remote_write, what the caller goes on to report (a
	 * failed login's count, a replayed refresh token's session ended) could be lost in a
	 * failover. remote_apply is kept. Without a synchronous standby, on waits for nothing more
	 * than the local flush.
	 */
	if (synchronous_commit < SYNCHRONOUS_COMMIT_ON &&
		SPI_execute("SET LOCAL synchronous_commit = on", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "taskauth worker could not set synchronous_commit");
	if (req.kind == DETACHED_END_SESSION)
	{
		Oid			types[1] = {UUIDOID};
		Datum		values[1] = {UUIDPGetDatum(&req.session)};

		pgstat_report_activity(STATE_RUNNING, "taskauth: ending a session whose refresh token was reused");
		rc = SPI_execute_with_args("SELECT taskauth.end_replayed_session($1)",
								   1, types, values, NULL, false, 0);
	}
	else if (req.kind == DETACHED_LOGIN_FAILURE)
	{
		Oid			types[6] = {BYTEAOID, UUIDOID, INT4OID, INT4OID, INT4OID, TIMESTAMPTZOID};
		Datum		values[6];
		char		nulls[6] = {' ', req.has_user ? ' ' : 'n', ' ', ' ', ' ',
		req.has_seen_success ? ' ' : 'n'};
		bytea	   *key = palloc(VARHDRSZ + sizeof(req.key));

		SET_VARSIZE(key, VARHDRSZ + sizeof(req.key));
		memcpy(VARDATA(key), req.key, sizeof(req.key));
		values[0] = PointerGetDatum(key);
		values[1] = UUIDPGetDatum(&req.user);
		values[2] = Int32GetDatum(req.threshold);
		values[3] = Int32GetDatum(req.lock_seconds);
		values[4] = Int32GetDatum(req.max_lock_seconds);
		values[5] = TimestampTzGetDatum(req.seen_success);
		pgstat_report_activity(STATE_RUNNING, "taskauth: counting a failed login");
		rc = SPI_execute_with_args("SELECT taskauth.record_login_failure($1, $2, $3, $4, $5, $6)",
								   6, types, values, nulls, false, 0);
	}
	else
		elog(ERROR, "unknown taskauth worker request %d", req.kind);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "taskauth worker request %d failed: SPI code %d", req.kind, rc);
	SPI_finish();
	PopActiveSnapshot();
	/* whether this transaction writes anything that commits (a read-only one waits for nothing) */
	wrote = TransactionIdIsValid(GetTopTransactionIdIfAny());
	CommitTransactionCommand();

	/*
	 * Committed, here at least: a wait for the synchronous standby cut short by a cancel or a
	 * termination ends with a warning, and the commit stands (a pending termination is served
	 * at the next interrupt check, after this). The backend that asked waits for the standby
	 * to confirm this commit's end.
	 */
	if (seg != NULL)
	{
		DetachedResult *result = dsm_segment_address(seg);

		/* 0 when its transaction wrote nothing (a session found ended already) */
		result->commit_end = wrote ? XactLastCommitEnd : InvalidXLogRecPtr;
		pg_write_barrier();
		result->committed = true;
	}
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/*
 * Run a request in a background worker and wait for it to end. Registration is retried for up
 * to five seconds while every worker slot is taken (workers of this kind live a few
 * milliseconds, but a burst of logins on a loaded machine can hold every slot for longer than a
 * second); the wait can be cancelled. True when a worker ran and has stopped; false, with a
 * warning, when none could be started, and false at once on a hot standby. True says nothing of
 * how the worker ended (PostgreSQL does not tell its registrant): a worker that failed (a lock
 * past its lock_timeout, say) stops too, having committed nothing. So every caller reads the
 * outcome back from the tables (seen_now) and fails closed when it is not there: a login is
 * refused uncounted, a replayed refresh token's session is reported as left open.
 */
static bool
run_detached(DetachedRequest *req, const char *what)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	/* a hot standby writes nothing, and would not start the worker before promotion */
	if (RecoveryInProgress())
		return false;
	req->database = MyDatabaseId;
	/* the function's owner when called from a SECURITY DEFINER function: the extension's owner */
	req->role = GetUserId();

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "taskauth");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "taskauth_detached_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "taskauth %s", what);
	snprintf(worker.bgw_type, BGW_MAXLEN, "taskauth worker");
	memcpy(worker.bgw_extra, req, sizeof(*req));
	worker.bgw_notify_pid = MyProcPid;

	for (int tries = 0; !RegisterDynamicBackgroundWorker(&worker, &handle); tries++)
	{
		if (tries == 500)
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start a background worker to %s", what),
					 errhint("Raise max_worker_processes.")));
			return false;
		}
		pg_usleep(10 * 1000L);
		CHECK_FOR_INTERRUPTS();
	}
	return WaitForBackgroundWorkerShutdown(handle) == BGWH_STOPPED;
}

/*
 * Whether a query returns a row when read with the latest snapshot, not the caller's: a worker
 * committed after the caller's statement (or, at REPEATABLE READ, transaction) took its own.
 */
static bool
seen_now(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		found = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetLatestSnapshot());
	/* read_only: run under the snapshot just pushed, not a new one */
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, true, 1) == SPI_OK_SELECT)
		found = SPI_processed == 1;
	PopActiveSnapshot();
	SPI_finish();
	return found;
}

/* Whether a session's tokens are refused as of now: it is marked ended, or has a revocation. */
static bool
session_refused_now(pg_uuid_t *session)
{
	Oid			types[1] = {UUIDOID};
	Datum		values[1] = {UUIDPGetDatum(session)};

	return seen_now("SELECT WHERE EXISTS (SELECT FROM taskauth.sessions AS s"
					"                      WHERE s.id = $1 AND s.ended_at IS NOT NULL)"
					"    OR EXISTS (SELECT FROM taskauth.revocations AS r WHERE r.session_id = $1)",
					1, types, values);
}

/* "login is temporarily unavailable", as count_login_attempt() raises it (src/sql/70_sessions.sql) */
#define ERRCODE_TASKAUTH_UNAVAILABLE MAKE_SQLSTATE('P', 'T', '5', '0', '3')

/* How long a login waits for the synchronous standbys to confirm its count's commit. */
#define SYNC_CONFIRM_TIMEOUT_MS 5000

/*
 * Whether the synchronous standbys have flushed WAL up to lsn, or none is required: no WAL
 * sender can run, or synchronous_standby_names is empty (as the checkpointer last passed it on
 * to the WAL senders, which is what commits wait by).
 */
static bool
sync_standbys_flushed(XLogRecPtr lsn)
{
	bool		defined;
	XLogRecPtr	flushed;

	if (max_wal_senders == 0 || XLogRecPtrIsInvalid(lsn))
		return true;
	LWLockAcquire(SyncRepLock, LW_SHARED);
#ifdef SYNC_STANDBY_DEFINED
	/* minor releases since May 2025 (15.13, 17.5) and 18: a status, set once initialised */
	if (WalSndCtl->sync_standbys_status & SYNC_STANDBY_INIT)
		defined = (WalSndCtl->sync_standbys_status & SYNC_STANDBY_DEFINED) != 0;
	else
		defined = SyncRepStandbyNames != NULL && SyncRepStandbyNames[0] != '\0';
#else
	defined = WalSndCtl->sync_standbys_defined;
#endif
	flushed = WalSndCtl->lsn[SYNC_REP_WAIT_FLUSH];
	LWLockRelease(SyncRepLock);
	return !defined || flushed >= lsn;
}

/*
 * Wait, for SYNC_CONFIRM_TIMEOUT_MS at most, until the synchronous standbys have flushed WAL up
 * to lsn (at once when no synchronous standby is required); the wait can be cancelled. True
 * when they have.
 */
static bool
wait_for_sync_standbys(XLogRecPtr lsn)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   SYNC_CONFIRM_TIMEOUT_MS);
	long		nap = 1;

	for (;;)
	{
		long		left;

		if (sync_standbys_flushed(lsn))
			return true;
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
			return false;
		/* polled: the WAL senders wake only the backends queued for a commit */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(nap, left), WAIT_EVENT_SYNC_REP);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		nap = Min(nap * 2, 10);
	}
}

/* A segment for the worker to report its commit in (NULL when every segment slot is taken). */
static dsm_segment *
result_segment(DetachedRequest *req)
{
	dsm_segment *seg = dsm_create(sizeof(DetachedResult), DSM_CREATE_NULL_IF_MAXSEGMENTS);

	req->result = DSM_HANDLE_INVALID;
	if (seg != NULL)
	{
		memset(dsm_segment_address(seg), 0, sizeof(DetachedResult));
		req->result = dsm_segment_handle(seg);
	}
	return seg;
}

/*
 * The end of the worker's commit record as it reported it; InvalidXLogRecPtr when it reported a
 * commit that wrote nothing (what the caller found was there before: nothing to wait for); the
 * flush position now when it reported nothing (workers commit with synchronous_commit at least
 * on, so what they committed is flushed before it can be seen). Detaches the segment.
 */
static XLogRecPtr
worker_commit_end(dsm_segment *seg)
{
	DetachedResult *result;
	XLogRecPtr	end;

	if (seg == NULL)
		return GetFlushRecPtr(NULL);
	result = dsm_segment_address(seg);
	pg_read_barrier();
	end = result->committed ? result->commit_end : GetFlushRecPtr(NULL);
	dsm_detach(seg);
	return end;
}

/*
 * End a session in a transaction of its own (a background worker), and wait for it: the
 * caller's transaction may roll back without undoing it. True when the session's tokens are
 * refused now; false, with a warning that says which step failed, otherwise.
 */
PG_FUNCTION_INFO_V1(taskauth_end_session_detached);
Datum
taskauth_end_session_detached(PG_FUNCTION_ARGS)
{
	DetachedRequest req;
	dsm_segment *seg;

	memset(&req, 0, sizeof(req));
	req.kind = DETACHED_END_SESSION;
	req.session = *PG_GETARG_UUID_P(0);
	seg = result_segment(&req);
	if (!run_detached(&req, "end a session"))
	{
		if (seg != NULL)
			dsm_detach(seg);
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the session of a replayed refresh token could not be ended"),
				 errdetail("No background worker could be started to end it.")));
		PG_RETURN_BOOL(false);
	}
	if (!session_refused_now(&req.session))
	{
		if (seg != NULL)
			dsm_detach(seg);
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the session of a replayed refresh token could not be ended"),
				 errdetail("The worker that ends it ran, but the session is neither ended nor revoked (its worker failed; the server log says why)."),
				 errhint("Revoke it with taskauth.revoke_session().")));
		PG_RETURN_BOOL(false);
	}

	/*
	 * Ended here, but maybe not on the synchronous standby: a worker ended while it waited for
	 * the standby keeps its commit with a mere warning, and a failover would lose it (the
	 * replayed token stays refused, its generation having moved on, but the session would go
	 * on for whoever holds its newest token).
	 */
	if (!wait_for_sync_standbys(worker_commit_end(seg)))
	{
		ereport(WARNING,
				(errcode(ERRCODE_TASKAUTH_UNAVAILABLE),
				 errmsg("the session of a replayed refresh token was ended, but the synchronous standby has not confirmed it"),
				 errdetail("A failover now could lose the end of the session."),
				 errhint("Revoke it with taskauth.revoke_session() once the standby is back.")));
		PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

/* Whether the throttle row of key shows a failure counted at or after since. */
static bool
failure_counted_since(bytea *key, TimestampTz since)
{
	Oid			types[2] = {BYTEAOID, TIMESTAMPTZOID};
	Datum		values[2] = {PointerGetDatum(key), TimestampTzGetDatum(since)};

	return seen_now("SELECT FROM taskauth.login_throttle AS t"
					" WHERE t.key = $1 AND t.last_failure_at >= $2",
					2, types, values);
}

/*
 * Count a failed login of an email (its SHA-256, and the account's id or NULL) in a transaction
 * of its own, with this session's throttling settings, and wait for it: the attempt's own
 * transaction may roll back. True only when the count is seen committed: a worker that could
 * not start, or failed (a lock it waited for past its lock_timeout, say), counts nothing. Under
 * synchronous replication, raises PT503 when the synchronous standbys do not confirm the count
 * within SYNC_CONFIRM_TIMEOUT_MS.
 */
PG_FUNCTION_INFO_V1(taskauth_login_failed_detached);
Datum
taskauth_login_failed_detached(PG_FUNCTION_ARGS)
{
	DetachedRequest req;
	bytea	   *key;
	TimestampTz since;
	dsm_segment *seg;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	key = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(key) != sizeof(req.key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("login throttling key must be a SHA-256 hash")));
	memset(&req, 0, sizeof(req));
	req.kind = DETACHED_LOGIN_FAILURE;
	memcpy(req.key, VARDATA_ANY(key), sizeof(req.key));
	req.has_user = !PG_ARGISNULL(1);
	if (req.has_user)
		req.user = *PG_GETARG_UUID_P(1);
	req.has_seen_success = PG_NARGS() > 2 && !PG_ARGISNULL(2);
	if (req.has_seen_success)
		req.seen_success = PG_GETARG_TIMESTAMPTZ(2);
	req.threshold = login_throttle_threshold;
	req.lock_seconds = login_throttle_lock;
	req.max_lock_seconds = login_throttle_max_lock;
	/* where the worker reports its commit; none when every segment slot is taken (see below) */
	seg = result_segment(&req);
	/* the worker's clock_timestamp() is read after this */
	since = GetCurrentTimestamp();
	if (!run_detached(&req, "count a failed login") || !failure_counted_since(key, since))
	{
		if (seg != NULL)
			dsm_detach(seg);
		PG_RETURN_BOOL(false);
	}

	/*
	 * The count is committed here, but maybe not on the synchronous standby: a worker ended
	 * while it waited for the standby at its commit (pg_terminate_backend, a cancel) keeps its
	 * commit with a mere warning. So the attempt is not answered until the synchronous standbys
	 * have flushed the end of the worker's commit record (at once, normally: the worker's
	 * commit waited for that). When the worker did not report it (the count seen is another
	 * attempt's, or no segment could be made), the flush position read now stands in for it:
	 * workers commit with synchronous_commit at least on, so a count is flushed here before it
	 * becomes visible. Whether or not the email has an account, the same wait and the same
	 * error; with no password checked, a count lost in a failover costs no guess.
	 */
	if (!wait_for_sync_standbys(worker_commit_end(seg)))
		ereport(ERROR,
				(errcode(ERRCODE_TASKAUTH_UNAVAILABLE),
				 errmsg("login is temporarily unavailable"),
				 errdetail("The attempt's count was not confirmed by the synchronous standby in time, so no password was checked."),
				 errhint("Try again in a moment.")));
	PG_RETURN_BOOL(true);
}
