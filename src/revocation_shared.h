/*
 * revocation_shared.h: the revoked sets kept once per server in shared memory, per database
 * (src/revocation_shared.c owns the memory; src/revocation.c the protocol that fills it).
 */
#ifndef TASKAUTH_REVOCATION_SHARED_H
#define TASKAUTH_REVOCATION_SHARED_H

#include "postgres.h"

#include "access/transam.h"
#include "core/revoked.h"
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/lwlock.h"

/*
 * One database's shared revoked sets. `lock` guards the sets and every plain field (shared for a
 * lookup, exclusive to change them); `load_lock` lets one backend at a time read the table into
 * them. The counters of loads begun are atomic so that a backend can read them before it waits.
 */
typedef struct TaskauthRevArea
{
	Oid			database;		/* InvalidOid: a free slot (PostgreSQL 15 and 16) */
	int			tranche;
	LWLock		lock;
	LWLock		load_lock;
	bool		usable;			/* false once a load did not fit: use per-backend sets */
	bool		loaded;			/* the sets hold every revocation made before horizon */
	uint64		unrevocations;	/* committed un-revocations (rows removed that had not expired) */
	uint64		unrevocations_loaded;	/* of which the last completed full load began after */
	FullTransactionId horizon;	/* the next load reads rows with xact at or past it */
	pg_atomic_uint64 loads_begun;	/* loads of either kind, numbered from 1 */
	pg_atomic_uint64 full_loads_begun;
	uint64		last_load_done; /* the number of the last load that completed */
	uint64		last_full_load_done;
	pg_atomic_uint64 generation;	/* moves whenever the sets may have gained an entry */
	TimestampTz next_sweep;
	uint64		full_loads;		/* totals of the whole server, for operators */
	uint64		loads;
	uint64		sweeps;
	uint64		capacity;		/* revoked sessions it holds; users: a quarter, at least 1024 */
	Size		size;			/* bytes of the area, sets included */
	Size		sessions_offset;	/* of the two ta_rset, from the area's start */
	Size		users_offset;
} TaskauthRevArea;

/*
 * This database's area, attached (created on first use), or NULL when there is none: the setting
 * taskauth.shared_revocations is 0, the library was not loaded by shared_preload_libraries
 * (PostgreSQL 15 and 16; 17 and later need not), or every database slot is taken.
 */
extern TaskauthRevArea *taskauth_rev_area(void);

static inline ta_rset *
taskauth_rev_area_set(TaskauthRevArea *a, bool users)
{
	return (ta_rset *) ((char *) a + (users ? a->users_offset : a->sessions_offset));
}

/* Why this backend has no area (for backend_stats and the log); NULL when it has one. */
extern const char *taskauth_rev_area_missing(void);

/* Define the settings, and (PostgreSQL 15 and 16, preloaded) ask for shared memory. */
extern void TaskauthRevAreaInit(void);

#endif
