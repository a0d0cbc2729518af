/*
 * Unit tests: the verified-token cache (hits, misses, generations, eviction, limits) and the
 * re-check of time claims that every cache hit runs.
 */
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/token_cache.h"

/* A cached value whose id bytes all equal tag and whose claims name tag. */
static ta_cached_token
value_of(int tag, char *claims, size_t cap)
{
	ta_cached_token v;

	memset(&v, 0, sizeof(v));
	memset(v.id, tag, sizeof(v.id));
	v.times.has_exp = true;
	v.times.exp = 2000 + tag;
	v.claims_len = (size_t) snprintf(claims, cap, "{\"tag\": %d}", tag);
	v.claims = claims;
	return v;
}

/* A token-like string numbered n. */
static const char *
token_of(int n, char *buf, size_t cap)
{
	snprintf(buf, cap, "eyJhbGciOiJIUzI1NiJ9.eyJuIjo%06d.c2lnbmF0dXJl%d", n, n * 7919);
	return buf;
}

static void
test_times(void)
{
	ta_jws_times t = {0};

	is_int(ta_jws_check_times(&t, 1e9, 0), TA_OK, "no time claims: valid");
	t.has_exp = true;
	t.exp = 1000;
	is_int(ta_jws_check_times(&t, 999, 0), TA_OK, "before exp: valid");
	is_int(ta_jws_check_times(&t, 1000, 0), TA_JWT_EXPIRED, "at exp: expired (RFC 7519 4.1.4)");
	is_int(ta_jws_check_times(&t, 1029, 30), TA_OK, "within leeway after exp: valid");
	is_int(ta_jws_check_times(&t, 1030, 30), TA_JWT_EXPIRED, "past exp + leeway: expired");
	t.has_nbf = true;
	t.nbf = 900;
	is_int(ta_jws_check_times(&t, 850, 30), TA_JWT_NOT_YET_VALID, "before nbf - leeway: not yet valid");
	is_int(ta_jws_check_times(&t, 870, 30), TA_OK, "nbf within leeway: valid");
	t.has_iat = true;
	t.iat = 960;
	is_int(ta_jws_check_times(&t, 920, 30), TA_JWT_IAT_FUTURE, "iat beyond now + leeway: refused");
	is_int(ta_jws_check_times(&t, 930, 30), TA_OK, "iat at now + leeway: valid");
	t.nbf = 2000;
	is_int(ta_jws_check_times(&t, 1500, 0), TA_JWT_EXPIRED, "exp is checked before nbf");
}

