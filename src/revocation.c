/*
 * revocation.c: revoked sessions and users, kept per backend so that authenticate() can refuse a
 * revoked token on every use (cached or not) for the price of two hash lookups.
 *
 * The table taskauth.revocations is append-only in normal use. No lock orders the revoking
 * transactions (one held open would stall every other user's sign-out), so they commit in any
 * order, and a row may become visible after rows made later. Each row records the transaction
 * that made it (xact, its top-level id, assigned before the row exists). A row that a snapshot
 * does not see belongs to a transaction still running when the snapshot was taken, or started
 * after it: its xact is at least the snapshot's xmin. So each read takes the latest snapshot,
 * reads the rows whose xact is at or past the previous read's xmin (the horizon), and moves the
 * horizon to this snapshot's xmin: nothing that commits later can be missed, on the primary or on
 * a standby (whose snapshots have the same property), and rows read twice are merely put again.
 * A transaction held open anywhere keeps the horizon back, and rows made since are read again at
 * every read, until it ends.
 *
 * A statement trigger on the table sends a relcache invalidation for it after an INSERT (which
 * moves the generation of TA_SOURCE_REVOCATIONS, cache.c: this backend then reads the new rows),
 * and for the sequence taskauth.revocations_seq after an UPDATE, a TRUNCATE, or a DELETE of a
 * row that had not expired (TA_SOURCE_REVOCATIONS_RESET: every backend then reads the whole
 * table again); prune()'s DELETE of expired rows sends none. Invalidations
 * travel with the commit record, so standbys follow at replay. The verified-token cache is left
 * alone: a sign-out costs the other users nothing.
 *
 * Rows are read with a direct index scan, which needs no SQL privilege (API roles cannot read
 * the table), and the latest snapshot, like the key cache (keys.c). Rows the current transaction
 * wrote are not taken until it commits: a revocation rolled back must not stay in the set.
 * Entries are dropped from memory once every token they could refuse has expired.
 */
#include "revocation.h"

#include "taskauth.h"
#include "cache.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/tuplestore.h"
#include "core/revoked.h"
#include "datatype/timestamp.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/xid8.h"

/* taskauth.revocation_retention */
#define DEFAULT_REVOCATION_RETENTION (7 * 24 * 60 * 60)
static int	revocation_retention = DEFAULT_REVOCATION_RETENTION;

/* The revoked sets (core/revoked.c, in the caches' context), and how far they have read. */
static struct
{
	ta_revoked *sessions;
	ta_revoked *users;
	bool		loaded;
	FullTransactionId horizon;	/* read rows with xact at or past it */
	uint64		synced_generation;	/* of TA_SOURCE_REVOCATIONS */
	uint64		synced_reset;	/* of TA_SOURCE_REVOCATIONS_RESET */
	TimestampTz next_sweep;
}			sets;

/* What backend_stats() reports: reads of the table (all of it, or what is new), sweeps. */
static struct
{
	uint64		full_loads;
	uint64		loads;
	uint64		sweeps;
}			stats;

/*
 * The sets' own generation: it moves whenever the sets may have gained an entry (any load, clear
 * or sweep), so that a token found unrevoked under one value needs no lookup while the value
 * stands (an entry only ever leaves the sets once no token it covers can still be valid).
 */
static uint64 sets_generation = 1;

/* How often expired entries are swept out of memory. */
#define SWEEP_INTERVAL_USECS (60 * USECS_PER_SEC)

