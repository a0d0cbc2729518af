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
 * Where the sets live: once per server when this database has a shared area
 * (revocation_shared.c), otherwise in each backend. With an area, one backend at a time reads
 * the table into it (load_lock), and a backend that learns of new rows (its generation moved)
 * waits for a load that began after it learnt: its own, or one already running that began later.
 * Loads are numbered when they begin, so that a backend reads the number before it waits and
 * compares it with the last load completed; many backends learning of one sign-out share one
 * read. A new backend needs only the rows past the area's horizon. Un-revocations (rows removed
 * before they expired) are counted in the area at commit, and make the next load a full one.
 * Lookups take the area's lock shared; a full load fills the sets under it held exclusively, so
 * a lookup never sees them half filled. When the rows do not fit, the area is marked unusable
 * and every backend of the database goes back to sets of its own.
 *
 * Rows are read with a direct index scan, which needs no SQL privilege (API roles cannot read
 * the table), and the latest snapshot, like the key cache (keys.c). Rows the current transaction
 * wrote are not taken until it commits: a revocation rolled back must not stay in the set.
 * Entries are dropped from memory once every token they could refuse has expired.
 */
#include "revocation.h"

#include "taskauth.h"
#include "cache.h"
#include "revocation_shared.h"

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
#include "utils/memutils.h"
#include "utils/xid8.h"

/* taskauth.revocation_retention */
#define DEFAULT_REVOCATION_RETENTION (7 * 24 * 60 * 60)
static int	revocation_retention = DEFAULT_REVOCATION_RETENTION;

/* This backend's own revoked sets (core/revoked.c, in the caches' context), and how far they have read. */
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

/* This backend's view of the shared area, when it uses one (NULL: its own sets). */
static struct
{
	TaskauthRevArea *area;
	bool		synced;			/* the area held what this backend had learnt of, last time */
	uint64		synced_generation;
	uint64		synced_reset;
}			shared;

/* What backend_stats() reports: reads of the table (all of it, or what is new), sweeps. */
static struct
{
	uint64		full_loads;
	uint64		loads;
	uint64		sweeps;
}			stats;

/*
 * The own sets' generation: it moves whenever the sets may have gained an entry (any load, clear
 * or sweep), so that a token found unrevoked under one value needs no lookup while the value
 * stands (an entry only ever leaves the sets once no token it covers can still be valid).
 */
static uint64 sets_generation = 1;

/* An un-revocation was made in this transaction: tell this shared area at commit. */
static TaskauthRevArea *unrevoked_in_xact;

/* A revocation row as read. */
typedef struct RevRow
{
	uint8		id[16];
	bool		user;
	TimestampTz at;
	TimestampTz expires;
} RevRow;

typedef struct RevRows
{
	RevRow	   *rows;
	Size		count;
	Size		allocated;
	FullTransactionId next_horizon;
	bool		own_rows;		/* rows of this transaction, not yet committed, were skipped */
} RevRows;

/* How often expired entries are swept out of memory. */
#define SWEEP_INTERVAL_USECS (60 * USECS_PER_SEC)

/*
 * At the end of a transaction that removed revocations before they expired: once it has
 * committed (and is visible), count it in the area, so that every backend's next use of the
 * area begins with a full load, including backends that start after the invalidation was sent.
 * Only an area already attached is touched: nothing here may fail.
 */
static void
unrevoked_at_commit(XactEvent event, void *arg)
{
	TaskauthRevArea *a;

	if (!unrevoked_in_xact)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	a = unrevoked_in_xact;
	unrevoked_in_xact = NULL;
	if (event != XACT_EVENT_COMMIT)
		return;
	LWLockAcquire(&a->lock, LW_EXCLUSIVE);
	a->unrevocations++;
	LWLockRelease(&a->lock);
}

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
	TaskauthRevAreaInit();
	RegisterXactCallback(unrevoked_at_commit, NULL);
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

/*
 * Read the revocations made at or past `from` that have not expired, with the latest snapshot,
 * into rows (in the current memory context), and the horizon for the next read.
 */
