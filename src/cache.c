/*
 * cache.c: the owner of taskauth's per-backend state described in cache.h: its memory context,
 * the generations of the tables caches follow and the callback that moves them, the slot helper
 * of the small caches, the verified-token cache, and backend_stats(), which reports them.
 */
#include "cache.h"

#include "taskauth.h"
#include "issuers.h"
#include "revocation.h"

#include "catalog/namespace.h"
#include "core/ta_alloc.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* taskauth.token_cache_size: verified tokens remembered per backend; 0 turns the cache off. */
#define DEFAULT_TOKEN_CACHE_SIZE 1024
static int	token_cache_size = DEFAULT_TOKEN_CACHE_SIZE;

MemoryContext TaskauthCacheContext = NULL;

/* Each source's table, in the extension's schema, and the Oid it was last found under. */
static const char *const source_relname[TA_NUM_SOURCES] = {
	[TA_SOURCE_SIGNING_KEYS] = "signing_keys",
	[TA_SOURCE_ISSUERS] = "issuers",
	[TA_SOURCE_REVOCATIONS] = "revocations",
	[TA_SOURCE_REVOCATIONS_RESET] = "revocations_seq",
};
static Oid	source_relid[TA_NUM_SOURCES];
static uint64 source_generation[TA_NUM_SOURCES];

/* The tick of the small caches' slots. */
static uint64 slot_tick = 0;

/* The verified-token cache and the size it was made for. */
static ta_token_cache *token_cache = NULL;
static int	token_cache_made_for = 0;

/* An invalidation of one relation, or of every relation (InvalidOid). */
static void
cache_relcache_callback(Datum arg, Oid relid)
{
	for (int s = 0; s < TA_NUM_SOURCES; s++)
	{
		if (relid == InvalidOid || (OidIsValid(source_relid[s]) && relid == source_relid[s]))
		{
			source_generation[s]++;
			if (s == TA_SOURCE_REVOCATIONS_RESET)
				source_generation[TA_SOURCE_REVOCATIONS]++;
			/* the relation may have been dropped and made again: look it up again */
			if (relid == InvalidOid)
				source_relid[s] = InvalidOid;
		}
	}
}

uint64
taskauth_generation(TaskauthSource source)
{
	return source_generation[source];
}

uint64
taskauth_verifier_generation(void)
{
	/* both only grow, so the sum moves whenever either does */
	return source_generation[TA_SOURCE_SIGNING_KEYS] + source_generation[TA_SOURCE_ISSUERS];
}

Oid
taskauth_cache_watch(TaskauthSource source)
{
	if (!OidIsValid(source_relid[source]))
	{
		Oid			nsp = get_namespace_oid("taskauth", true);

		if (OidIsValid(nsp))
			source_relid[source] = get_relname_relid(source_relname[source], nsp);
	}
	return source_relid[source];
}

void *
taskauth_slot_lookup(void *entries, int n, size_t stride, TaskauthSlotMatch match,
					 const void *key, void **victim)
{
	TaskauthSlot *oldest = (TaskauthSlot *) entries;

	for (int i = 0; i < n; i++)
	{
		TaskauthSlot *s = (TaskauthSlot *) ((char *) entries + (size_t) i * stride);

		if (s->used && match(s, key))
		{
			s->last_used = ++slot_tick;
			return s;
		}
		if (oldest->used && (!s->used || s->last_used < oldest->last_used))
			oldest = s;
	}
	*victim = oldest;
	return NULL;
}

void
taskauth_slot_fill(TaskauthSlot *slot)
{
	slot->used = true;
	slot->last_used = ++slot_tick;
}

ta_token_cache *
taskauth_token_cache(void)
{
	if (token_cache != NULL && token_cache_made_for == token_cache_size)
		return token_cache;
	ta_token_cache_destroy(token_cache);
	token_cache = NULL;
	token_cache_made_for = 0;
	if (token_cache_size > 0)
	{
		/* out of memory only costs speed: tokens are then verified every time */
		token_cache = ta_token_cache_create((size_t) token_cache_size);
		if (token_cache != NULL)
			token_cache_made_for = token_cache_size;
	}
	return token_cache;
}

/* The core's allocator: the context, never raising (the core reports NULL as out of memory). */
static void *
cache_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended(TaskauthCacheContext, size,
									  MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE);
}

static void
cache_free(void *arg, void *ptr)
{
	pfree(ptr);
}

void
TaskauthCacheInit(void)
{
	static const ta_allocator allocator = {cache_alloc, cache_free, NULL};

	/* NOLINTNEXTLINE(bugprone-implicit-widening-of-multiplication-result): PostgreSQL's macros */
	TaskauthCacheContext = AllocSetContextCreate(TopMemoryContext, "taskauth", ALLOCSET_DEFAULT_SIZES);
	ta_set_allocator(&allocator);
	CacheRegisterRelcacheCallback(cache_relcache_callback, (Datum) 0);

	DefineCustomIntVariable("taskauth.token_cache_size",
							"Verified tokens that authenticate() remembers in each backend.",
							"A token presented again skips decoding, the MAC and parsing; its exp, nbf and iat "
							"are checked on every use, and any change to the signing keys or the issuer "
							"registry empties the cache; an external issuer's token read from a key table is "
							"verified again once those keys are due to be read again. 0 turns the cache off.",
							&token_cache_size,
							DEFAULT_TOKEN_CACHE_SIZE, 0, 1024 * 1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

/*
 * taskauth.backend_stats(): this backend's caches, for operators and for tests that must show
 * a path was taken (a cache hit, a read of new revocations). Owner only.
 */
PG_FUNCTION_INFO_V1(taskauth_backend_stats);
Datum
taskauth_backend_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[16];
	bool		nulls[16] = {0};
	ta_token_cache_counts tc = {0};
	TaskauthRevocationStats rs;
	int			i = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "backend_stats must return a record");
	desc = BlessTupleDesc(desc);
	if (token_cache != NULL)
		ta_token_cache_counters(token_cache, &tc);
	taskauth_revocation_stats(&rs);
	values[i++] = Int32GetDatum(MyProcPid);
	values[i++] = Int64GetDatum((int64) tc.hits);
	values[i++] = Int64GetDatum((int64) tc.misses);
	values[i++] = Int64GetDatum((int64) tc.evictions);
	values[i++] = Int64GetDatum((int64) tc.entries);
	values[i++] = Int64GetDatum((int64) tc.bytes);
	values[i++] = Int64GetDatum((int64) rs.full_loads);
	values[i++] = Int64GetDatum((int64) rs.loads);
	values[i++] = Int64GetDatum((int64) rs.sweeps);
	values[i++] = Int64GetDatum((int64) rs.sessions);
	values[i++] = Int64GetDatum((int64) rs.users);
	values[i++] = Int64GetDatum((int64) rs.bytes);
	values[i++] = BoolGetDatum(rs.shared);
	values[i++] = Int64GetDatum((int64) rs.shared_bytes);
	nulls[i] = rs.shared_missing == NULL;
	values[i++] = rs.shared_missing ? CStringGetTextDatum(rs.shared_missing) : (Datum) 0;
	values[i++] = Int64GetDatum((int64) taskauth_issuer_key_reads());
	Assert(i == lengthof(values));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