void
TaskauthRevocationInit(void)
{
	DefineCustomIntVariable("taskauth.revocation_retention",
							"How long a revocation of a user (revoke_user) is kept after the token lifetime has passed.",
							"revoke_user() refuses every token of the user issued before it, whoever issued it; "
							"its entry is kept for taskauth.token_lifetime plus this long, so it should be at "
							"least the lifetime of the tokens external issuers give.",
							&revocation_retention,
							DEFAULT_REVOCATION_RETENTION, 0, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Attribute number of a column of taskauth.revocations, or an error. */
static AttrNumber
column(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return a->attnum;
	}
	elog(ERROR, "table taskauth.revocations has no column \"%s\"", name);
	pg_unreachable();
}

/*
 * A snapshot's xmin as a full transaction id: xmin is never ahead of the next id to be
 * assigned and at most 2^31 behind it, so its epoch is the next id's or the one before.
 */
static FullTransactionId
widen_xid(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (!TransactionIdIsNormal(xid))
		return FullTransactionIdFromEpochAndXid(0, FirstNormalTransactionId);
	if (xid > XidFromFullTransactionId(next) && epoch > 0)
		epoch--;
	return FullTransactionIdFromEpochAndXid(epoch, xid);
}

/* Read revocations made at or past the horizon (all of them when full) into the sets. */
static void
revocations_load(Oid nsp, Oid relid, bool full)
{
	Relation	rel;
	Oid			xact_index;
	FullTransactionId next_horizon;
	Snapshot	snapshot;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc;
	AttrNumber	att_xact,
				att_session,
				att_user,
				att_at,
				att_expires;
	uint64		generation;
	uint64		reset;
	bool		own_rows = false;
	TimestampTz now_ts = GetCurrentTimestamp();

	/* opening the table processes pending invalidations; later ones will mark this load stale */
	rel = table_open(relid, AccessShareLock);
	generation = taskauth_generation(TA_SOURCE_REVOCATIONS);
	reset = taskauth_generation(TA_SOURCE_REVOCATIONS_RESET);
	if (reset != sets.synced_reset)
		full = true;

	if (sets.sessions == NULL)
		sets.sessions = ta_revoked_create();
	if (sets.users == NULL)
		sets.users = ta_revoked_create();
	if (sets.sessions == NULL || sets.users == NULL)
		taskauth_report(TA_ERR_NOMEM);
	if (full)
	{
		ta_revoked_clear(sets.sessions);
		ta_revoked_clear(sets.users);
		sets.horizon = FullTransactionIdFromEpochAndXid(0, 0);
	}
	/* until this load completes, the sets are not to be trusted */
	sets.loaded = false;

	desc = RelationGetDescr(rel);
	att_xact = column(desc, "xact");
	att_session = column(desc, "session_id");
	att_user = column(desc, "user_id");
	att_at = column(desc, "revoked_at");
	att_expires = column(desc, "expires_at");
	xact_index = get_relname_relid("revocations_xact_idx", nsp);
	if (!OidIsValid(xact_index))
		elog(ERROR, "index taskauth.revocations_xact_idx does not exist");

	ScanKeyInit(&key, att_xact, BTGreaterEqualStrategyNumber, F_XID8GE,
				FullTransactionIdGetDatum(sets.horizon));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, xact_index, true, snapshot, 1, &key);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		bool		null_session,
					null_user,
					null_at,
					null_expires;
		Datum		session = heap_getattr(tup, att_session, desc, &null_session);
		Datum		user = heap_getattr(tup, att_user, desc, &null_user);
		TimestampTz at = DatumGetTimestampTz(heap_getattr(tup, att_at, desc, &null_at));
		TimestampTz expires = DatumGetTimestampTz(heap_getattr(tup, att_expires, desc, &null_expires));
		bool		ok = true;

		/* not committed yet: read it once it is (the horizon stays at or before this xact) */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			own_rows = true;
			continue;
		}
		if (null_user || null_at || null_expires || expires < now_ts)
			continue;
		if (!null_session)
			ok = ta_revoked_put(sets.sessions, DatumGetUUIDP(session)->data, at, expires);
		else
			ok = ta_revoked_put(sets.users, DatumGetUUIDP(user)->data, at, expires);
		if (!ok)
		{
			systable_endscan(scan);
			UnregisterSnapshot(snapshot);
			table_close(rel, AccessShareLock);
			taskauth_report(TA_ERR_NOMEM);
		}
	}
	systable_endscan(scan);

	/*
	 * Whatever this snapshot did not see was made by a transaction with an id at or past its
	 * xmin; this transaction's own rows, unseen here, by its own id.
	 */
	next_horizon = widen_xid(snapshot->xmin);
	if (FullTransactionIdIsValid(GetTopFullTransactionIdIfAny()) &&
		FullTransactionIdPrecedes(GetTopFullTransactionIdIfAny(), next_horizon))
		next_horizon = GetTopFullTransactionIdIfAny();
	sets.horizon = next_horizon;
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	sets.loaded = true;
	sets_generation++;
	if (full)
		stats.full_loads++;
	else
		stats.loads++;
	sets.synced_reset = reset;
	/* own uncommitted rows, or an invalidation during the read: look again next time */
	sets.synced_generation = own_rows ? generation - 1 : generation;
}