static void
read_rows(Oid nsp, Relation rel, FullTransactionId from, RevRows *out)
{
	Oid			xact_index;
	Snapshot	snapshot;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	att_xact = column(desc, "xact"),
				att_session = column(desc, "session_id"),
				att_user = column(desc, "user_id"),
				att_at = column(desc, "revoked_at"),
				att_expires = column(desc, "expires_at");
	FullTransactionId next_horizon;
	TimestampTz now_ts = GetCurrentTimestamp();

	xact_index = get_relname_relid("revocations_xact_idx", nsp);
	if (!OidIsValid(xact_index))
		elog(ERROR, "index taskauth.revocations_xact_idx does not exist");
	out->count = 0;
	out->allocated = 64;
	out->rows = MemoryContextAllocHuge(CurrentMemoryContext, out->allocated * sizeof(RevRow));
	out->own_rows = false;

	ScanKeyInit(&key, att_xact, BTGreaterEqualStrategyNumber, F_XID8GE,
				FullTransactionIdGetDatum(from));
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
		RevRow	   *r;

		/* not committed yet: read it once it is (the horizon stays at or before this xact) */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			out->own_rows = true;
			continue;
		}
		if (null_user || null_at || null_expires || expires < now_ts)
			continue;
		if (out->count == out->allocated)
		{
			out->allocated *= 2;
			out->rows = repalloc_huge(out->rows, out->allocated * sizeof(RevRow));
		}
		r = &out->rows[out->count++];
		r->user = null_session;
		memcpy(r->id, DatumGetUUIDP(null_session ? user : session)->data, 16);
		r->at = at;
		r->expires = expires;
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
	out->next_horizon = next_horizon;
	UnregisterSnapshot(snapshot);
}

/* A context for the rows of one read, deleted after it (or with the transaction, on error). */
static MemoryContext
read_context(void)
{
	/* NOLINTNEXTLINE(bugprone-implicit-widening-of-multiplication-result): PostgreSQL's macros */
	return AllocSetContextCreate(CurrentMemoryContext, "taskauth revocations read", ALLOCSET_DEFAULT_SIZES);
}

/* Read revocations made at or past the horizon (all of them when full) into this backend's sets. */
static void
local_load(Oid nsp, Relation rel, bool full, uint64 generation, uint64 reset)
{
	RevRows		rows;
	MemoryContext work = read_context();
	MemoryContext old;

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

	old = MemoryContextSwitchTo(work);
	read_rows(nsp, rel, sets.horizon, &rows);
	MemoryContextSwitchTo(old);
	for (Size i = 0; i < rows.count; i++)
	{
		RevRow	   *r = &rows.rows[i];

		if (!ta_revoked_put(r->user ? sets.users : sets.sessions, r->id, r->at, r->expires))
		{
			MemoryContextDelete(work);
			taskauth_report(TA_ERR_NOMEM);
		}
	}
	sets.horizon = rows.next_horizon;
	sets.loaded = true;
	sets_generation++;
	if (full)
	{
		/* what was just read holds nothing expired: no sweep is due for a while */
		sets.next_sweep = GetCurrentStatementStartTimestamp() + SWEEP_INTERVAL_USECS;
		stats.full_loads++;
	}
	else
		stats.loads++;
	sets.synced_reset = reset;
	/* own uncommitted rows, or an invalidation during the read: look again next time */
	sets.synced_generation = rows.own_rows ? generation - 1 : generation;
	MemoryContextDelete(work);
}

/*
 * Bring the shared area up to what this backend has learnt of: wait for a load that began after
 * now, or do one. False when the area cannot be used (the rows did not fit).
 */
