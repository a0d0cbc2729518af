/*
 * token_cache.h: a per-process cache of verified tokens, so that a token presented again skips
 * decoding, the MAC and parsing. Postgres-free.
 *
 * Set-associative: a token's set is chosen by a hash of its length and last 32 bytes (its
 * signature), each set holds TA_TOKEN_CACHE_WAYS entries and a new token replaces the set's
 * least recently used one. The number of tokens held is bounded by the size asked for at
 * creation. A lookup compares whole tokens in time that depends only on their length, so its
 * timing tells nothing about how much of a guessed token matches a cached one. Every entry
 * carries the generation of the key set it was verified under: an entry of another generation
 * is a miss and is dropped, so a key change empties the cache in effect. What the cache returns held when it was stored;
 * the caller checks the time claims (ta_jws_check_times) on every use, and verifies the token
 * afresh once the keys it was verified with (key_read) are no longer the current ones.
 */
#ifndef TASKAUTH_TOKEN_CACHE_H
#define TASKAUTH_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jws.h"

/* Entries per set. */
#define TA_TOKEN_CACHE_WAYS 4

/* Longest token kept; longer ones are verified every time. */
#define TA_TOKEN_CACHE_MAX_TOKEN 4096

/* Longest claims text kept. */
#define TA_TOKEN_CACHE_MAX_CLAIMS 8192

/* What a verified token established. */
typedef struct ta_cached_token
{
	uint8_t		id[16];			/* the sub, as a UUID's bytes */
	bool		has_sid;		/* whether the token names one of the server's sessions */
	uint8_t		sid[16];		/* that session's id */
	ta_jws_times times;			/* checked again on every use */
	uint64_t	key_read;		/* the caller's name for the read of the keys that verified it */
	const char *claims;			/* NUL-terminated JSON text, owned by the cache */
	size_t		claims_len;
	uint64_t	revocations_checked;	/* the caller's: when it last found the token unrevoked */
} ta_cached_token;

typedef struct ta_token_cache ta_token_cache;

/*
 * A cache of at most entries tokens. It has about twice as many places (whole sets), so that a
 * full set rarely evicts a token while there is room elsewhere; once entries tokens are held, a
 * new one replaces the least recently used token of its set (or is not kept when its set is
 * empty). NULL when out of memory.
 */
extern ta_token_cache *ta_token_cache_create(size_t entries);

/* Free the cache, wiping every token it holds. NULL is allowed. */
extern void ta_token_cache_destroy(ta_token_cache *c);

/* The most tokens the cache holds. */
extern size_t ta_token_cache_capacity(const ta_token_cache *c);

/*
 * The entry of a token verified under generation, or NULL. The result stays valid until the
 * next call that changes the cache; the caller may update its revocations_checked.
 */
extern ta_cached_token *ta_token_cache_get(ta_token_cache *c, const char *token, size_t len,
										   uint64_t generation);

/*
 * Remember a verified token. Returns false, keeping nothing, when the token or claims are longer
 * than the cache keeps or memory runs out.
 */
extern bool ta_token_cache_put(ta_token_cache *c, const char *token, size_t len,
							   uint64_t generation, const ta_cached_token *value);

/* Counters since creation. */
extern void ta_token_cache_stats(const ta_token_cache *c, uint64_t *hits, uint64_t *misses,
								 size_t *entries);

/* Every counter, and the memory the cache holds (its arrays and entries). */
typedef struct ta_token_cache_counts
{
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	evictions;		/* tokens dropped to make room for another */
	size_t		entries;
	size_t		bytes;
} ta_token_cache_counts;

extern void ta_token_cache_counters(const ta_token_cache *c, ta_token_cache_counts *out);

#endif
