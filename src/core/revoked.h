/*
 * revoked.h: a set of revoked ids (16-byte UUIDs: sessions or users), each with the time it was
 * revoked at and the time after which it can refuse nothing more. Postgres-free.
 *
 * authenticate() looks a token's session and user up here on every use, so a lookup is a few
 * probes of an open-addressing table (linear probing) and costs next to nothing when the set is
 * empty. Times are opaque 64-bit numbers to this file (the glue uses PostgreSQL timestamps, in
 * microseconds). Memory: 32 bytes a slot, at most 4/3 slots per id plus a little.
 *
 * Two forms share one table layout:
 * - ta_rset, a table of fixed size laid out in memory the caller gives (no pointers inside, so
 *   it can live in shared memory mapped at different addresses); put fails when it is full;
 * - ta_revoked, which owns a ta_rset and moves to a larger one as it fills.
 */
#ifndef TASKAUTH_REVOKED_H
#define TASKAUTH_REVOKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fixed-size table ------------------------------------------------------------------------ */

typedef struct ta_rset ta_rset;

/* Bytes a ta_rset able to hold `capacity` ids needs (0 when that overflows size_t). */
extern size_t ta_rset_size(size_t capacity);

/* Lay an empty set out in `bytes` bytes at mem (8-byte aligned); NULL when too small. */
extern ta_rset *ta_rset_init(void *mem, size_t bytes);

/* Ids the set can hold. */
extern size_t ta_rset_capacity(const ta_rset *s);

/*
 * Add an id revoked at `at` whose last refusable token expires at `expires`; an id already
 * present keeps the later of each. False, changing nothing, when the set is full.
 */
extern bool ta_rset_put(ta_rset *s, const uint8_t id[16], int64_t at, int64_t expires);

/*
 * Whether an id is in the set and not expired at `now` (an entry whose expires equals now still
 * counts); when it is, *at (if not NULL) receives its revocation time.
 */
extern bool ta_rset_get(const ta_rset *s, const uint8_t id[16], int64_t now, int64_t *at);

/* Drop every entry expired at `now` (expires < now), in place; returns how many were dropped. */
extern size_t ta_rset_sweep(ta_rset *s, int64_t now);

/* Remove every id. */
extern void ta_rset_clear(ta_rset *s);

/* Ids held. */
extern size_t ta_rset_count(const ta_rset *s);

/* A growing set ---------------------------------------------------------------------------- */

typedef struct ta_revoked ta_revoked;

/* An empty set, or NULL when out of memory. */
extern ta_revoked *ta_revoked_create(void);

/* Free the set. NULL is allowed. */
extern void ta_revoked_destroy(ta_revoked *s);

/* Remove every id, keeping the memory. */
extern void ta_revoked_clear(ta_revoked *s);

/* As ta_rset_put, growing the table; false, changing nothing, when out of memory. */
extern bool ta_revoked_put(ta_revoked *s, const uint8_t id[16], int64_t at, int64_t expires);

/* As ta_rset_get; a NULL set holds nothing. */
extern bool ta_revoked_get(const ta_revoked *s, const uint8_t id[16], int64_t now, int64_t *at);

/* Drop every entry expired at `now`, shrinking the table when it has become mostly empty. */
extern size_t ta_revoked_sweep(ta_revoked *s, int64_t now);

/* Ids held. */
extern size_t ta_revoked_count(const ta_revoked *s);

/* Bytes allocated for the set. */
extern size_t ta_revoked_memory(const ta_revoked *s);

#endif
