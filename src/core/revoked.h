/*
 * revoked.h: a set of revoked ids (16-byte UUIDs: sessions or users), each with the time it was
 * revoked at and the time after which it can refuse nothing more. Postgres-free.
 *
 * authenticate() looks a token's session and user up here on every use, so a lookup is a few
 * probes of an open-addressing table (linear probing) and costs next to nothing when the set is
 * empty. Times are opaque 64-bit numbers to this file (the glue uses PostgreSQL timestamps, in
 * microseconds). Memory: 32 bytes a slot, at most 4/3 slots per id plus a little.
 */
#ifndef TASKAUTH_REVOKED_H
#define TASKAUTH_REVOKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ta_revoked ta_revoked;

/* An empty set, or NULL when out of memory. */
extern ta_revoked *ta_revoked_create(void);

/* Free the set. NULL is allowed. */
extern void ta_revoked_destroy(ta_revoked *s);

/* Remove every id, keeping the memory. */
extern void ta_revoked_clear(ta_revoked *s);

/*
 * Add an id revoked at `at` whose last refusable token expires at `expires`; an id already
 * present keeps the later of each. False, changing nothing, when out of memory.
 */
extern bool ta_revoked_put(ta_revoked *s, const uint8_t id[16], int64_t at, int64_t expires);

/*
 * Whether an id is in the set and not expired at `now` (an entry whose expires equals now still
 * counts); when it is, *at (if not NULL) receives its revocation time.
 */
extern bool ta_revoked_get(const ta_revoked *s, const uint8_t id[16], int64_t now, int64_t *at);

/* Drop every entry expired at `now` (expires < now); returns how many were dropped. */
extern size_t ta_revoked_sweep(ta_revoked *s, int64_t now);

/* Ids held. */
extern size_t ta_revoked_count(const ta_revoked *s);

/* Bytes allocated for the set. */
extern size_t ta_revoked_memory(const ta_revoked *s);

#endif
