/*
 * ta_alloc.h: where the core's long-lived memory comes from. Postgres-free.
 *
 * The core keeps state across calls (the verified-token cache, the revoked sets, parsed keys).
 * By default that memory comes from malloc; the server's glue hands the core an allocator of its
 * own once, at load, so that all of it lives in one memory context the server can show
 * (pg_backend_memory_contexts). Memory that OpenSSL allocates for its own objects stays
 * OpenSSL's.
 */
#ifndef TASKAUTH_TA_ALLOC_H
#define TASKAUTH_TA_ALLOC_H

#include <stddef.h>

typedef struct ta_allocator
{
	/* size bytes, or NULL when out of memory; never raises */
	void	   *(*alloc) (void *arg, size_t size);
	/* never called with NULL */
	void		(*free) (void *arg, void *ptr);
	void	   *arg;
} ta_allocator;

/*
 * Use a for every allocation from now on (NULL: malloc and free again). Call it before the core
 * has allocated anything: memory is freed by the allocator it came from only if that is still
 * the current one.
 */
extern void ta_set_allocator(const ta_allocator *a);

/* size bytes, or NULL. */
extern void *ta_malloc(size_t size);

/* n * size zeroed bytes, or NULL (also when the product overflows). */
extern void *ta_calloc(size_t n, size_t size);

/* Free what ta_malloc or ta_calloc gave; NULL is allowed. */
extern void ta_free(void *ptr);

#endif
