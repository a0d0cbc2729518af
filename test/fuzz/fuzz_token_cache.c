/*
 * libFuzzer target: the verified-token cache under any sequence of stores and lookups.
 *
 * The input is a program: each step takes an operation byte, a generation byte, a length byte
 * and that many token bytes. Every stored value carries its own token as its claims and the
 * generation in its id, so a lookup can check that whatever it gets is the entry of exactly the
 * token and generation it asked for. Also checked: a token just stored is found at once, and
 * the cache never holds more tokens than it was made for. ASan and UBSan watch the memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/token_cache.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		pos = 0;
	ta_token_cache *c;
	size_t		limit;

	if (size < 1)
		return 0;
	limit = 1 + data[pos++] % 24;
	c = ta_token_cache_create(limit);
	if (c == NULL)
		return 0;

	while (pos + 3 <= size)
	{
		uint8_t		op = data[pos];
		uint8_t		gen = data[pos + 1] % 4;
		size_t		len = data[pos + 2];
		const char *tok;
		const ta_cached_token *got;
		uint64_t	hits,
					misses;
		size_t		entries;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		tok = (const char *) data + pos;
		pos += len;

		if (op % 2 == 0)
		{
			ta_cached_token v;

			memset(&v, 0, sizeof(v));
			memset(v.id, gen, sizeof(v.id));
			v.times.has_exp = (op & 2) != 0;
			v.times.exp = (double) op;
			v.claims = tok;
			v.claims_len = len;
			if (ta_token_cache_put(c, tok, len, gen, &v))
			{
				got = ta_token_cache_get(c, tok, len, gen);
				if (got == NULL || got->claims_len != len || memcmp(got->claims, tok, len) != 0 ||
					got->claims[len] != '\0' || got->id[0] != gen || got->id[15] != gen ||
					got->times.has_exp != v.times.has_exp)
					abort();
			}
		}
		else
		{
			got = ta_token_cache_get(c, tok, len, gen);
			if (got != NULL &&
				(got->claims_len != len || memcmp(got->claims, tok, len) != 0 || got->id[0] != gen))
				abort();
		}
		ta_token_cache_stats(c, &hits, &misses, &entries);
		if (entries > limit)
			abort();
	}
	ta_token_cache_destroy(c);
	return 0;
}
