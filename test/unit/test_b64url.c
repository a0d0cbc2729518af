/* Unit tests: strict base64url (RFC 4648 §5) and UTF-8 validation (RFC 3629). */
#include "tap.h"

#include <stdint.h>

#include "core/b64url.h"
#include "core/utf8.h"

/* Decode a NUL-terminated string; returns the status, output in out/outlen. */
static ta_status
dec(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	return ta_b64url_decode(s, strlen(s), out, cap, outlen);
}

/* True when s is valid UTF-8. */
static int
u8(const char *s, size_t len)
{
	return ta_utf8_valid((const uint8_t *) s, len);
}

int
main(void)
{
	/* RFC 4648 §10 test vectors; the url alphabet differs only in 62/63, padding dropped. */
	static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char		enc[64];
	uint8_t		out[64];
	size_t		n;
	int			i;

	for (i = 0; i < 7; i++)
	{
		char		name[64];

		snprintf(name, sizeof(name), "encode RFC 4648 vector \"%s\"", plain[i]);
		ok(ta_b64url_encode((const uint8_t *) plain[i], strlen(plain[i]), enc, sizeof(enc), &n) == TA_OK &&
		   n == strlen(coded[i]) && memcmp(enc, coded[i], n) == 0, name);
		snprintf(name, sizeof(name), "decode RFC 4648 vector \"%s\"", coded[i]);
		ok(dec(coded[i], out, sizeof(out), &n) == TA_OK && n == strlen(plain[i]) &&
		   memcmp(out, plain[i], n) == 0, name);
	}

	/* the two characters that differ from standard base64 */
	{
		const uint8_t bytes[] = {0xfb, 0xff, 0xbf};

		ok(ta_b64url_encode(bytes, 3, enc, sizeof(enc), &n) == TA_OK && n == 4 &&
		   memcmp(enc, "-_-_", 4) == 0, "encode uses - and _");
		ok(dec("-_-_", out, sizeof(out), &n) == TA_OK && n == 3 && memcmp(out, bytes, 3) == 0,
		   "decode - and _");
	}
	/* every byte value round-trips */
	{
		uint8_t		all[256];
		char		e[400];
		uint8_t		d[300];
		size_t		el,
					dl;

		for (i = 0; i < 256; i++)
			all[i] = (uint8_t) i;
		ok(ta_b64url_encode(all, 256, e, sizeof(e), &el) == TA_OK &&
		   el == TA_B64URL_ENCODED_LEN(256) &&
		   ta_b64url_decode(e, el, d, sizeof(d), &dl) == TA_OK && dl == 256 &&
		   memcmp(d, all, 256) == 0, "all 256 byte values round-trip");
	}

	/* refusals */
	is_int(dec("Zg==", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "padding refused");
	is_int(dec("Zm8=", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "single pad refused");
	is_int(dec("Zm9v+w", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "+ refused");
	is_int(dec("Zm9v/w", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "/ refused");
	is_int(dec("Zm 9v", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "space refused");
	is_int(dec("Zm9v\n", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "newline refused");
	is_int(dec("Zm9vY", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "length 4n+1 refused");
	is_int(dec("Z", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "length 1 refused");
	is_int(dec("Zh", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "non-zero trailing bits (2 chars)");
	is_int(dec("Zm9", out, sizeof(out), &n), TA_JWT_BAD_BASE64, "non-zero trailing bits (3 chars)");
	is_int(dec("Zm8", out, sizeof(out), &n), TA_OK, "zero trailing bits accepted");
	is_int(ta_b64url_decode("Zm\0v", 4, out, sizeof(out), &n), TA_JWT_BAD_BASE64, "NUL byte refused");
	{
		char		hi[2] = {'Z', (char) 0xC3};

		is_int(ta_b64url_decode(hi, 2, out, sizeof(out), &n), TA_JWT_BAD_BASE64, "non-ASCII refused");
	}
	is_int(dec("Zm9vYmFy", out, 5, &n), TA_ERR_BUFFER, "decode reports a small buffer");
	is_int(ta_b64url_encode((const uint8_t *) "foobar", 6, enc, 7, &n), TA_ERR_BUFFER,
		   "encode reports a small buffer");
	ok(TA_B64URL_DECODED_MAX(strlen("Zm9vYmE")) >= 5, "DECODED_MAX bounds the output");

	/* UTF-8 (RFC 3629 §4 and the examples of its §7) */
	ok(u8("", 0), "empty is UTF-8");
	ok(u8("plain ascii", 11), "ASCII");
	ok(u8("\x41\xE2\x89\xA2\xCE\x91\x2E", 7), "RFC 3629 §7 example A<NOT IDENTICAL TO><ALPHA>.");
	ok(u8("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", 9), "RFC 3629 §7 example Korean");
	ok(u8("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 9), "RFC 3629 §7 example Japanese");
	ok(u8("\xEF\xBB\xBF\xF0\xA3\x8E\xB4", 7), "RFC 3629 §7 example BOM + U+233B4");
	ok(u8("\xF4\x8F\xBF\xBF", 4), "U+10FFFF");
	ok(u8("\xED\x9F\xBF", 3), "U+D7FF");
	ok(u8("\xEE\x80\x80", 3), "U+E000");
	ok(u8("abcdefgh\xC3\xA9xyz01234567", 20), "ASCII run then 2-byte then run");
	ok(!u8("\xC0\xAF", 2), "overlong 2-byte refused");
	ok(!u8("\xC1\xBF", 2), "overlong C1 refused");
	ok(!u8("\xE0\x80\xAF", 3), "overlong 3-byte refused");
	ok(!u8("\xE0\x9F\xBF", 3), "overlong 3-byte U+07FF refused");
	ok(!u8("\xF0\x80\x80\xAF", 4), "overlong 4-byte refused");
	ok(!u8("\xF0\x8F\xBF\xBF", 4), "overlong 4-byte U+FFFF refused");
	ok(!u8("\xED\xA0\x80", 3), "surrogate U+D800 refused");
	ok(!u8("\xED\xBF\xBF", 3), "surrogate U+DFFF refused");
	ok(!u8("\xF4\x90\x80\x80", 4), "U+110000 refused");
	ok(!u8("\xF5\x80\x80\x80", 4), "F5 lead refused");
	ok(!u8("\xFF", 1), "FF refused");
	ok(!u8("\x80", 1), "lone continuation refused");
	ok(!u8("\xC3", 1), "truncated 2-byte refused");
	ok(!u8("\xE2\x82", 2), "truncated 3-byte refused");
	ok(!u8("\xF0\x9F\x98", 3), "truncated 4-byte refused");
	ok(!u8("\xC3\x28", 2), "bad continuation refused");
	ok(!u8("abcdefghijklmnop\xE9", 17), "latin-1 byte after a long ASCII run refused");
	ok(u8("a\0b", 3), "NUL is UTF-8 (JSON refuses it)");

	return done_testing();
}
