/*
 * b64url.c: strict base64url without padding (RFC 4648 §5).
 *
 * Decoding accepts exactly one spelling of each byte string: only the 64 characters of the URL
 * and filename safe alphabet, no '=' padding (RFC 7515 §2 drops it), no whitespace, no length
 * that leaves a single dangling character (len % 4 == 1), and no non-zero bits in the unused
 * low bits of the final character (RFC 4648 §3.5 "canonical encoding"). A token therefore has
 * one textual form, so it cannot be varied while keeping its signature.
 */
#include "core/b64url.h"

static const char enc_table[64] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 + the value of an alphabet character; 0 for anything else (including '=', '+', '/'). */
static const uint8_t dec_table[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

/* Encode len bytes as unpadded base64url into out (cap bytes); no NUL is written. */
ta_status
ta_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *outlen)
{
	size_t		need = TA_B64URL_ENCODED_LEN(len);
	size_t		i = 0;
	char	   *o = out;

	if (cap < need)
		return TA_ERR_BUFFER;
	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
		*o++ = enc_table[(v >> 6) & 63];
		*o++ = enc_table[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		*o++ = enc_table[(v >> 18) & 63];
		*o++ = enc_table[(v >> 12) & 63];
		*o++ = enc_table[(v >> 6) & 63];
	}
	*outlen = (size_t) (o - out);
	return TA_OK;
}

/*
 * Decode len characters of strict unpadded base64url into out (cap bytes).
 * Returns TA_JWT_BAD_BASE64 for anything but the canonical encoding of some byte string.
 */
ta_status
ta_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t *p = (const uint8_t *) in;
	size_t		rem = len % 4;
	size_t		full = len - rem;
	size_t		need = (full / 4) * 3 + (rem ? rem - 1 : 0);
	uint8_t    *o = out;
	size_t		i;

	/* A lone final character carries 6 bits, less than one byte: no encoder makes it. */
	if (rem == 1)
		return TA_JWT_BAD_BASE64;
	if (cap < need)
		return TA_ERR_BUFFER;

	for (i = 0; i < full; i += 4)
	{
		uint32_t	a = dec_table[p[i]],
					b = dec_table[p[i + 1]],
					c = dec_table[p[i + 2]],
					d = dec_table[p[i + 3]];
		uint32_t	v;

		if (a == 0 || b == 0 || c == 0 || d == 0)
			return TA_JWT_BAD_BASE64;
		a--, b--, c--, d--;
		v = (a << 18) | (b << 12) | (c << 6) | d;
		*o++ = (uint8_t) (v >> 16);
		*o++ = (uint8_t) (v >> 8);
		*o++ = (uint8_t) v;
	}
	if (rem == 2)
	{
		uint32_t	a = dec_table[p[i]],
					b = dec_table[p[i + 1]];

		if (a == 0 || b == 0)
			return TA_JWT_BAD_BASE64;
		a--, b--;
		/* RFC 4648 §3.5: the 4 bits below the one decoded byte must be zero. */
		if (b & 0x0F)
			return TA_JWT_BAD_BASE64;
		*o++ = (uint8_t) ((a << 2) | (b >> 4));
	}
	else if (rem == 3)
	{
		uint32_t	a = dec_table[p[i]],
					b = dec_table[p[i + 1]],
					c = dec_table[p[i + 2]];
		uint32_t	v;

		if (a == 0 || b == 0 || c == 0)
			return TA_JWT_BAD_BASE64;
		a--, b--, c--;
		/* RFC 4648 §3.5: the 2 bits below the two decoded bytes must be zero. */
		if (c & 0x03)
			return TA_JWT_BAD_BASE64;
		v = (a << 18) | (b << 12) | (c << 6);
		*o++ = (uint8_t) (v >> 16);
		*o++ = (uint8_t) (v >> 8);
	}
	*outlen = (size_t) (o - out);
	return TA_OK;
}
