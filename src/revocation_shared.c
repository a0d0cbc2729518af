/*
 * revocation_shared.c: where the shared revoked sets live (revocation_shared.h).
 *
 * Each database that authenticates gets one area: two fixed-size tables (core/revoked.c) of
 * revoked sessions and users, and the state of the loads that fill them (src/revocation.c). On
 * PostgreSQL 17 and later an area is a named segment of the dynamic shared memory registry,
 * created by the first backend of the database that needs it, so no server setting is needed.
 * On 15 and 16 shared memory can only be reserved at server start: with taskauth in
 * shared_preload_libraries, taskauth.shared_revocation_databases areas are reserved then and
 * each is claimed by the first database to use it. Without an area, a backend keeps its own
 * sets, as before: correct, with the cost per backend that the area saves.
 *
 * An area's size is fixed when it is made: from taskauth.shared_revocations at that moment
 * (server start on 15 and 16). On 17 and later a changed setting makes a new area for the
 * connections that start after the change; the old one stays, unused, until the server stops.
 */
#include "revocation_shared.h"

#include "taskauth.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#endif

/* taskauth.shared_revocations: revoked sessions an area holds (users: a quarter) */
#define DEFAULT_SHARED_REVOCATIONS 131072
static int	shared_revocations = DEFAULT_SHARED_REVOCATIONS;

/* taskauth.shared_revocation_databases: areas reserved at start (PostgreSQL 15 and 16) */
#define DEFAULT_SHARED_REVOCATION_DATABASES 2
static int	shared_revocation_databases = DEFAULT_SHARED_REVOCATION_DATABASES;

#define MIN_USERS_CAPACITY 1024

/* This backend's area, once looked for. */
static struct
{
	TaskauthRevArea *area;
	Oid			database;
	int			capacity;		/* the setting it was looked for under */
	const char *missing;
}			attached;

static uint64
users_capacity(uint64 sessions)
{
	return sessions / 4 < MIN_USERS_CAPACITY ? MIN_USERS_CAPACITY : sessions / 4;
}

/* Bytes of an area holding `capacity` revoked sessions, and where its two tables start. */
static Size
area_size(uint64 capacity, Size *sessions_offset, Size *users_offset)
{
	Size		off = MAXALIGN(sizeof(TaskauthRevArea));

	*sessions_offset = off;
	off = add_size(off, MAXALIGN(ta_rset_size(capacity)));
	*users_offset = off;
	off = add_size(off, MAXALIGN(ta_rset_size(users_capacity(capacity))));
	return off;
}

static void
area_init(TaskauthRevArea *a, uint64 capacity, int tranche)
{
	Size		sessions_offset,
				users_offset;
	Size		size = area_size(capacity, &sessions_offset, &users_offset);

	memset(a, 0, sizeof(*a));
	a->database = InvalidOid;
	a->tranche = tranche;
	LWLockInitialize(&a->lock, tranche);
	LWLockInitialize(&a->load_lock, tranche);
	a->usable = true;
	a->loaded = false;
	a->horizon = FullTransactionIdFromEpochAndXid(0, 0);
	pg_atomic_init_u64(&a->loads_begun, 0);
	pg_atomic_init_u64(&a->full_loads_begun, 0);
	pg_atomic_init_u64(&a->generation, 1);
	a->capacity = capacity;
	a->size = size;
	a->sessions_offset = sessions_offset;
	a->users_offset = users_offset;
	if (ta_rset_init((char *) a + sessions_offset, ta_rset_size(capacity)) == NULL ||
		ta_rset_init((char *) a + users_offset, ta_rset_size(users_capacity(capacity))) == NULL)
		elog(ERROR, "taskauth: could not lay out the shared revoked sets");
}

#if PG_VERSION_NUM >= 170000

static uint64 creating_capacity;

static void
dsm_area_init(void *ptr)
{
	TaskauthRevArea *a = ptr;

	area_init(a, creating_capacity, LWLockNewTrancheId());
	a->database = MyDatabaseId;
}

static TaskauthRevArea *
find_area(void)
{
	char		name[64];
	Size		sessions_offset,
				users_offset;
	bool		found;
	TaskauthRevArea *a;

	snprintf(name, sizeof(name), "taskauth revocations %u %d", MyDatabaseId, shared_revocations);
	creating_capacity = (uint64) shared_revocations;
	a = GetNamedDSMSegment(name, area_size(creating_capacity, &sessions_offset, &users_offset),
						   dsm_area_init, &found);
	LWLockRegisterTranche(a->tranche, "taskauth");
	return a;
}

