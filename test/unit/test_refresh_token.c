/*
 * Unit tests: refresh tokens (src/core/refresh_token.c): the format, round trips, and every
 * way a token can fail to open (lengths, alphabet, version, flipped bits, another key).
 */
#include "tap.h"

#include <stdint.h>

#include <openssl/hmac.h>

#include "core/b64url.h"
#include "core/refresh_token.h"

static const uint8_t key[TA_REFRESH_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t sid[TA_REFRESH_SID_LEN] = {
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x42, 0x00, 0x80, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};

/* Opens s with key k; TA_OK only when it names sid and want. */
static ta_status
open_as(const uint8_t *k, const char *s, size_t len, int64_t want)
{
	uint8_t		got_sid[TA_REFRESH_SID_LEN] = {0};
	int64_t		got_gen = -12345;
	ta_status	st = ta_refresh_token_open(k, s, len, got_sid, &got_gen);

	if (st == TA_OK && (memcmp(got_sid, sid, sizeof(sid)) != 0 || got_gen != want))
		return TA_STATUS_COUNT;
	if (st != TA_OK && got_gen != -12345)
		return TA_STATUS_COUNT;	/* a refused token wrote what it says */
	return st;
}

/* Re-encodes raw bytes as a token (no MAC recomputed). */
static size_t
encode(const uint8_t *raw, size_t n, char *out, size_t cap)
{
	size_t		len = 0;

	if (ta_b64url_encode(raw, n, out, cap, &len) != TA_OK)
		return 0;
	out[len] = '\0';
	return len;
}

int
main(void)
{
	char		tok[TA_REFRESH_TOKEN_LEN + 1];
	char		other[TA_REFRESH_TOKEN_LEN + 8];
	uint8_t		raw[TA_REFRESH_RAW_LEN + 4];
	uint8_t		key2[TA_REFRESH_KEY_LEN];
	size_t		len,
				n;
	int			i,
				flips_refused = 1;
	static const int64_t gens[] = {0, 1, 2, 255, 256, 2880, INT64_C(1) << 40, INT64_MAX, -1};

	is_int(TA_REFRESH_TOKEN_LEN, 76, "a token is 76 characters (57 bytes)");

	/* round trips */
	for (i = 0; i < (int) (sizeof(gens) / sizeof(gens[0])); i++)
	{
		char		name[96];

		snprintf(name, sizeof(name), "generation %lld: made and opened", (long long) gens[i]);
		ok(ta_refresh_token_make(key, sid, gens[i], tok, sizeof(tok), &len) == TA_OK &&
		   len == TA_REFRESH_TOKEN_LEN && strlen(tok) == len &&
		   open_as(key, tok, len, gens[i]) == TA_OK, name);
	}

	/* the format, byte by byte: version, sid, big-endian generation, HMAC-SHA256 of those */
	ok(ta_refresh_token_make(key, sid, 0x0102030405060708, tok, sizeof(tok), &len) == TA_OK &&
	   ta_b64url_decode(tok, len, raw, sizeof(raw), &n) == TA_OK && n == TA_REFRESH_RAW_LEN,
	   "a token decodes to 57 bytes");
	{
		static const uint8_t gen_be[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		uint8_t		mac[32];
		unsigned int maclen = 0;

		ok(raw[0] == 1, "byte 0 is the version, 1");
		ok(memcmp(raw + 1, sid, 16) == 0, "bytes 1-16 are the session id");
		ok(memcmp(raw + 17, gen_be, 8) == 0, "bytes 17-24 are the generation, big-endian");
		HMAC(EVP_sha256(), key, sizeof(key), raw, 25, mac, &maclen);
		ok(maclen == 32 && memcmp(raw + 25, mac, 32) == 0,
		   "bytes 25-56 are HMAC-SHA256(key, bytes 0-24) (OpenSSL's HMAC)");
	}

	/* the same input makes the same token; another input another one */
	{
		char		again[TA_REFRESH_TOKEN_LEN + 1];
		size_t		len2;

		ta_refresh_token_make(key, sid, 7, tok, sizeof(tok), &len);
		ta_refresh_token_make(key, sid, 7, again, sizeof(again), &len2);
		ok(len == len2 && memcmp(tok, again, len) == 0, "deterministic");
		ta_refresh_token_make(key, sid, 8, again, sizeof(again), &len2);
		ok(memcmp(tok, again, len) != 0, "the next generation is another token");
		ok(open_as(key, again, len2, 7) == TA_STATUS_COUNT && open_as(key, again, len2, 8) == TA_OK,
		   "and opens as the next generation");
	}

	/* a buffer too small */
	ok(ta_refresh_token_make(key, sid, 1, tok, TA_REFRESH_TOKEN_LEN, &len) == TA_ERR_BUFFER,
	   "make: a buffer without room for the NUL is refused");

	/* lengths */
	ta_refresh_token_make(key, sid, 42, tok, sizeof(tok), &len);
	is_int(open_as(key, tok, 0, 42), TA_REFRESH_TOKEN_INVALID, "empty: invalid");
	is_int(open_as(key, NULL, 0, 42), TA_REFRESH_TOKEN_INVALID, "NULL: invalid");
	is_int(open_as(key, tok, len - 1, 42), TA_REFRESH_TOKEN_INVALID, "one character short: invalid");
	is_int(open_as(key, tok, len - 4, 42), TA_REFRESH_TOKEN_INVALID, "three bytes short: invalid");
	memcpy(other, tok, len);
	memcpy(other + len, "AAAA", 4);
	is_int(open_as(key, other, len + 4, 42), TA_REFRESH_TOKEN_INVALID, "three bytes more: invalid");
	other[len] = 'A';
	is_int(open_as(key, other, len + 1, 42), TA_REFRESH_TOKEN_INVALID, "one character more: invalid");
	is_int(open_as(key, "dGhpcyBpcyBub3QgYSB0b2tlbg", 26, 42), TA_REFRESH_TOKEN_INVALID,
		   "an old random token's shape (43 characters or any other): invalid");

	/* the alphabet and padding */
	memcpy(other, tok, len);
	other[10] = '+';
	is_int(open_as(key, other, len, 42), TA_REFRESH_TOKEN_INVALID, "'+' (standard base64): invalid");
	memcpy(other, tok, len);
	other[len - 1] = '=';
	is_int(open_as(key, other, len, 42), TA_REFRESH_TOKEN_INVALID, "padding: invalid");
	memcpy(other, tok, len);
	other[20] = '\0';
	is_int(open_as(key, other, len, 42), TA_REFRESH_TOKEN_INVALID, "a zero byte inside: invalid");

	/* every bit of the decoded token flipped, one at a time */
	ta_b64url_decode(tok, len, raw, sizeof(raw), &n);
	for (i = 0; i < TA_REFRESH_RAW_LEN * 8; i++)
	{
		size_t		l2;

		raw[i / 8] ^= (uint8_t) (1u << (i % 8));
		l2 = encode(raw, TA_REFRESH_RAW_LEN, other, sizeof(other));
		if (l2 != TA_REFRESH_TOKEN_LEN || open_as(key, other, l2, 42) != TA_REFRESH_TOKEN_INVALID)
			flips_refused = 0;
		raw[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	ok(flips_refused, "each of the 456 bits flipped: invalid (version, sid, generation, MAC)");
	/* and every character changed (which covers the bits the encoding does not use) */
	flips_refused = 1;
	for (i = 0; i < (int) len; i++)
	{
		memcpy(other, tok, len);
		other[i] = other[i] == 'A' ? 'B' : 'A';
		if (open_as(key, other, len, 42) != TA_REFRESH_TOKEN_INVALID)
			flips_refused = 0;
	}
	ok(flips_refused, "each character changed: invalid");

	/* another version, with a MAC that is right for it: still refused */
	raw[0] = 2;
	{
		unsigned int maclen = 0;

		HMAC(EVP_sha256(), key, sizeof(key), raw, 25, raw + 25, &maclen);
	}
	n = encode(raw, TA_REFRESH_RAW_LEN, other, sizeof(other));
	is_int(open_as(key, other, n, 42), TA_REFRESH_TOKEN_INVALID, "version 2, MAC'd with the key: invalid");

	/* another key */
	memcpy(key2, key, sizeof(key2));
	key2[31] ^= 1;
	is_int(open_as(key2, tok, len, 42), TA_REFRESH_TOKEN_INVALID, "another key (one bit apart): invalid");
	ta_refresh_token_make(key2, sid, 42, other, sizeof(other), &n);
	is_int(open_as(key, other, n, 42), TA_REFRESH_TOKEN_INVALID, "a token of another key: invalid");
	ok(open_as(key2, other, n, 42) == TA_OK, "which its own key opens");

	/* a made-up session id and generation, with no MAC anyone could make */
	memset(raw, 0, sizeof(raw));
	raw[0] = 1;
	n = encode(raw, TA_REFRESH_RAW_LEN, other, sizeof(other));
	is_int(open_as(key, other, n, 0), TA_REFRESH_TOKEN_INVALID, "all zeros after the version: invalid");

	return done_testing();
}