static bool
shared_load(TaskauthRevArea *a, Oid nsp, Relation rel, bool full, uint64 generation, uint64 reset)
{
	uint64		seen_loads,
				seen_full_loads;
	bool		covered;
	bool		own_rows = false;

	/* loads numbered past these began after this backend learnt what it needs */
	pg_memory_barrier();
	seen_loads = pg_atomic_read_u64(&a->loads_begun);
	seen_full_loads = pg_atomic_read_u64(&a->full_loads_begun);

	LWLockAcquire(&a->load_lock, LW_EXCLUSIVE);
	if (!a->usable)
	{
		LWLockRelease(&a->load_lock);
		return false;
	}
	if (!a->loaded || a->unrevocations != a->unrevocations_loaded)
	{
		full = true;
		covered = false;
	}
	else if (full)
		covered = a->last_full_load_done > seen_full_loads;
	else
		covered = a->last_load_done > seen_loads;
	if (!covered)
	{
		uint64		number = pg_atomic_add_fetch_u64(&a->loads_begun, 1);
		uint64		full_number = full ? pg_atomic_add_fetch_u64(&a->full_loads_begun, 1) : 0;
		uint64		unrevocations;
		RevRows		rows;
		MemoryContext work = read_context();
		MemoryContext old;
		bool		fits = true;

		LWLockAcquire(&a->lock, LW_SHARED);
		unrevocations = a->unrevocations;
		LWLockRelease(&a->lock);
		old = MemoryContextSwitchTo(work);
		read_rows(nsp, rel, full ? FullTransactionIdFromEpochAndXid(0, 0) : a->horizon, &rows);
		MemoryContextSwitchTo(old);
		own_rows = rows.own_rows;

		LWLockAcquire(&a->lock, LW_EXCLUSIVE);
		if (full)
		{
			ta_rset_clear(taskauth_rev_area_set(a, false));
			ta_rset_clear(taskauth_rev_area_set(a, true));
		}
		for (Size i = 0; i < rows.count && fits; i++)
			fits = ta_rset_put(taskauth_rev_area_set(a, rows.rows[i].user), rows.rows[i].id,
							   rows.rows[i].at, rows.rows[i].expires);
		if (!fits)
		{
			a->usable = false;
			a->loaded = false;
		}
		else
		{
			a->horizon = rows.next_horizon;
			a->loaded = true;
			a->last_load_done = number;
			if (full)
			{
				a->last_full_load_done = full_number;
				a->unrevocations_loaded = unrevocations;
				a->full_loads++;
			}
			else
				a->loads++;
		}
		pg_atomic_add_fetch_u64(&a->generation, 1);
		LWLockRelease(&a->lock);
		LWLockRelease(&a->load_lock);
		MemoryContextDelete(work);
		if (!fits)
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("taskauth: the revocations do not fit in shared memory; each backend keeps its own"),
					 errdetail("The area holds %llu revoked sessions and a quarter as many users.",
							   (unsigned long long) a->capacity),
					 errhint("Raise taskauth.shared_revocations.")));
			return false;
		}
		if (full)
			stats.full_loads++;
		else
			stats.loads++;
	}
	else
		LWLockRelease(&a->load_lock);
	shared.synced = true;
	shared.synced_reset = reset;
	/* own uncommitted rows, or an invalidation during the read: look again next time */
	shared.synced_generation = own_rows ? generation - 1 : generation;
	return true;
}

/* Drop expired entries from the area, at most once a sweep interval for the whole server. */
static void
shared_sweep(TaskauthRevArea *a)
{
	TimestampTz now_ts = GetCurrentStatementStartTimestamp();

	if (now_ts < a->next_sweep)
		return;
	LWLockAcquire(&a->lock, LW_EXCLUSIVE);
	if (now_ts >= a->next_sweep)
	{
		ta_rset_sweep(taskauth_rev_area_set(a, false), now_ts);
		ta_rset_sweep(taskauth_rev_area_set(a, true), now_ts);
		pg_atomic_add_fetch_u64(&a->generation, 1);
		a->sweeps++;
		a->next_sweep = now_ts + SWEEP_INTERVAL_USECS;
		stats.sweeps++;
	}
	LWLockRelease(&a->lock);
}

/* Sweep this backend's own sets now and then. */
static void
local_sweep(void)
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
}

/* Whether the area's contents cover what this backend has learnt of. */
static bool
shared_current(TaskauthRevArea *a)
{
	/* plain reads: a stale value only sends this backend to the loader, which reads under locks */
	return shared.synced && a->usable && a->loaded &&
		a->unrevocations == a->unrevocations_loaded &&
		shared.synced_generation == taskauth_generation(TA_SOURCE_REVOCATIONS) &&
		shared.synced_reset == taskauth_generation(TA_SOURCE_REVOCATIONS_RESET);
}

/* Read the table into the sets this backend uses; relid is the table's. */
static void
revocations_load(Oid nsp, Oid relid)
{
	Relation	rel;
	uint64		generation;
	uint64		reset;
	TaskauthRevArea *a = taskauth_rev_area();

	/* opening the table processes pending invalidations; later ones will mark this load stale */
	rel = table_open(relid, AccessShareLock);
	generation = taskauth_generation(TA_SOURCE_REVOCATIONS);
	reset = taskauth_generation(TA_SOURCE_REVOCATIONS_RESET);
	if (a != NULL && a->usable &&
		shared_load(a, nsp, rel, shared.synced && reset != shared.synced_reset, generation, reset))
	{
		shared.area = a;
		table_close(rel, AccessShareLock);
		return;
	}
	if (shared.area != NULL)
	{
		/* leaving the area: this backend's own sets start from nothing */
		shared.area = NULL;
		shared.synced = false;
		sets.loaded = false;
		sets_generation++;
	}
	local_load(nsp, rel, !sets.loaded, generation, reset);
	table_close(rel, AccessShareLock);
}