static void
test_hits_and_generations(void)
{
	ta_token_cache *c = ta_token_cache_create(16);
	char		claims[64],
				tok[128],
				other[128];
	ta_cached_token v = value_of(7, claims, sizeof(claims));
	const ta_cached_token *got;
	uint64_t	hits,
				misses;
	size_t		entries;

	ok(c != NULL, "cache created");
	is_int((int) ta_token_cache_capacity(c), 16, "capacity is what was asked for");
	token_of(1, tok, sizeof(tok));
	ok(ta_token_cache_get(c, tok, strlen(tok), 1) == NULL, "empty cache: miss");
	ok(ta_token_cache_put(c, tok, strlen(tok), 1, &v), "put");
	memset(claims, 'x', sizeof(claims));	/* the cache keeps its own copy */
	got = ta_token_cache_get(c, tok, strlen(tok), 1);
	ok(got != NULL, "same token, same generation: hit");
	if (got != NULL)
	{
		is_int(got->id[0], 7, "id kept");
		is_int(got->id[15], 7, "id kept whole");
		is_str(got->claims, "{\"tag\": 7}", "claims copied and NUL-terminated");
		is_int((int) got->claims_len, 10, "claims length");
		ok(got->times.has_exp && got->times.exp == 2007, "time claims kept");
	}

	/* one byte off anywhere, or a prefix, is another token */
	strcpy(other, tok);
	other[strlen(other) - 1] ^= 1;
	ok(ta_token_cache_get(c, other, strlen(other), 1) == NULL, "last byte changed: miss");
	strcpy(other, tok);
	other[0] = 'f';
	ok(ta_token_cache_get(c, other, strlen(other), 1) == NULL, "first byte changed: miss");
	ok(ta_token_cache_get(c, tok, strlen(tok) - 1, 1) == NULL, "prefix: miss");

	/* another generation: a miss, and the entry is gone for the old generation too */
	ok(ta_token_cache_get(c, tok, strlen(tok), 2) == NULL, "other generation: miss");
	ok(ta_token_cache_get(c, tok, strlen(tok), 1) == NULL, "stale entry was dropped");
	ta_token_cache_stats(c, &hits, &misses, &entries);
	is_int((int) hits, 1, "one hit counted");
	is_int((int) misses, 6, "six misses counted");
	is_int((int) entries, 0, "no entries left");

	/* putting the same token again replaces its entry */
	ok(ta_token_cache_put(c, tok, strlen(tok), 3, &v), "put again");
	v = value_of(9, claims, sizeof(claims));
	ok(ta_token_cache_put(c, tok, strlen(tok), 3, &v), "put the same token with another value");
	ta_token_cache_stats(c, &hits, &misses, &entries);
	is_int((int) entries, 1, "the same token takes one entry");
	got = ta_token_cache_get(c, tok, strlen(tok), 3);
	ok(got != NULL && got->id[0] == 9, "the newer value is returned");

	/* the caller's revocations_checked: kept in the entry, replaced by a new put */
	{
		ta_cached_token *mine = ta_token_cache_get(c, tok, strlen(tok), 3);

		ok(mine != NULL && mine->revocations_checked == 0, "revocations_checked as put");
		if (mine != NULL)
			mine->revocations_checked = 42;
		got = ta_token_cache_get(c, tok, strlen(tok), 3);
		ok(got != NULL && got->revocations_checked == 42, "revocations_checked kept by the entry");
		v.revocations_checked = 5;
		ok(ta_token_cache_put(c, tok, strlen(tok), 3, &v), "put once more");
		got = ta_token_cache_get(c, tok, strlen(tok), 3);
		ok(got != NULL && got->revocations_checked == 5, "a new put replaces it");
	}
	ta_token_cache_destroy(c);
}

/*
 * The wait status of a child that calls ta_token_cache_destroy(NULL) and exits (0: it returned),
 * or -1: run apart so that a crash, or a sanitizer's report, fails one test and not the file.
 */
