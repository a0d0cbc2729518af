/*
 * json.h: a strict, small JSON (RFC 8259) validator and a scanner over validated text.
 *
 * ta_json_validate accepts a subset of RFC 8259 that PostgreSQL's jsonb input is guaranteed
 * to accept too, so text that passes here can be handed to jsonb_in without any error path:
 * it refuses \u0000, unpaired surrogate escapes, numbers outside what numeric can store, and
 * nesting deeper than TA_JSON_MAX_DEPTH. Input must already be valid UTF-8 (core/utf8.h).
 *
 * The scanner functions (ta_json_iter_*, ta_json_string_*, ta_json_number_value) assume text
 * that ta_json_validate accepted; they do no error checking of their own.
 */
#ifndef TASKAUTH_JSON_H
#define TASKAUTH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ta_status.h"

/* Deepest nesting of arrays and objects accepted (claims sets are flat in practice). */
#define TA_JSON_MAX_DEPTH 64

typedef enum ta_json_type
{
	TA_JSON_INVALID = 0,
	TA_JSON_OBJECT,
	TA_JSON_ARRAY,
	TA_JSON_STRING,
	TA_JSON_NUMBER,
	TA_JSON_TRUE,
	TA_JSON_FALSE,
	TA_JSON_NULL
} ta_json_type;

/* A value's raw text; strings include their quotes. */
typedef struct ta_json_span
{
	const char *ptr;
	size_t		len;
} ta_json_span;

/* One member of an object, as ta_json_validate_members records it. */
typedef struct ta_json_member
{
	ta_json_span key;			/* the key string, quotes included */
	ta_json_span value;
	ta_json_type type;			/* of the value */
	bool		key_escaped;	/* the key holds a backslash escape */
	bool		value_escaped;	/* a string value holds a backslash escape */
} ta_json_member;

/* Cursor over the members of an object or the elements of an array. */
typedef struct ta_json_iter
{
	const char *p;
	const char *end;
} ta_json_iter;

extern ta_status ta_json_validate(const char *s, size_t len, ta_json_type *top);
extern ta_status ta_json_validate_members(const char *s, size_t len, ta_json_type *top,
										  ta_json_member *members, size_t cap, size_t *count);

extern void ta_json_iter_init(ta_json_iter *it, ta_json_span container);
extern bool ta_json_iter_member(ta_json_iter *it, ta_json_span *key,
								ta_json_type *type, ta_json_span *value);
extern bool ta_json_iter_element(ta_json_iter *it, ta_json_type *type, ta_json_span *value);
extern ta_json_span ta_json_object_span(const char *text, size_t len);
extern bool ta_json_object_get(ta_json_span object, const char *key, size_t keylen,
							   ta_json_type *type, ta_json_span *value);

extern bool ta_json_string_eq(ta_json_span str, const char *want, size_t wantlen);
extern ta_status ta_json_string_unescape(ta_json_span str, char *out, size_t cap,
										 size_t *outlen);
extern double ta_json_number_value(ta_json_span num);

#endif
