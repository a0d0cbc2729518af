/*
 * revoked.c: the sets of revoked ids described in revoked.h.
 *
 * One table layout: a header and its slots in one block, with no pointers, so that a table can
 * live in shared memory. Slots hold the id and its two times; an empty slot has expires == EMPTY.
 * At most 3/4 of the slots are used, so probes stay short and a lookup always meets an empty
 * slot. Deleting (a sweep) moves later entries of the probe run back into the hole (backward
 * shift), so there are no tombstones. The slot for a hash is chosen by multiplying into the
 * table size (no power of two needed).
 */
#include "core/revoked.h"
#include "core/ta_alloc.h"

#include <string.h>

#define EMPTY INT64_MIN
#define MIN_CAPACITY 48

typedef struct slot
{
	uint8_t		id[16];
	int64_t		at;
	int64_t		expires;
} slot;

struct ta_rset
{
	uint64_t	nslots;
	uint64_t	capacity;		/* at most 3/4 of nslots, and less than it */
	uint64_t	count;
	slot		slots[];
};

struct ta_revoked
{
	ta_rset    *table;
};

/*
 * The ids are UUIDs made by the server (sessions: random version 4) or users' ids; a
 * multiply-and-fold of both halves spreads them well. Ids enter the set only through revocations
 * made by the server or its owner, so a keyed hash against chosen collisions is not needed.
 */
static inline uint64_t
id_hash(const uint8_t id[16])
{
	uint64_t	a,
				b;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	a ^= b * UINT64_C(0x9e3779b97f4a7c15);
	a ^= a >> 32;
	a *= UINT64_C(0xd6e8feb86659fd93);
	a ^= a >> 32;
	return a;
}

static inline size_t
home_of(const ta_rset *s, const uint8_t id[16])
{
	return (size_t) (((unsigned __int128) id_hash(id) * s->nslots) >> 64);
}

static inline size_t
next_slot(const ta_rset *s, size_t i)
{
	return (i + 1 == s->nslots) ? 0 : i + 1;
}

size_t
ta_rset_size(size_t capacity)
{
	size_t		nslots;

	if (capacity > (SIZE_MAX - sizeof(ta_rset)) / sizeof(slot) / 2)
		return 0;
	/* capacity * 4 <= nslots * 3 and capacity < nslots */
	nslots = capacity + (capacity + 2) / 3 + 1;
	return sizeof(ta_rset) + nslots * sizeof(slot);
}

ta_rset *
ta_rset_init(void *mem, size_t bytes)
{
	ta_rset    *s = mem;
	size_t		nslots;

	if (mem == NULL || bytes < sizeof(ta_rset) + 4 * sizeof(slot))
		return NULL;
	nslots = (bytes - sizeof(ta_rset)) / sizeof(slot);
	s->nslots = nslots;
	s->capacity = nslots * 3 / 4;
	if (s->capacity >= nslots)
		s->capacity = nslots - 1;
	ta_rset_clear(s);
	return s;
}

size_t
ta_rset_capacity(const ta_rset *s)
{
	return (size_t) s->capacity;
}

void
ta_rset_clear(ta_rset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		s->slots[i].expires = EMPTY;
	s->count = 0;
}

size_t
ta_rset_count(const ta_rset *s)
{
	return s == NULL ? 0 : (size_t) s->count;
}

/* The slot holding id, or the empty slot where it would go. */
static slot *
probe(const ta_rset *s, const uint8_t id[16])
{
	size_t		i = home_of(s, id);

	/* ta_rset_init sets every slot's expires, which the analyzer cannot follow */
	while (s->slots[i].expires != EMPTY)	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	{
		if (memcmp(s->slots[i].id, id, 16) == 0)
			break;
		i = next_slot(s, i);
	}
	return (slot *) &s->slots[i];
}

bool
ta_rset_put(ta_rset *s, const uint8_t id[16], int64_t at, int64_t expires)
{
	slot	   *e;

	if (expires == EMPTY)
		expires = EMPTY + 1;
	e = probe(s, id);
	if (e->expires != EMPTY)
	{
		if (at > e->at)
			e->at = at;
		if (expires > e->expires)
			e->expires = expires;
		return true;
	}
	if (s->count >= s->capacity)
		return false;
	memcpy(e->id, id, 16);
	e->at = at;
	e->expires = expires;
	s->count++;
	return true;
}

bool
ta_rset_get(const ta_rset *s, const uint8_t id[16], int64_t now, int64_t *at)
{
	const slot *e;

	if (s == NULL || s->count == 0)
		return false;
	e = probe(s, id);
	if (e->expires == EMPTY || e->expires < now)
		return false;
	if (at != NULL)
		*at = e->at;
	return true;
}