static int
destroy_null_in_a_child(void)
{
	pid_t		pid;
	int			status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
	{
		ta_token_cache_destroy(NULL);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

static void
test_limits_and_eviction(void)
{
	ta_token_cache *c = ta_token_cache_create(2);
	char		claims[64],
				tok[128];
	char	   *big;
	ta_cached_token v = value_of(1, claims, sizeof(claims));
	int			kept,
				status;
	uint64_t	hits,
				misses;
	size_t		entries;

	/* two tokens in a one-set cache: when full, the least recently used one goes */
	is_int((int) ta_token_cache_capacity(c), 2, "a cache for two tokens");
	for (int i = 0; i < 2; i++)
		ta_token_cache_put(c, token_of(i, tok, sizeof(tok)), strlen(tok), 1, &v);
	ok(ta_token_cache_get(c, token_of(0, tok, sizeof(tok)), strlen(tok), 1) != NULL,
	   "first token still there (and now recently used)");
	ok(ta_token_cache_put(c, token_of(100, tok, sizeof(tok)), strlen(tok), 1, &v),
	   "a third token is kept");
	ok(ta_token_cache_get(c, token_of(1, tok, sizeof(tok)), strlen(tok), 1) == NULL,
	   "least recently used token evicted");
	ok(ta_token_cache_get(c, token_of(0, tok, sizeof(tok)), strlen(tok), 1) != NULL,
	   "recently used token kept");
	ok(ta_token_cache_get(c, token_of(100, tok, sizeof(tok)), strlen(tok), 1) != NULL,
	   "new token kept");
	ta_token_cache_stats(c, &hits, &misses, &entries);
	is_int((int) entries, 2, "never more than two held");
	ta_token_cache_destroy(c);

	/* a bigger cache never holds more than asked either */
	c = ta_token_cache_create(10);
	for (int i = 0; i < 100; i++)
		ta_token_cache_put(c, token_of(i, tok, sizeof(tok)), strlen(tok), 1, &v);
	ta_token_cache_stats(c, &hits, &misses, &entries);
	is_int((int) entries, 10, "100 tokens into a cache for 10: 10 held");
	ta_token_cache_destroy(c);

	/* tokens and claims beyond the limits are not kept */
	c = ta_token_cache_create(8);
	big = malloc(TA_TOKEN_CACHE_MAX_CLAIMS + 2);
	memset(big, 'a', TA_TOKEN_CACHE_MAX_CLAIMS + 1);
	big[TA_TOKEN_CACHE_MAX_CLAIMS + 1] = '\0';
	ok(!ta_token_cache_put(c, big, TA_TOKEN_CACHE_MAX_TOKEN + 1, 1, &v), "oversized token not kept");
	ok(ta_token_cache_get(c, big, TA_TOKEN_CACHE_MAX_TOKEN + 1, 1) == NULL, "oversized token: miss");
	ok(ta_token_cache_put(c, big, TA_TOKEN_CACHE_MAX_TOKEN, 1, &v), "token at the limit kept");
	v.claims = big;
	v.claims_len = TA_TOKEN_CACHE_MAX_CLAIMS + 1;
	ok(!ta_token_cache_put(c, "t", 1, 1, &v), "oversized claims not kept");
	free(big);
	ta_token_cache_destroy(c);

	/* a full cache of distinct tokens keeps nearly all of them (set-associative, 4 ways) */
	c = ta_token_cache_create(1000);
	v = value_of(3, claims, sizeof(claims));
	for (int i = 0; i < 1000; i++)
		ta_token_cache_put(c, token_of(i, tok, sizeof(tok)), strlen(tok), 5, &v);
	kept = 0;
	for (int i = 0; i < 1000; i++)
		kept += ta_token_cache_get(c, token_of(i, tok, sizeof(tok)), strlen(tok), 5) != NULL;
	ok(kept >= 900, "1000 tokens in a cache for 1000: at least 900 kept");
	printf("# %d of 1000 kept\n", kept);
	ta_token_cache_destroy(c);
	status = destroy_null_in_a_child();
	if (!ok(status == 0, "destroying NULL is allowed (a child doing it exits normally)"))
		printf("#   the child's wait status: %d\n", status);
}

/* Found by fuzz_token_cache: a token stored again while a way before its own was free. */
static void
test_store_again_after_a_hole(void)
{
	ta_token_cache *c = ta_token_cache_create(2);
	char		claims[64],
				a[128],
				b[128];
	ta_cached_token v = value_of(1, claims, sizeof(claims));
	const ta_cached_token *got;
	uint64_t	hits,
				misses;
	size_t		entries;

	token_of(1, a, sizeof(a));
	token_of(2, b, sizeof(b));
	ta_token_cache_put(c, a, strlen(a), 1, &v);
	ta_token_cache_put(c, b, strlen(b), 1, &v);
	/* a lookup under another generation drops a, leaving a free way before b's */
	ok(ta_token_cache_get(c, a, strlen(a), 2) == NULL, "a under another generation: dropped");
	v = value_of(9, claims, sizeof(claims));
	ok(ta_token_cache_put(c, b, strlen(b), 1, &v), "b stored again with a new value");
	got = ta_token_cache_get(c, b, strlen(b), 1);
	ok(got != NULL && got->id[0] == 9, "b's new value is the one found");
	ta_token_cache_stats(c, &hits, &misses, &entries);
	is_int((int) entries, 1, "b held once");
	ta_token_cache_destroy(c);
}

/*
 * Tokens that share their last 32 bytes (the hashed part) but not the rest: each is found as
 * itself, never as another, and they share a set without losing one another.
 */
/* The counters backend_stats() reports: evictions only for another token, bytes held. */
static void
test_counters(void)
{
	ta_token_cache *c = ta_token_cache_create(2);
	char		claims[64],
				tok[128];
	ta_cached_token v = value_of(1, claims, sizeof(claims));
	ta_token_cache_counts n0,
				n1,
				n2,
				n3;

	ta_token_cache_counters(c, &n0);
	ok(n0.hits == 0 && n0.misses == 0 && n0.evictions == 0 && n0.entries == 0 && n0.bytes > 0,
	   "a new cache counts nothing and holds only its arrays");
	for (int i = 0; i < 2; i++)
		ta_token_cache_put(c, token_of(10 + i, tok, sizeof(tok)), strlen(tok), 1, &v);
	/* the same token stored again replaces itself: no eviction, no more bytes */
	ta_token_cache_put(c, token_of(11, tok, sizeof(tok)), strlen(tok), 1, &v);
	ta_token_cache_counters(c, &n1);
	ok(n1.entries == 2 && n1.evictions == 0 && n1.bytes > n0.bytes,
	   "two tokens held, one stored twice: no eviction, more bytes");
	ta_token_cache_put(c, token_of(12, tok, sizeof(tok)), strlen(tok), 1, &v);
	ta_token_cache_counters(c, &n2);
	ok(n2.entries == 2 && n2.evictions == 1 && n2.bytes == n1.bytes,
	   "a third token evicts one (counted); the bytes stay those of two entries");
	(void) ta_token_cache_get(c, token_of(12, tok, sizeof(tok)), strlen(tok), 1);
	(void) ta_token_cache_get(c, token_of(12, tok, sizeof(tok)), strlen(tok), 2);
	ta_token_cache_counters(c, &n3);
	ok(n3.hits == 1 && n3.misses == 1 && n3.entries == 1 && n3.bytes < n2.bytes,
	   "a hit, then a miss under another generation that drops the entry and its bytes");
	ta_token_cache_destroy(c);
}

static void
test_same_tail(void)
{
	ta_token_cache *c = ta_token_cache_create(64);
	char		claims[64];
	char		a[128],
				b[128],
				d[128];
	const char *tail = ".0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
	ta_cached_token va = value_of(1, claims, sizeof(claims));
	ta_cached_token vb;
	const ta_cached_token *got;

	snprintf(a, sizeof(a), "header-a.payload-a%s", tail);
	snprintf(b, sizeof(b), "header-b.payload-b%s", tail);
	snprintf(d, sizeof(d), "header-a.payload-ab%s", tail);	/* longer by one */
	ok(ta_token_cache_put(c, a, strlen(a), 1, &va), "same tail: first token stored");
	ok(ta_token_cache_get(c, b, strlen(b), 1) == NULL, "same tail, other head: miss");
	ok(ta_token_cache_get(c, d, strlen(d), 1) == NULL, "same tail, longer head: miss");
	vb = value_of(2, claims, sizeof(claims));
	ok(ta_token_cache_put(c, b, strlen(b), 1, &vb), "same tail: second token stored");
	got = ta_token_cache_get(c, a, strlen(a), 1);
	ok(got != NULL && got->id[0] == 1, "the first is still found as itself");
	got = ta_token_cache_get(c, b, strlen(b), 1);
	ok(got != NULL && got->id[0] == 2, "the second is found as itself");
	ta_token_cache_destroy(c);
}

int
main(void)
{
	test_times();
	test_store_again_after_a_hole();
	test_hits_and_generations();
	test_limits_and_eviction();
	test_same_tail();
	test_counters();
	return done_testing();
}
