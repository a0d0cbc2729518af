/*
 * fuzz_refresh_token.c: libFuzzer target for opening refresh tokens (src/core/refresh_token.c).
 *
 * The input is a token's text, opened with a fixed key. Properties checked: a token opens only
 * in its one canonical form (making the token of what it names gives back the input, byte for
 * byte), and what the first 25 bytes of the input name, made into a token and opened, round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/refresh_token.h"

static const uint8_t key[TA_REFRESH_KEY_LEN] = "fuzz-refresh-key-0123456789abcde";

/* Abort so that libFuzzer records the input. */
static void
require(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		sid[TA_REFRESH_SID_LEN];
	int64_t		gen = 0;
	char		tok[TA_REFRESH_TOKEN_LEN + 1];
	size_t		len;
	ta_status	st;

	st = ta_refresh_token_open(key, (const char *) data, size, sid, &gen);
	require(st == TA_OK || st == TA_REFRESH_TOKEN_INVALID);
	if (st == TA_OK)
	{
		require(ta_refresh_token_make(key, sid, gen, tok, sizeof(tok), &len) == TA_OK);
		require(len == size && memcmp(tok, data, size) == 0);
	}
	/* the input as a session id and generation: made, then opened */
	if (size >= TA_REFRESH_SID_LEN + 8)
	{
		uint8_t		back_sid[TA_REFRESH_SID_LEN];
		int64_t		g,
					back_gen = 0;

		memcpy(sid, data, TA_REFRESH_SID_LEN);
		memcpy(&g, data + TA_REFRESH_SID_LEN, sizeof(g));
		require(ta_refresh_token_make(key, sid, g, tok, sizeof(tok), &len) == TA_OK);
		require(ta_refresh_token_open(key, tok, len, back_sid, &back_gen) == TA_OK);
		require(memcmp(back_sid, sid, sizeof(sid)) == 0 && back_gen == g);
	}
	return 0;
}
