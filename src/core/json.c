/*
 * json.c: strict JSON (RFC 8259) validation and scanning of validated text.
 *
 * The validator is stricter than RFC 8259 exactly where PostgreSQL's jsonb input would
 * otherwise raise an error of its own (see json.h), so every failure surfaces here as one
 * status. Recursion is bounded by TA_JSON_MAX_DEPTH.
 */
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Limits of PostgreSQL's numeric input (utils/adt/numeric.c), measured on PostgreSQL 15: the
 * display scale (digits after the point, after applying the exponent) must fit in 14 bits, and
 * the most significant nonzero digit must lie below 10^131072 (base-10000 weight in an int16).
 * Exponents far beyond those are refused even for zero, so one bound on the exponent alone is
 * applied first; it is lower than numeric_in's own and thus conservative.
 */
#define NUMERIC_DSCALE_MAX 0x3FFF
#define NUMERIC_MSD_EXPONENT_MAX 131071
#define NUMERIC_EXPONENT_MAX 1000000

typedef struct vstate
{
	const unsigned char *p;
	const unsigned char *end;
	bool		escaped;		/* the last string validated held an escape */
	ta_json_member *members;	/* where to record the top-level object's members */
	size_t		cap;
	size_t		count;
} vstate;

static bool v_value(vstate *st, int depth, ta_json_type *type);

/* Skip insignificant whitespace (RFC 8259 §2). */
static inline void
v_ws(vstate *st)
{
	while (st->p < st->end &&
		   (*st->p == ' ' || *st->p == '\t' || *st->p == '\n' || *st->p == '\r'))
		st->p++;
}