void
taskauth_revocations_sync(void)
{
	Oid			nsp;
	Oid			relid;

	if (sets.loaded && sets.synced_generation == taskauth_generation(TA_SOURCE_REVOCATIONS))
	{
		TimestampTz now_ts;

		if (ta_revoked_count(sets.sessions) + ta_revoked_count(sets.users) == 0)
			return;
		now_ts = GetCurrentStatementStartTimestamp();
		if (now_ts >= sets.next_sweep)
		{
			ta_revoked_sweep(sets.sessions, now_ts);
			ta_revoked_sweep(sets.users, now_ts);
			sets_generation++;
			stats.sweeps++;
			sets.next_sweep = now_ts + SWEEP_INTERVAL_USECS;
		}
		return;
	}

	/*
	 * Before ALTER EXTENSION ... UPDATE has created the table (a newer library under an older
	 * install script), nothing can have been revoked.
	 */
	nsp = get_namespace_oid("taskauth", true);
	relid = taskauth_cache_watch(TA_SOURCE_REVOCATIONS);
	(void) taskauth_cache_watch(TA_SOURCE_REVOCATIONS_RESET);
	if (!OidIsValid(relid))
	{
		if (sets.sessions != NULL)
			ta_revoked_clear(sets.sessions);
		if (sets.users != NULL)
			ta_revoked_clear(sets.users);
		sets.loaded = false;
		sets_generation++;
		return;
	}
	revocations_load(nsp, relid, !sets.loaded);
}

void
taskauth_revocation_stats(TaskauthRevocationStats *out)
{
	out->full_loads = stats.full_loads;
	out->loads = stats.loads;
	out->sweeps = stats.sweeps;
	out->sessions = sets.sessions ? ta_revoked_count(sets.sessions) : 0;
	out->users = sets.users ? ta_revoked_count(sets.users) : 0;
	out->bytes = (sets.sessions ? ta_revoked_memory(sets.sessions) : 0) +
		(sets.users ? ta_revoked_memory(sets.users) : 0);
}

/* The sets' generation: unchanged since a token was found unrevoked, it still is. */
uint64
taskauth_revoked_sets_generation(void)
{
	return sets_generation;
}

/* Unix seconds (a token's iat) as a PostgreSQL timestamp, saturating. */
static TimestampTz
unix_to_timestamp(double secs)
{
	double		us = (secs - (double) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) *
		USECS_PER_SEC;

	if (us >= (double) PG_INT64_MAX)
		return PG_INT64_MAX;
	if (us <= (double) PG_INT64_MIN)
		return PG_INT64_MIN;
	return (TimestampTz) us;
}

bool
taskauth_token_revoked(const uint8 *sub, const uint8 *sid, bool has_iat, double iat)
{
	TimestampTz now_ts;
	int64		revoked_at;

	if (!sets.loaded)
		return false;			/* no revocations table yet */
	if (ta_revoked_count(sets.sessions) + ta_revoked_count(sets.users) == 0)
		return false;
	now_ts = GetCurrentStatementStartTimestamp();
	if (sid != NULL && ta_revoked_get(sets.sessions, sid, now_ts, NULL))
		return true;
	if (ta_revoked_get(sets.users, sub, now_ts, &revoked_at))
	{
		/* iat has whole seconds: a token of the revoking second itself is refused too */
		if (!has_iat || unix_to_timestamp(iat) < revoked_at)
			return true;
	}
	return false;
}

/*
 * Whether a DELETE's transition table holds a row that had not expired: one that backends may
 * still refuse a token by, so that they must read the table again (an un-revocation). prune()
 * deletes only rows past expires_at plus leeway, which every backend ignores already.
 */
static bool
removed_any_live(Relation rel, Tuplestorestate *removed)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	att_expires = column(desc, "expires_at");
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	TimestampTz now_ts = GetCurrentTimestamp();
	bool		live = false;

	tuplestore_rescan(removed);
	while (!live && tuplestore_gettupleslot(removed, true, false, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, att_expires, &isnull);

		live = isnull || DatumGetTimestampTz(d) >= now_ts;
	}
	ExecDropSingleTupleTableSlot(slot);
	return live;
}

/*
 * Statement trigger on taskauth.revocations: new rows make every backend read past its last
 * number; anything else (prune, DELETE, UPDATE, TRUNCATE) makes every backend read all again.
 */
PG_FUNCTION_INFO_V1(taskauth_revocations_changed);
Datum
taskauth_revocations_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			reset;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "taskauth_revocations_changed must be called as a trigger");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		CacheInvalidateRelcache(trigdata->tg_relation);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) && trigdata->tg_oldtable != NULL &&
			 !removed_any_live(trigdata->tg_relation, trigdata->tg_oldtable))
	{
		/* every row removed had expired: no backend can refuse a token by it any more */
	}
	else
	{
		reset = get_relname_relid("revocations_seq",
								  RelationGetNamespace(trigdata->tg_relation));
		if (!OidIsValid(reset))
			elog(ERROR, "sequence taskauth.revocations_seq does not exist");
		CacheInvalidateRelcacheByRelid(reset);
	}
	return PointerGetDatum(NULL);
}
