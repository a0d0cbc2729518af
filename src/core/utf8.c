/*
 * utf8.c: strict UTF-8 validation.
 *
 * Follows the byte-sequence grammar of RFC 3629 §4, which already excludes overlong forms,
 * UTF-16 surrogates (U+D800..U+DFFF) and anything above U+10FFFF. A zero byte is valid UTF-8
 * but never valid JSON, so the JSON layer rejects it.
 */
#include "core/utf8.h"

#include <string.h>

/* True when s[0..len) is well-formed UTF-8 per RFC 3629 §4. */
bool
ta_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		c = s[i];

		if (c < 0x80)
		{
			/* ASCII runs, which are most of a token, eight bytes at a time */
			while (len - i >= 8)
			{
				uint64_t	w;

				memcpy(&w, s + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			if (i < len && s[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			/* UTF8-2 = %xC2-DF UTF8-tail (C0, C1 would be overlong) */
			if (len - i < 2 || (s[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			uint8_t		lo = 0x80,
						hi = 0xBF;

			/* E0 needs A0..BF (else overlong); ED needs 80..9F (else a surrogate). */
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
			if (len - i < 3 || s[i + 1] < lo || s[i + 1] > hi ||
				(s[i + 2] & 0xC0) != 0x80)
				return false;
			i += 3;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			uint8_t		lo = 0x80,
						hi = 0xBF;

			/* F0 needs 90..BF (else overlong); F4 needs 80..8F (else above U+10FFFF). */
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
			if (len - i < 4 || s[i + 1] < lo || s[i + 1] > hi ||
				(s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
				return false;
			i += 4;
		}
		else
			return false;		/* 80..C1 lead, F5..FF */
	}
	return true;
}
