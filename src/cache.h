/*
 * cache.h: the one owner of taskauth's per-backend state (src/cache.c).
 *
 * Every cache a backend keeps across transactions (verified tokens, the server's keys, keyed
 * MAC contexts, parsed public keys, issuers, the revoked sets) takes its memory from one memory
 * context, "taskauth", which pg_backend_memory_contexts shows; the core's allocations go there
 * too (core/ta_alloc.h).
 *
 * What a cache holds is derived from tables. When one of them changes in any backend, a relcache
 * invalidation for it arrives (sent by the table's statement trigger), and the callback here
 * advances that source's generation. A cache records the generation it was filled under and
 * starts again when the generation has moved: nothing is freed inside the callback, and every
 * cache is invalidated the same way.
 */
#ifndef TASKAUTH_CACHE_H
#define TASKAUTH_CACHE_H

#include "postgres.h"

#include "core/token_cache.h"

/* The tables whose changes caches follow. */
typedef enum TaskauthSource
{
	TA_SOURCE_SIGNING_KEYS,		/* taskauth.signing_keys */
	TA_SOURCE_ISSUERS,			/* taskauth.issuers */
	TA_SOURCE_REVOCATIONS,		/* taskauth.revocations: rows were added */
	TA_SOURCE_REVOCATIONS_RESET,	/* taskauth.revocations_seq: revocations were removed or
									 * rewritten (its generation moving also moves
									 * TA_SOURCE_REVOCATIONS') */
	TA_NUM_SOURCES
} TaskauthSource;

/* The context every cache allocates from; a child of TopMemoryContext. */
extern MemoryContext TaskauthCacheContext;

/* The source's generation: it moves whenever the source's table may have changed. */
extern uint64 taskauth_generation(TaskauthSource source);

/*
 * The generation of everything that verifies tokens (signing keys and issuers): a token verified
 * under another value must be verified again.
 */
extern uint64 taskauth_verifier_generation(void);

/*
 * Note the source's relation, so that its invalidations reach the callback, and return its Oid
 * (InvalidOid when it does not exist): call it before reading the table, inside a transaction.
 * Costs a catalog lookup only the first time, and again after an invalidation of every relation.
 */
extern Oid	taskauth_cache_watch(TaskauthSource source);

/*
 * A cache slot's bookkeeping, the first member of each entry of a small fixed-size cache (a few
 * entries: the keyed MAC contexts, parsed key sets, issuers).
 */
typedef struct TaskauthSlot
{
	bool		used;
	uint64		last_used;		/* a tick of one per-backend counter */
} TaskauthSlot;

/* Whether an entry in use is the one looked for. */
typedef bool (*TaskauthSlotMatch) (const void *entry, const void *key);

/*
 * Look key up among n entries of stride bytes each (each starting with a TaskauthSlot): the
 * matching entry, marked used now; or NULL, with *victim set to the entry to fill (a free one,
 * else the least recently used, which the caller clears).
 */
extern void *taskauth_slot_lookup(void *entries, int n, size_t stride,
								  TaskauthSlotMatch match, const void *key, void **victim);

/* Mark a newly filled entry used now. */
extern void taskauth_slot_fill(TaskauthSlot *slot);

/* The verified-token cache, as taskauth.token_cache_size asks; NULL when it is off. */
extern ta_token_cache *taskauth_token_cache(void);

/* The context, the core's allocator, the invalidation callback and the cache settings. */
extern void TaskauthCacheInit(void);

#endif
