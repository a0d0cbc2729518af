/*
 * token_cache.c: the verified-token cache described in token_cache.h.
 *
 * Each entry is one allocation: the entry, then the token's bytes, then the claims text and its
 * NUL. Entries are wiped before they are freed, since a token is a bearer credential.
 */
#include "core/token_cache.h"
#include "core/ta_alloc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

typedef struct entry
{
	uint64_t	generation;
	size_t		token_len;
	size_t		size;			/* of the whole allocation */
	ta_cached_token value;
	/* token bytes, then claims text and NUL, follow */
} entry;

struct ta_token_cache
{
	size_t		nsets;			/* a power of two */
	size_t		limit;			/* most tokens held */
	uint64_t	clock;
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	evictions;		/* tokens dropped to make room for another */
	size_t		bytes;			/* the entries' own allocations */
	size_t		used;
	entry	  **slots;			/* nsets * TA_TOKEN_CACHE_WAYS */
	/*
	 * Beside the slots, each slot's token hash and last use: a lookup or an eviction reads a
	 * line of these instead of every way's entry.
	 */
	uint64_t   *tags;
	uint64_t   *uses;
};

/*
 * A 64-bit hash of the token: chooses a set and screens candidates, never the test of equality
 * (that is a constant-time comparison of the whole token). It reads only the length and the
 * last 32 bytes, which are the token's signature: only verified tokens are stored, and their
 * signatures are beyond anyone's choosing, so distinct stored tokens differ there. A token made
 * to share a stored one's tail only lands in its set and is then told apart by the comparison.
 * Plain scalar multiply-and-fold; a loop over the whole token cost more than verifying its MAC
 * once the compiler turned it into vector code without 64-bit multiplies.
 */
static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);

	h = (h ^ w) * k;
	return h ^ (h >> 29);
}

static uint64_t
token_hash(const char *s, size_t len)
{
	uint64_t	h = len;
	size_t		from = len > 32 ? len - 32 : 0;
	uint64_t	w;

	while (from + 8 <= len)
	{
		memcpy(&w, s + from, 8);
		h = mix(h, w);
		from += 8;
	}
	if (from < len)
	{
		w = 0;
		memcpy(&w, s + from, len - from);
		h = mix(h, w);
	}
	h = mix(h, len);
	return h ^ (h >> 32);
}

/*
 * Whether two tokens of len bytes are equal, in time that depends only on len: eight bytes a
 * step, differences OR-ed together (CRYPTO_memcmp goes a byte at a time, and this comparison is
 * on every cache hit).
 */
static bool
same_token(const char *a, const char *b, size_t len)
{
	uint64_t	diff = 0,
				x,
				y;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8)
	{
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	for (; i < len; i++)
		diff |= (uint64_t) ((unsigned char) a[i] ^ (unsigned char) b[i]);
	return diff == 0;
}

static const char *
entry_token(const entry *e)
{
	return (const char *) (e + 1);
}

static void
entry_free(entry *e)
{
	if (e != NULL)
	{
		OPENSSL_cleanse(e, e->size);
		ta_free(e);
	}
}

/* Free an entry the cache holds, keeping the byte count. */
static void
entry_drop(ta_token_cache *c, entry *e)
{
	if (e != NULL)
	{
		c->bytes -= e->size;
		entry_free(e);
	}
}

ta_token_cache *
ta_token_cache_create(size_t entries)
{
	ta_token_cache *c;
	size_t		nsets = 1;

	while (nsets * TA_TOKEN_CACHE_WAYS / 2 < entries && nsets < (SIZE_MAX / 2) / TA_TOKEN_CACHE_WAYS)
		nsets *= 2;
	c = ta_calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->nsets = nsets;
	c->limit = entries > 0 ? entries : 1;
	c->slots = ta_calloc(nsets * TA_TOKEN_CACHE_WAYS, sizeof(entry *));
	c->tags = ta_calloc(nsets * TA_TOKEN_CACHE_WAYS, sizeof(uint64_t));
	c->uses = ta_calloc(nsets * TA_TOKEN_CACHE_WAYS, sizeof(uint64_t));
	if (c->slots == NULL || c->tags == NULL || c->uses == NULL)
	{
		ta_free(c->slots);
		ta_free(c->tags);
		ta_free(c->uses);
		ta_free(c);
		return NULL;
	}
	return c;
}