/*
 * Empty slot i, moving back into it each later entry of the run whose home is not between the
 * hole and that entry (cyclically), so that every entry stays reachable from its home.
 */
static void
remove_at(ta_rset *s, size_t i)
{
	size_t		j = i;

	for (;;)
	{
		size_t		home;
		bool		stays;

		j = next_slot(s, j);
		if (s->slots[j].expires == EMPTY)
			break;
		home = home_of(s, s->slots[j].id);
		/* the entry at j stays when its home lies in (i, j] */
		if (i <= j)
			stays = i < home && home <= j;
		else
			stays = i < home || home <= j;
		if (stays)
			continue;
		s->slots[i] = s->slots[j];
		i = j;
	}
	s->slots[i].expires = EMPTY;
	s->count--;
}

size_t
ta_rset_sweep(ta_rset *s, int64_t now)
{
	size_t		dropped = 0;

	for (size_t i = 0; i < s->nslots;)
	{
		if (s->slots[i].expires != EMPTY && s->slots[i].expires < now)
		{
			/* an entry moved into slot i is looked at next */
			remove_at(s, i);
			dropped++;
		}
		else
			i++;
	}
	/* entries of a run that wrapped round can have been moved behind the scan */
	for (size_t i = 0; i < s->nslots && s->count > 0;)
	{
		if (s->slots[i].expires != EMPTY && s->slots[i].expires < now)
		{
			remove_at(s, i);
			dropped++;
		}
		else
			i++;
	}
	return dropped;
}

/* The growing set ---------------------------------------------------------------------------- */

static ta_rset *
table_alloc(size_t capacity)
{
	size_t		bytes = ta_rset_size(capacity);
	void	   *mem = bytes == 0 ? NULL : ta_malloc(bytes);

	if (mem == NULL)
		return NULL;
	return ta_rset_init(mem, bytes);
}

/* Move every entry of s into a new table able to hold capacity ids (at least s's count). */
static bool
resize(ta_revoked *s, size_t capacity)
{
	ta_rset    *old = s->table;
	ta_rset    *fresh = table_alloc(capacity);

	if (fresh == NULL)
		return false;
	for (size_t i = 0; i < old->nslots; i++)
		if (old->slots[i].expires != EMPTY)
			(void) ta_rset_put(fresh, old->slots[i].id, old->slots[i].at, old->slots[i].expires);
	ta_free(old);
	s->table = fresh;
	return true;
}

ta_revoked *
ta_revoked_create(void)
{
	ta_revoked *s = ta_calloc(1, sizeof(ta_revoked));

	if (s == NULL)
		return NULL;
	s->table = table_alloc(MIN_CAPACITY);
	if (s->table == NULL)
	{
		ta_free(s);
		return NULL;
	}
	return s;
}

void
ta_revoked_destroy(ta_revoked *s)
{
	if (s == NULL)
		return;
	ta_free(s->table);
	ta_free(s);
}

void
ta_revoked_clear(ta_revoked *s)
{
	ta_rset_clear(s->table);
}

bool
ta_revoked_put(ta_revoked *s, const uint8_t id[16], int64_t at, int64_t expires)
{
	if (ta_rset_put(s->table, id, at, expires))
		return true;
	/* full: grow by half (a put of an id already held never fails) */
	if (s->table->capacity > SIZE_MAX / 2 ||
		!resize(s, (size_t) s->table->capacity + (size_t) s->table->capacity / 2))
		return false;
	return ta_rset_put(s->table, id, at, expires);
}

bool
ta_revoked_get(const ta_revoked *s, const uint8_t id[16], int64_t now, int64_t *at)
{
	return s != NULL && ta_rset_get(s->table, id, now, at);
}

size_t
ta_revoked_sweep(ta_revoked *s, int64_t now)
{
	size_t		dropped = ta_rset_sweep(s->table, now);
	size_t		count = (size_t) s->table->count;
	size_t		want = count + count / 2;

	if (want < MIN_CAPACITY)
		want = MIN_CAPACITY;
	/* more than half empty now: give memory back (out of memory: keep the larger table) */
	if (dropped > 0 && count * 2 < s->table->capacity && want < s->table->capacity)
		(void) resize(s, want);
	return dropped;
}

size_t
ta_revoked_count(const ta_revoked *s)
{
	return s == NULL ? 0 : (size_t) s->table->count;
}

size_t
ta_revoked_memory(const ta_revoked *s)
{
	return s == NULL ? 0 : sizeof(*s) + ta_rset_size((size_t) s->table->capacity);
}
