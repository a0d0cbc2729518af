/*
 * revoked.c: the set of revoked ids described in revoked.h.
 *
 * Slots hold the id and its two times; an empty slot has expires == EMPTY. The table grows by
 * half when it would pass 3/4 full and is rebuilt (never shrunk below its first size) when
 * expired entries are swept, so there are no tombstones: a lookup stops at the first empty slot.
 * The slot for a hash is chosen by multiplying into the table size (no power of two needed).
 */
#include "core/revoked.h"
#include "core/ta_alloc.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY INT64_MIN
#define MIN_SLOTS 64

typedef struct slot
{
	uint8_t		id[16];
	int64_t		at;
	int64_t		expires;
} slot;

struct ta_revoked
{
	slot	   *slots;
	size_t		nslots;
	size_t		count;
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
slot_of(uint64_t h, size_t nslots)
{
	return (size_t) (((unsigned __int128) h * nslots) >> 64);
}

static slot *
slots_alloc(size_t n)
{
	slot	   *s = ta_malloc(n * sizeof(slot));

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i].expires = EMPTY;
	return s;
}

/* Insert into a table known to have room and not to hold the id. */
static void
place(slot *slots, size_t nslots, const slot *e)
{
	size_t		i = slot_of(id_hash(e->id), nslots);

	/* slots_alloc sets every slot's expires, which the analyzer cannot follow through rebuild */
	while (slots[i].expires != EMPTY)	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		i = (i + 1 == nslots) ? 0 : i + 1;
	slots[i] = *e;
}

/* Move every live entry (expires >= keep_from) into a new table of n slots. */
static bool
rebuild(ta_revoked *s, size_t n, int64_t keep_from)
{
	slot	   *fresh = slots_alloc(n);
	size_t		kept = 0;

	if (fresh == NULL)
		return false;
	for (size_t i = 0; i < s->nslots; i++)
	{
		if (s->slots[i].expires != EMPTY && s->slots[i].expires >= keep_from)
		{
			place(fresh, n, &s->slots[i]);
			kept++;
		}
	}
	ta_free(s->slots);
	s->slots = fresh;
	s->nslots = n;
	s->count = kept;
	return true;
}

ta_revoked *
ta_revoked_create(void)
{
	ta_revoked *s = ta_calloc(1, sizeof(ta_revoked));

	if (s == NULL)
		return NULL;
	s->slots = slots_alloc(MIN_SLOTS);
	if (s->slots == NULL)
	{
		ta_free(s);
		return NULL;
	}
	s->nslots = MIN_SLOTS;
	return s;
}

void
ta_revoked_destroy(ta_revoked *s)
{
	if (s == NULL)
		return;
	ta_free(s->slots);
	ta_free(s);
}

void
ta_revoked_clear(ta_revoked *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		s->slots[i].expires = EMPTY;
	s->count = 0;
}

/* The slot holding id, or NULL. */
static slot *
find(const ta_revoked *s, const uint8_t id[16])
{
	size_t		i = slot_of(id_hash(id), s->nslots);

	while (s->slots[i].expires != EMPTY)
	{
		if (memcmp(s->slots[i].id, id, 16) == 0)
			return &s->slots[i];
		i = (i + 1 == s->nslots) ? 0 : i + 1;
	}
	return NULL;
}

bool
ta_revoked_put(ta_revoked *s, const uint8_t id[16], int64_t at, int64_t expires)
{
	slot	   *found;
	slot		e;

	if (expires == EMPTY)
		expires = EMPTY + 1;
	found = find(s, id);
	if (found != NULL)
	{
		if (at > found->at)
			found->at = at;
		if (expires > found->expires)
			found->expires = expires;
		return true;
	}
	/* keep at most 3/4 of the slots full, so that probes stay short and one is always empty */
	if ((s->count + 1) * 4 > s->nslots * 3)
	{
		size_t		n = s->nslots + s->nslots / 2;

		if (n < s->nslots || n > SIZE_MAX / sizeof(slot) || !rebuild(s, n, EMPTY + 1))
			return false;
	}
	memcpy(e.id, id, 16);
	e.at = at;
	e.expires = expires;
	place(s->slots, s->nslots, &e);
	s->count++;
	return true;
}

bool
ta_revoked_get(const ta_revoked *s, const uint8_t id[16], int64_t now, int64_t *at)
{
	const slot *found;

	if (s == NULL || s->count == 0)
		return false;
	found = find(s, id);
	if (found == NULL || found->expires < now)
		return false;
	if (at != NULL)
		*at = found->at;
	return true;
}

size_t
ta_revoked_sweep(ta_revoked *s, int64_t now)
{
	size_t		before = s->count;
	size_t		expired = 0;
	size_t		n;

	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].expires != EMPTY && s->slots[i].expires < now)
			expired++;
	if (expired == 0)
		return 0;
	/* the smallest size that keeps the survivors at most 3/4 full, but no smaller than at start */
	n = (before - expired) * 4 / 3 + MIN_SLOTS;
	if (n > s->nslots)
		n = s->nslots;
	/* out of memory: the expired entries stay, and lookups keep ignoring them */
	if (!rebuild(s, n, now))
		return 0;
	return before - s->count;
}

size_t
ta_revoked_count(const ta_revoked *s)
{
	return s == NULL ? 0 : s->count;
}

size_t
ta_revoked_memory(const ta_revoked *s)
{
	return s == NULL ? 0 : sizeof(*s) + s->nslots * sizeof(slot);
}