void
taskauth_revocations_sync(void)
{
	Oid			nsp;
	Oid			relid;

	if (shared.area != NULL && shared_current(shared.area))
	{
		shared_sweep(shared.area);
		return;
	}
	if (shared.area == NULL && sets.loaded &&
		sets.synced_generation == taskauth_generation(TA_SOURCE_REVOCATIONS) &&
		sets.synced_reset == taskauth_generation(TA_SOURCE_REVOCATIONS_RESET))
	{
		local_sweep();
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
		shared.area = NULL;
		shared.synced = false;
		sets_generation++;
		return;
	}
	revocations_load(nsp, relid);
}

void
taskauth_revocation_stats(TaskauthRevocationStats *out)
{
	TaskauthRevArea *a = shared.area;

	out->full_loads = stats.full_loads;
	out->loads = stats.loads;
	out->sweeps = stats.sweeps;
	out->bytes = (sets.sessions ? ta_revoked_memory(sets.sessions) : 0) +
		(sets.users ? ta_revoked_memory(sets.users) : 0);
	out->shared = a != NULL;
	out->shared_bytes = 0;
	out->shared_missing = a != NULL ? NULL : taskauth_rev_area_missing();
	if (a != NULL)
	{
		LWLockAcquire(&a->lock, LW_SHARED);
		out->sessions = ta_rset_count(taskauth_rev_area_set(a, false));
		out->users = ta_rset_count(taskauth_rev_area_set(a, true));
		out->shared_bytes = a->size;
		LWLockRelease(&a->lock);
	}
	else
	{
		out->sessions = sets.sessions ? ta_revoked_count(sets.sessions) : 0;
		out->users = sets.users ? ta_revoked_count(sets.users) : 0;
	}
}

/* The sets' generation: unchanged since a token was found unrevoked, it still is. */
uint64
taskauth_revoked_sets_generation(void)
{
	/* odd for the shared area, even for the own sets: a switch between them always moves it */
	if (shared.area != NULL)
		return pg_atomic_read_u64(&shared.area->generation) * 2 + 1;
	return sets_generation * 2;
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

/* Look an id up in the area or the own sets (the area's lock held shared by the caller). */
static bool
lookup(bool user, const uint8 *id, TimestampTz now_ts, int64 *at)
{
	if (shared.area != NULL)
		return ta_rset_get(taskauth_rev_area_set(shared.area, user), id, now_ts, at);
	return ta_revoked_get(user ? sets.users : sets.sessions, id, now_ts, at);
}

bool
taskauth_token_revoked(const uint8 *sub, const uint8 *sid, bool has_iat, double iat)
{
	TimestampTz now_ts;
	int64		revoked_at;
	bool		revoked = false;
	TaskauthRevArea *a = shared.area;

	if (a != NULL)
	{
		LWLockAcquire(&a->lock, LW_SHARED);
		if (!a->usable)
		{
			/* the area failed since this backend synced: read into its own sets, then look */
			LWLockRelease(&a->lock);
			taskauth_revocations_sync();
			a = shared.area;
			Assert(a == NULL);
		}
	}
	if (a == NULL && !sets.loaded)
		return false;			/* no revocations table yet */
	if (a == NULL && ta_revoked_count(sets.sessions) + ta_revoked_count(sets.users) == 0)
		return false;
	now_ts = GetCurrentStatementStartTimestamp();
	if (sid != NULL && lookup(false, sid, now_ts, NULL))
		revoked = true;
	else if (lookup(true, sub, now_ts, &revoked_at))
	{
		/* iat has whole seconds: a token of the revoking second itself is refused too */
		if (!has_iat || unix_to_timestamp(iat) < revoked_at)
			revoked = true;
	}
	if (a != NULL)
		LWLockRelease(&a->lock);
	return revoked;
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
		/* every area of this database reads all again once this commits (unrevoked_at_commit) */
		unrevoked_in_xact = taskauth_rev_area();
		reset = get_relname_relid("revocations_seq",
								  RelationGetNamespace(trigdata->tg_relation));
		if (!OidIsValid(reset))
			elog(ERROR, "sequence taskauth.revocations_seq does not exist");
		CacheInvalidateRelcacheByRelid(reset);
	}
	return PointerGetDatum(NULL);
}
