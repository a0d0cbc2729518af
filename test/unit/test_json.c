/* Unit tests: the strict JSON validator and scanner (RFC 8259, jsonb limits). */
#include "tap.h"

#include "core/json.h"

/* The validator's verdict on a NUL-terminated text: the top type, or TA_JSON_INVALID. */
static ta_json_type
v(const char *s)
{
	ta_json_type t = TA_JSON_INVALID;

	if (ta_json_validate(s, strlen(s), &t) != TA_OK)
		return TA_JSON_INVALID;
	return t;
}

/* Make a one-line test name from a JSON text (control characters shown as '?'). */
static void
name_of(char *name, size_t cap, const char *prefix, const char *s)
{
	size_t		i;

	snprintf(name, cap, "%s%.60s", prefix, s);
	for (i = 0; name[i]; i++)
		if ((unsigned char) name[i] < 0x20)
			name[i] = '?';
}

/* A span over a NUL-terminated string. */
static ta_json_span
sp(const char *s)
{
	ta_json_span r = {s, strlen(s)};

	return r;
}

int
main(void)
{
	static const char *good[] = {
		"{}", "[]", "\"\"", "0", "-0", "1", "-1", "1.5", "1e5", "1E+5", "1e-5", "0.0e0",
		"true", "false", "null", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
		"{\"a\":{\"b\":[true,false,null,\"x\",-1.25e+10]}}",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uFFFF\"",
		"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", "{\"a\":1,\"a\":2}",
		"1e1000", "1e131071", "9.99e131071", "0.00001e131076", "1e-16383", "0.1e-16382",
		"0e999999", "123456789012345678901234567890",
	};
	static const char *bad[] = {
		"", " ", "{", "}", "[", "[1,]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}", "{1:2}",
		"{'a':1}", "[1 2]", "01", "-", "+1", "1.", ".5", "1e", "1e+", "0x10", "NaN", "Infinity",
		"-Infinity", "tru", "True", "nul", "\"abc", "\"a\tb\"", "\"a\nb\"", "\"\\x41\"", "\"\\u12\"",
		"\"\\u12G4\"", "\"\\U0041\"", "\"\\u0000\"", "\"\\ud83d\"", "\"\\ude00\"",
		"\"\\ud83d\\u0041\"", "\"\\ud83dx\"", "\"\\ude00\\ud83d\"", "{} {}", "1 2", "[] x",
		"1e1000001", "1e131072", "10e131071", "0.00001e131077", "1e-16384", "1.5e-16383",
		"0e-16384", "1e99999999999999999999", "/* c */ 1", "[1,2]]", "{\"a\":1}}",
	};
	char		deep[200];
	char		buf[64];
	size_t		n;
	int			i;

	for (i = 0; i < (int) (sizeof(good) / sizeof(good[0])); i++)
	{
		char		name[128];

		name_of(name, sizeof(name), "valid: ", good[i]);
		ok(v(good[i]) != TA_JSON_INVALID, name);
	}
	for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
	{
		char		name[128];

		name_of(name, sizeof(name), "invalid: ", bad[i]);
		ok(v(bad[i]) == TA_JSON_INVALID, name);
	}
	ok(ta_json_validate("{\"a\":\"\0\"}", 9, &(ta_json_type) {0}) == TA_JWT_BAD_JSON,
	   "raw NUL in a string refused");
	ok(ta_json_validate("{} ", 2, &(ta_json_type) {0}) == TA_OK, "length bounds the input");
	ok(ta_json_validate("[1", 2, &(ta_json_type) {0}) == TA_JWT_BAD_JSON,
	   "no read past the length");

	is_int(v("{\"a\":1}"), TA_JSON_OBJECT, "top type object");
	is_int(v("[1]"), TA_JSON_ARRAY, "top type array");
	is_int(v("\"s\""), TA_JSON_STRING, "top type string");
	is_int(v("-2"), TA_JSON_NUMBER, "top type number");
	is_int(v("null"), TA_JSON_NULL, "top type null");

	/* nesting limit */
	memset(deep, 0, sizeof(deep));
	for (i = 0; i < TA_JSON_MAX_DEPTH; i++)
		deep[i] = '[';
	for (i = 0; i < TA_JSON_MAX_DEPTH; i++)
		deep[TA_JSON_MAX_DEPTH + i] = ']';
	ok(v(deep) == TA_JSON_ARRAY, "nesting at the limit accepted");
	memmove(deep + 1, deep, 2 * TA_JSON_MAX_DEPTH);
	deep[0] = '[';
	deep[2 * TA_JSON_MAX_DEPTH + 1] = ']';
	ok(v(deep) == TA_JSON_INVALID, "nesting one past the limit refused");

	/* scanner: members, last duplicate wins, escaped keys */
	{
		const char *doc = "{ \"a\" : 1, \"b\":[1,{\"c\":\"}\"}], \"\\u0061\":\"x\\\"y\", \"d\":{} }";
		ta_json_span obj = sp(doc),
					val;
		ta_json_type t;
		ta_json_iter it;
		ta_json_span k;
		int			members = 0;

		ok(v(doc) == TA_JSON_OBJECT, "scanner document is valid");
		ta_json_iter_init(&it, obj);
		while (ta_json_iter_member(&it, &k, &t, &val))
			members++;
		is_int(members, 4, "iterates four members");
		ok(ta_json_object_get(obj, "a", 1, &t, &val) && t == TA_JSON_STRING &&
		   val.len == 6 && memcmp(val.ptr, "\"x\\\"y\"", 6) == 0,
		   "escaped duplicate key: the last value wins");
		ok(ta_json_object_get(obj, "b", 1, &t, &val) && t == TA_JSON_ARRAY &&
		   val.len == 13, "array value span skips a quoted brace");
		ok(ta_json_object_get(obj, "d", 1, &t, &val) && t == TA_JSON_OBJECT && val.len == 2,
		   "empty object value");
		ok(!ta_json_object_get(obj, "c", 1, &t, &val), "nested keys are not members");
		ok(ta_json_string_unescape(sp("\"x\\\"y\""), buf, sizeof(buf), &n) == TA_OK && n == 3 &&
		   memcmp(buf, "x\"y", 3) == 0, "unescape quote");
	}
	{
		ta_json_iter it;
		ta_json_span e;
		ta_json_type t;
		int			count = 0;

		ta_json_iter_init(&it, sp("[ 1 , \"a,b\" , [2,3] , {\"k\":[]} ]"));
		while (ta_json_iter_element(&it, &t, &e))
			count++;
		is_int(count, 4, "array elements");
		ta_json_iter_init(&it, sp("[]"));
		ok(!ta_json_iter_element(&it, &t, &e), "empty array has no elements");
	}

	/* members recorded while validating */
	{
		const char *doc = " {\"a\" : \"x\\ny\", \"b\\u0062\":[1,{\"c\":2}] ,\"d\":-1.5e3, \"e\":\"plain\"} ";
		ta_json_member m[3];
		ta_json_type t;
		size_t		count;

		ok(ta_json_validate_members(doc, strlen(doc), &t, m, 3, &count) == TA_OK &&
		   t == TA_JSON_OBJECT && count == 4, "members counted past the capacity");
		ok(m[0].key.len == 3 && memcmp(m[0].key.ptr, "\"a\"", 3) == 0 && !m[0].key_escaped &&
		   m[0].type == TA_JSON_STRING && m[0].value_escaped && m[0].value.len == 6,
		   "member a: escaped string value");
		ok(m[1].key_escaped && ta_json_string_eq(m[1].key, "bb", 2) && m[1].type == TA_JSON_ARRAY &&
		   m[1].value.len == 11, "member bb: escaped key, array value");
		ok(m[2].type == TA_JSON_NUMBER && m[2].value.len == 6 && !m[2].value_escaped,
		   "member d: number");
		ok(ta_json_validate_members("[{\"a\":1}]", 9, &t, m, 3, &count) == TA_OK && count == 0,
		   "nested objects are not recorded");
	}

	/* string comparison and unescaping */
	ok(ta_json_string_eq(sp("\"api\""), "api", 3), "eq plain");
	ok(!ta_json_string_eq(sp("\"api\""), "apx", 3), "ne plain");
	ok(!ta_json_string_eq(sp("\"api\""), "ap", 2), "ne prefix");
	ok(ta_json_string_eq(sp("\"\\u0061pi\""), "api", 3), "eq with \\u escape");
	ok(!ta_json_string_eq(sp("\"\\u0061pi\""), "\\u0061pi", 8), "escape is not its spelling");
	ok(ta_json_string_eq(sp("\"\\u00e9\""), "\xc3\xa9", 2), "eq with 2-byte escape");
	ok(ta_json_string_eq(sp("\"\\ud83d\\ude00\""), "\xf0\x9f\x98\x80", 4), "eq with surrogate pair");
	ok(ta_json_string_eq(sp("\"a\\/b\\\\\""), "a/b\\", 4), "eq with \\/ and \\\\");
	ok(ta_json_string_eq(sp("\"\""), "", 0), "eq empty");
	ok(ta_json_string_unescape(sp("\"\\b\\f\\n\\r\\t\\u20ac\""), buf, sizeof(buf), &n) == TA_OK &&
	   n == 8 && memcmp(buf, "\b\f\n\r\t\xe2\x82\xac", 8) == 0, "unescape controls and U+20AC");
	is_int(ta_json_string_unescape(sp("\"abcdef\""), buf, 3, &n), TA_ERR_BUFFER,
		   "unescape reports a small buffer");

	/* numbers as doubles */
	ok(ta_json_number_value(sp("1516239022")) == 1516239022.0, "integer");
	ok(ta_json_number_value(sp("-42")) == -42.0, "negative integer");
	ok(ta_json_number_value(sp("1300819380.5")) == 1300819380.5, "fraction");
	ok(ta_json_number_value(sp("1.3008193805e9")) == 1300819380.5, "exponent");
	ok(ta_json_number_value(sp("0.000001e15")) == 1e9, "small mantissa, large exponent");
	ok(ta_json_number_value(sp("0")) == 0.0, "zero");
	ok(ta_json_number_value(sp("-0.0e5")) == 0.0, "negative zero");
	ok(ta_json_number_value(sp("1e999")) > 1e308, "huge is +inf");
	ok(ta_json_number_value(sp("-1e999")) < -1e308, "negative huge is -inf");
	ok(ta_json_number_value(sp("1e-999")) == 0.0, "tiny is 0");
	ok(ta_json_number_value(sp("12345678901234567890123456789012345678901234567890")) > 1.2345e49,
	   "fifty digits");
	ok(ta_json_number_value(sp("9007199254740993")) == 9007199254740992.0,
	   "16 digits rounds like strtod");

	return done_testing();
}