#else							/* PostgreSQL 15 and 16 */

/* The areas reserved at start, one after another, each slot_size bytes. */
typedef struct AreaSlots
{
	int			count;
	Size		slot_size;
} AreaSlots;

static AreaSlots *slots;
static shmem_request_hook_type prev_shmem_request_hook;
static shmem_startup_hook_type prev_shmem_startup_hook;

static Size
slot_size(void)
{
	Size		s,
				u;

	return MAXALIGN(area_size((uint64) shared_revocations, &s, &u));
}

static Size
slots_size(void)
{
	return add_size(MAXALIGN(sizeof(AreaSlots)), mul_size(slot_size(), shared_revocation_databases));
}

static TaskauthRevArea *
slot_at(int i)
{
	return (TaskauthRevArea *) ((char *) slots + MAXALIGN(sizeof(AreaSlots)) + slots->slot_size * i);
}

static void
request_areas(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	if (shared_revocations > 0 && shared_revocation_databases > 0)
		RequestAddinShmemSpace(slots_size());
}

static void
startup_areas(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (shared_revocations <= 0 || shared_revocation_databases <= 0)
		return;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("taskauth revocations", slots_size(), &found);
	if (!found)
	{
		int			tranche = LWLockNewTrancheId();

		slots->count = shared_revocation_databases;
		slots->slot_size = slot_size();
		for (int i = 0; i < slots->count; i++)
			area_init(slot_at(i), (uint64) shared_revocations, tranche);
	}
	LWLockRelease(AddinShmemInitLock);
}

static TaskauthRevArea *
find_area(void)
{
	TaskauthRevArea *a = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (int i = 0; i < slots->count && a == NULL; i++)
		if (slot_at(i)->database == MyDatabaseId)
			a = slot_at(i);
	for (int i = 0; i < slots->count && a == NULL; i++)
		if (slot_at(i)->database == InvalidOid)
		{
			a = slot_at(i);
			a->database = MyDatabaseId;
		}
	LWLockRelease(AddinShmemInitLock);
	if (a != NULL)
		LWLockRegisterTranche(a->tranche, "taskauth");
	return a;
}

#endif

TaskauthRevArea *
taskauth_rev_area(void)
{
	if (attached.database == MyDatabaseId && attached.capacity == shared_revocations &&
		(attached.area != NULL || attached.missing != NULL))
		return attached.area;
	attached.database = MyDatabaseId;
	attached.capacity = shared_revocations;
	attached.area = NULL;
	attached.missing = NULL;
	if (shared_revocations <= 0)
		attached.missing = "taskauth.shared_revocations is 0";
#if PG_VERSION_NUM < 170000
	else if (slots == NULL)
		attached.missing = "taskauth is not in shared_preload_libraries (needed before PostgreSQL 17)";
#endif
	else
	{
		attached.area = find_area();
		if (attached.area == NULL)
			attached.missing = "every database slot is taken (taskauth.shared_revocation_databases)";
	}
	return attached.area;
}

const char *
taskauth_rev_area_missing(void)
{
	(void) taskauth_rev_area();
	if (attached.area != NULL && !attached.area->usable)
		return "the revocations did not fit (raise taskauth.shared_revocations)";
	return attached.missing;
}

void
TaskauthRevAreaInit(void)
{
	DefineCustomIntVariable("taskauth.shared_revocations",
							"Revoked sessions the shared revoked sets hold per database (users: a quarter).",
							"Revocations are then held once per server instead of once per backend. "
							"0 keeps them per backend. PostgreSQL 15 and 16 need taskauth in "
							"shared_preload_libraries and take the size at server start.",
							&shared_revocations,
							DEFAULT_SHARED_REVOCATIONS, 0, 64 * 1024 * 1024,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.shared_revocation_databases",
							"Databases that can have shared revoked sets (PostgreSQL 15 and 16).",
							"Shared memory for this many databases is reserved at server start when taskauth "
							"is in shared_preload_libraries (read then only); later databases keep revocations per "
							"backend. "
							"PostgreSQL 17 and later make one area per database on first use.",
							&shared_revocation_databases,
							DEFAULT_SHARED_REVOCATION_DATABASES, 0, 1024,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
#if PG_VERSION_NUM < 170000
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = request_areas;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = startup_areas;
	}
#endif
}