void
ta_token_cache_destroy(ta_token_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsets * TA_TOKEN_CACHE_WAYS; i++)
		entry_free(c->slots[i]);
	ta_free(c->slots);
	ta_free(c->tags);
	ta_free(c->uses);
	ta_free(c);
}

size_t
ta_token_cache_capacity(const ta_token_cache *c)
{
	return c->limit;
}

ta_cached_token *
ta_token_cache_get(ta_token_cache *c, const char *token, size_t len, uint64_t generation)
{
	uint64_t	h = token_hash(token, len);
	size_t		first = (h & (c->nsets - 1)) * TA_TOKEN_CACHE_WAYS;
	entry	  **set = &c->slots[first];
	const uint64_t *tags = &c->tags[first];

	for (int w = 0; w < TA_TOKEN_CACHE_WAYS; w++)
	{
		entry	   *e;

		if (tags[w] != h || set[w] == NULL)
			continue;
		e = set[w];
		if (e->token_len != len || !same_token(entry_token(e), token, len))
			continue;
		if (e->generation != generation)
		{
			/* verified under keys that have changed since: forget it */
			entry_drop(c, e);
			set[w] = NULL;
			c->tags[first + w] = 0;
			c->used--;
			break;
		}
		c->uses[first + w] = ++c->clock;
		c->hits++;
		return &e->value;
	}
	c->misses++;
	return NULL;
}

bool
ta_token_cache_put(ta_token_cache *c, const char *token, size_t len, uint64_t generation,
				   const ta_cached_token *value)
{
	uint64_t	h;
	entry	  **set;
	entry	   *e;
	char	   *p;
	int			victim,
				free_way,
				lru;
	bool		same;
	size_t		size,
				first;

	if (len > TA_TOKEN_CACHE_MAX_TOKEN || value->claims_len > TA_TOKEN_CACHE_MAX_CLAIMS)
		return false;
	size = sizeof(entry) + len + value->claims_len + 1;
	e = ta_malloc(size);
	if (e == NULL)
		return false;
	h = token_hash(token, len);
	e->generation = generation;
	e->token_len = len;
	e->size = size;
	e->value = *value;
	p = (char *) (e + 1);
	memcpy(p, token, len);
	p += len;
	memcpy(p, value->claims, value->claims_len);
	p[value->claims_len] = '\0';
	e->value.claims = p;

	/*
	 * The same token's way; else a free way while there is room; else the set's least recently
	 * used token (none when the set is empty and the cache full: then this one is not kept).
	 */
	first = (h & (c->nsets - 1)) * TA_TOKEN_CACHE_WAYS;
	set = &c->slots[first];
	victim = -1;
	free_way = -1;
	lru = -1;
	for (int w = 0; w < TA_TOKEN_CACHE_WAYS; w++)
	{
		entry	   *o = set[w];

		if (o == NULL)
		{
			if (free_way < 0)
				free_way = w;
		}
		else if (c->tags[first + w] == h && o->token_len == len &&
				 same_token(entry_token(o), token, len))
			victim = w;
		else if (lru < 0 || c->uses[first + w] < c->uses[first + lru])
			lru = w;
	}
	same = victim >= 0;
	if (victim < 0)
		victim = (free_way >= 0 && c->used < c->limit) ? free_way : lru;
	if (victim < 0)
	{
		entry_free(e);
		return false;
	}
	if (set[victim] == NULL)
		c->used++;
	else if (!same)
		c->evictions++;
	entry_drop(c, set[victim]);
	set[victim] = e;
	c->bytes += e->size;
	c->tags[first + victim] = h;
	c->uses[first + victim] = ++c->clock;
	return true;
}

void
ta_token_cache_counters(const ta_token_cache *c, ta_token_cache_counts *out)
{
	out->hits = c->hits;
	out->misses = c->misses;
	out->evictions = c->evictions;
	out->entries = c->used;
	out->bytes = sizeof(*c) + c->bytes +
		c->nsets * TA_TOKEN_CACHE_WAYS * (sizeof(entry *) + 2 * sizeof(uint64_t));
}

void
ta_token_cache_stats(const ta_token_cache *c, uint64_t *hits, uint64_t *misses, size_t *entries)
{
	*hits = c->hits;
	*misses = c->misses;
	*entries = c->used;
}