/* Read four hex digits of a \u escape; -1 if they are not hex. */
static long
hex4(const unsigned char *p)
{
	long		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* 1 for bytes a string holds as they are: not '"', '\\' or a control character. */
static const unsigned char plain_char[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Validate a string (RFC 8259 §7) starting at its opening quote. */
static bool
v_string(vstate *st)
{
	const unsigned char *p = st->p + 1;
	const unsigned char *end = st->end;

	st->escaped = false;

	while (p < end)
	{
		unsigned char c;

		/* skip the bytes that need no attention, the bulk of any string */
		while (p < end && plain_char[*p])
			p++;
		if (p >= end)
			break;
		c = *p;
		if (c == '"')
		{
			st->p = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;		/* control characters must be escaped */
		st->escaped = true;
		if (end - p < 2)
			return false;
		switch (p[1])
		{
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				break;
			case 'u':
				{
					long		cp;

					if (end - p < 6 || (cp = hex4(p + 2)) < 0)
						return false;
					/* jsonb cannot store U+0000 in text */
					if (cp == 0)
						return false;
					p += 6;
					if (cp >= 0xDC00 && cp <= 0xDFFF)
						return false;	/* low surrogate without a high one */
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						long		lo;

						/* RFC 8259 §7: a pair of escapes, high then low */
						if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
							(lo = hex4(p + 2)) < 0xDC00 || lo > 0xDFFF)
							return false;
						p += 6;
					}
					break;
				}
			default:
				return false;
		}
	}
	return false;
}

/*
 * Validate a number (RFC 8259 §6) and check that PostgreSQL's numeric can hold it, so jsonb
 * input never refuses it.
 */
static bool
v_number(vstate *st)
{
	const unsigned char *p = st->p;
	const unsigned char *end = st->end;
	long		fracdigits = 0;
	long		exponent = 0;
	long		msd = 0;		/* power of ten of the most significant nonzero digit */
	bool		nonzero = false;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return false;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
	{
		long		intdigits = 0;

		while (p < end && *p >= '0' && *p <= '9')
		{
			p++;
			intdigits++;
		}
		nonzero = true;
		msd = intdigits - 1;
	}
	else
		return false;
	if (p < end && *p == '.')
	{
		p++;
		while (p < end && *p >= '0' && *p <= '9')
		{
			fracdigits++;
			if (!nonzero && *p != '0')
			{
				nonzero = true;
				msd = -fracdigits;
			}
			p++;
		}
		if (fracdigits == 0)
			return false;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		bool		neg = false;
		int			ndigits = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			neg = (*p++ == '-');
		while (p < end && *p >= '0' && *p <= '9')
		{
			/* saturate: anything past the limit is refused below anyway */
			if (exponent <= NUMERIC_EXPONENT_MAX)
				exponent = exponent * 10 + (*p - '0');
			p++;
			ndigits++;
		}
		if (ndigits == 0)
			return false;
		if (exponent > NUMERIC_EXPONENT_MAX)
			return false;
		if (neg)
			exponent = -exponent;
	}
	if (fracdigits - exponent > NUMERIC_DSCALE_MAX)
		return false;
	if (nonzero && msd + exponent > NUMERIC_MSD_EXPONENT_MAX)
		return false;
	st->p = p;
	return true;
}

/* Validate a literal name (RFC 8259 §3). */
static bool
v_literal(vstate *st, const char *word, size_t n)
{
	if ((size_t) (st->end - st->p) < n || memcmp(st->p, word, n) != 0)
		return false;
	st->p += n;
	return true;
}

/*
 * After a member or element: skip whitespace, then take a ',' (1: another follows) or the
 * container's closing byte (0: done); anything else is an error (-1).
 */
static int
v_next(vstate *st, unsigned char close)
{
	v_ws(st);
	if (st->p >= st->end)
		return -1;
	if (*st->p == close)
	{
		st->p++;
		return 0;
	}
	if (*st->p != ',')
		return -1;
	st->p++;
	return 1;
}

/* Validate an object (RFC 8259 §4) starting at '{'. */
static bool
v_object(vstate *st, int depth)	/* NOLINT(misc-no-recursion): depth is bounded by TA_JSON_MAX_DEPTH */
{
	ta_json_type t;
	int			next;

	st->p++;
	v_ws(st);
	if (st->p < st->end && *st->p == '}')
	{
		st->p++;
		return true;
	}
	for (;;)
	{
		const unsigned char *key,
				   *val;
		bool		key_escaped;

		v_ws(st);
		key = st->p;
		if (st->p >= st->end || *st->p != '"' || !v_string(st))
			return false;
		key_escaped = st->escaped;
		v_ws(st);
		if (st->p >= st->end || *st->p != ':')
			return false;
		st->p++;
		v_ws(st);
		val = st->p;
		st->escaped = false;
		if (!v_value(st, depth, &t))
			return false;
		/* depth 1 is the top-level object */
		if (depth == 1 && st->members != NULL)
		{
			if (st->count < st->cap)
			{
				ta_json_member *m = &st->members[st->count];

				m->key.ptr = (const char *) key;
				m->key.len = (size_t) (val - key);
				while (m->key.ptr[m->key.len - 1] != '"')
					m->key.len--;	/* drop the ':' and whitespace */
				m->key_escaped = key_escaped;
				m->type = t;
				m->value.ptr = (const char *) val;
				m->value.len = (size_t) (st->p - val);
				m->value_escaped = (t == TA_JSON_STRING && st->escaped);
			}
			st->count++;
		}
		if ((next = v_next(st, '}')) <= 0)
			return next == 0;
	}
}

/* Validate an array (RFC 8259 §5) starting at '['. */
static bool
v_array(vstate *st, int depth)	/* NOLINT(misc-no-recursion): depth is bounded by TA_JSON_MAX_DEPTH */
{
	ta_json_type t;
	int			next;

	st->p++;
	v_ws(st);
	if (st->p < st->end && *st->p == ']')
	{
		st->p++;
		return true;
	}
	for (;;)
	{
		if (!v_value(st, depth, &t))
			return false;
		if ((next = v_next(st, ']')) <= 0)
			return next == 0;
	}
}

/* Validate one value with surrounding whitespace; depth counts enclosing containers. */
static bool
v_value(vstate *st, int depth, ta_json_type *type)	/* NOLINT(misc-no-recursion): depth is bounded by TA_JSON_MAX_DEPTH */
{
	bool		ok;

	v_ws(st);
	if (st->p >= st->end)
		return false;
	switch (*st->p)
	{
		case '{':
			if (depth >= TA_JSON_MAX_DEPTH)
				return false;
			*type = TA_JSON_OBJECT;
			ok = v_object(st, depth + 1);
			break;
		case '[':
			if (depth >= TA_JSON_MAX_DEPTH)
				return false;
			*type = TA_JSON_ARRAY;
			ok = v_array(st, depth + 1);
			break;
		case '"':
			*type = TA_JSON_STRING;
			ok = v_string(st);
			break;
		case 't':
			*type = TA_JSON_TRUE;
			ok = v_literal(st, "true", 4);
			break;
		case 'f':
			*type = TA_JSON_FALSE;
			ok = v_literal(st, "false", 5);
			break;
		case 'n':
			*type = TA_JSON_NULL;
			ok = v_literal(st, "null", 4);
			break;
		default:
			*type = TA_JSON_NUMBER;
			ok = v_number(st);
			break;
	}
	return ok;
}

/*
 * Check that s[0..len) is one JSON text (RFC 8259 §2) that jsonb input also accepts; *top gets
 * the type of its value. Returns TA_OK or TA_JWT_BAD_JSON.
 */
ta_status
ta_json_validate(const char *s, size_t len, ta_json_type *top)
{
	size_t		count;

	return ta_json_validate_members(s, len, top, NULL, 0, &count);
}

/*
 * Like ta_json_validate, and when the text is an object, also record its members in
 * members[0..cap) as they are met; *count gets how many there are (possibly more than cap).
 */
ta_status
ta_json_validate_members(const char *s, size_t len, ta_json_type *top,
						 ta_json_member *members, size_t cap, size_t *count)
{
	vstate		st;
	ta_json_type t = TA_JSON_INVALID;

	st.p = (const unsigned char *) s;
	st.end = st.p + len;
	st.escaped = false;
	st.members = members;
	st.cap = cap;
	st.count = 0;
	if (!v_value(&st, 0, &t))
		return TA_JWT_BAD_JSON;
	v_ws(&st);
	if (st.p != st.end)
		return TA_JWT_BAD_JSON;
	*top = t;
	*count = st.count;
	return TA_OK;
}

/* Skip whitespace in validated text. */
static inline const char *
s_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* 1 for the bytes that end a run of plain string content: '"' and '\\'. */
static const unsigned char string_stop[256] = {
	['"'] = 1, ['\\'] = 1,
};

/*
 * Return the end of the validated string whose opening quote is at p. The inner loop's step
 * does not depend on the byte it reads, so the scan is not bound by load latency.
 */
static inline const char *
s_string_end(const char *p, const char *end)
{
	const char *q = p + 1;

	for (;;)
	{
		/* validated text always has the closing quote before end */
		while (!string_stop[(unsigned char) *q])
			q++;
		if (*q == '"' || q + 2 > end)
			return q + 1;
		q += 2;
	}
}

/* Return the end of the validated value starting at p; *type gets its type. */
static const char *
s_skip(const char *p, const char *end, ta_json_type *type)
{
	switch (*p)
	{
		case '"':
			*type = TA_JSON_STRING;
			return s_string_end(p, end);
		case '{':
		case '[':
			{
				int			level = 0;

				*type = (*p == '{') ? TA_JSON_OBJECT : TA_JSON_ARRAY;
				for (; p < end; p++)
				{
					if (*p == '"')
						p = s_string_end(p, end) - 1;
					else if (*p == '{' || *p == '[')
						level++;
					else if ((*p == '}' || *p == ']') && --level == 0)
						return p + 1;
				}
				return p;
			}
		case 't':
			*type = TA_JSON_TRUE;
			return p + 4;
		case 'f':
			*type = TA_JSON_FALSE;
			return p + 5;
		case 'n':
			*type = TA_JSON_NULL;
			return p + 4;
		default:
			*type = TA_JSON_NUMBER;
			while (p < end && (*p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
							   *p == 'E' || (*p >= '0' && *p <= '9')))
				p++;
			return p;
	}
}

/* Position a cursor just inside a validated object or array. */
void
ta_json_iter_init(ta_json_iter *it, ta_json_span container)
{
	it->p = container.ptr + 1;
	it->end = container.ptr + container.len;
}

/* Step to the next member of an object; false after the last one. */
bool
ta_json_iter_member(ta_json_iter *it, ta_json_span *key, ta_json_type *type,
					ta_json_span *value)
{
	const char *p = s_ws(it->p, it->end);
	const char *q;
	ta_json_type kt;

	if (p < it->end && *p == ',')
		p = s_ws(p + 1, it->end);
	if (p >= it->end || *p != '"')
		return false;
	q = s_skip(p, it->end, &kt);
	key->ptr = p;
	key->len = (size_t) (q - p);
	p = s_ws(q, it->end);
	p = s_ws(p + 1, it->end);	/* the ':' */
	q = s_skip(p, it->end, type);
	value->ptr = p;
	value->len = (size_t) (q - p);
	it->p = q;
	return true;
}

/* Step to the next element of an array; false after the last one. */
bool
ta_json_iter_element(ta_json_iter *it, ta_json_type *type, ta_json_span *value)
{
	const char *p = s_ws(it->p, it->end);
	const char *q;

	if (p < it->end && *p == ',')
		p = s_ws(p + 1, it->end);
	if (p >= it->end || *p == ']')
		return false;
	q = s_skip(p, it->end, type);
	value->ptr = p;
	value->len = (size_t) (q - p);
	it->p = q;
	return true;
}

/* The span of the object in validated text, without the whitespace around it. */
ta_json_span
ta_json_object_span(const char *text, size_t len)
{
	ta_json_span s;

	s.ptr = text;
	s.len = len;
	while (s.len > 0 && *s.ptr != '{')
		s.ptr++, s.len--;
	while (s.len > 0 && s.ptr[s.len - 1] != '}')
		s.len--;
	return s;
}

/*
 * Find member key of a validated object. Like jsonb, when a key repeats the last one wins, so
 * what is checked here is what the caller later sees in the jsonb value.
 */
bool
ta_json_object_get(ta_json_span object, const char *key, size_t keylen,
				   ta_json_type *type, ta_json_span *value)
{
	ta_json_iter it;
	ta_json_span k,
				v;
	ta_json_type t;
	bool		found = false;

	ta_json_iter_init(&it, object);
	while (ta_json_iter_member(&it, &k, &t, &v))
	{
		if (ta_json_string_eq(k, key, keylen))
		{
			*type = t;
			*value = v;
			found = true;
		}
	}
	return found;
}

/* Decode the escape at p (after the backslash) into UTF-8 in buf; returns bytes, *adv input. */
static size_t
unescape_one(const char *p, char buf[4], size_t *adv)
{
	long		cp;

	switch (*p)
	{
		case 'b':
			buf[0] = '\b';
			break;
		case 'f':
			buf[0] = '\f';
			break;
		case 'n':
			buf[0] = '\n';
			break;
		case 'r':
			buf[0] = '\r';
			break;
		case 't':
			buf[0] = '\t';
			break;
		case 'u':
			cp = hex4((const unsigned char *) p + 1);
			*adv = 5;
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				long		lo = hex4((const unsigned char *) p + 7);

				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				*adv = 11;
			}
			if (cp < 0x80)
			{
				buf[0] = (char) cp;
				return 1;
			}
			if (cp < 0x800)
			{
				buf[0] = (char) (0xC0 | (cp >> 6));
				buf[1] = (char) (0x80 | (cp & 0x3F));
				return 2;
			}
			if (cp < 0x10000)
			{
				buf[0] = (char) (0xE0 | (cp >> 12));
				buf[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
				buf[2] = (char) (0x80 | (cp & 0x3F));
				return 3;
			}
			buf[0] = (char) (0xF0 | (cp >> 18));
			buf[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
			buf[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
			buf[3] = (char) (0x80 | (cp & 0x3F));
			return 4;
		default:				/* '"', '\\', '/' stand for themselves */
			buf[0] = *p;
			break;
	}
	*adv = 1;
	return 1;
}

/* True when the validated string str, unescaped, equals want[0..wantlen). */
bool
ta_json_string_eq(ta_json_span str, const char *want, size_t wantlen)
{
	const char *p = str.ptr + 1;
	const char *end = str.ptr + str.len - 1;
	size_t		i = 0;
	size_t		rawlen = str.len - 2;

	/* An escape is longer than what it stands for, so the raw text is never shorter. */
	if (rawlen < wantlen)
		return false;
	if (rawlen == wantlen)
		return memcmp(p, want, wantlen) == 0 && memchr(p, '\\', rawlen) == NULL;
	if (memchr(p, '\\', rawlen) == NULL)
		return false;
	while (p < end)
	{
		if (*p != '\\')
		{
			if (i >= wantlen || want[i] != *p)
				return false;
			i++;
			p++;
		}
		else
		{
			char		buf[4];
			size_t		adv;
			size_t		n = unescape_one(p + 1, buf, &adv);

			if (wantlen - i < n || memcmp(want + i, buf, n) != 0)
				return false;
			i += n;
			p += 1 + adv;
		}
	}
	return i == wantlen;
}

/* Write the unescaped bytes of validated string str to out (cap bytes; no NUL). */
ta_status
ta_json_string_unescape(ta_json_span str, char *out, size_t cap, size_t *outlen)
{
	const char *p = str.ptr + 1;
	const char *end = str.ptr + str.len - 1;
	size_t		o = 0;

	while (p < end)
	{
		char		buf[4];
		size_t		n,
					adv;

		if (*p != '\\')
		{
			buf[0] = *p++;
			n = 1;
		}
		else
		{
			n = unescape_one(p + 1, buf, &adv);
			p += 1 + adv;
		}
		if (cap - o < n)
			return TA_ERR_BUFFER;
		memcpy(out + o, buf, n);
		o += n;
	}
	*outlen = o;
	return TA_OK;
}

/*
 * The value of a validated number as a double (infinite when out of range). Rewrites it with at
 * most 40 significant digits first, so any length works with a bounded buffer.
 */
double
ta_json_number_value(ta_json_span num)
{
	char		buf[64];
	size_t		o = 0;
	const char *p = num.ptr;
	const char *end = num.ptr + num.len;
	long		exp10 = 0;
	long		e = 0;
	int			sig = 0;
	bool		seen_nonzero = false;

	/* fast path: a plain integer of up to 15 digits is exact in a double */
	if (num.len <= 16)
	{
		const char *q = p;
		bool		neg = (q < end && *q == '-');
		double		d = 0;

		if (neg)
			q++;
		while (q < end && *q >= '0' && *q <= '9' && q - p < 16)
			d = d * 10 + (*q++ - '0');
		if (q == end && q - p <= (neg ? 16 : 15))
			return neg ? -d : d;
	}

	if (p < end && *p == '-')
		buf[o++] = *p++;
	buf[o++] = '0';
	buf[o++] = '.';
	/* mantissa digits as 0.ddd * 10^exp10 */
	for (; p < end && *p >= '0' && *p <= '9'; p++)
	{
		if (!seen_nonzero && *p == '0')
			continue;
		seen_nonzero = true;
		exp10++;
		if (sig < 40)
			buf[o++] = *p, sig++;
	}
	if (p < end && *p == '.')
	{
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
		{
			if (!seen_nonzero && *p == '0')
			{
				exp10--;
				continue;
			}
			seen_nonzero = true;
			if (sig < 40)
				buf[o++] = *p, sig++;
		}
	}
	if (!seen_nonzero)
		return 0.0;
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		bool		neg = false;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			neg = (*p++ == '-');
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
		if (neg)
			e = -e;
	}
	exp10 += e;
	if (exp10 > 100000)
		exp10 = 100000;
	else if (exp10 < -100000)
		exp10 = -100000;
	o += (size_t) snprintf(buf + o, sizeof(buf) - o, "e%ld", exp10);
	buf[o < sizeof(buf) ? o : sizeof(buf) - 1] = '\0';
	return strtod(buf, NULL);
}
