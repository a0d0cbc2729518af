/*
 * libFuzzer target for the token parser: splitting, base64url, UTF-8, the JSON validator and
 * scanner, header checks, MAC verification and claim checks, with a fixed secret.
 *
 * Besides "no crash", it checks properties: accepted base64url re-encodes to the same text
 * (one spelling per byte string); an input whose MAC is replaced by the right one reaches the
 * payload and claim checks; every string in accepted JSON unescapes to something it compares
 * equal to.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"
#include "core/utf8.h"

static const uint8_t key[] = "fuzz-secret";

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* Check the string invariants of one validated string. */
static void
check_string(ta_json_span s)
{
	char	   *buf = malloc(s.len);
	size_t		n;

	CHECK(ta_json_string_unescape(s, buf, s.len, &n) == TA_OK);
	CHECK(n <= s.len - 2);
	CHECK(ta_json_string_eq(s, buf, n));
	if (n > 0)
		CHECK(!ta_json_string_eq(s, buf, n - 1));
	free(buf);
}

/* Walk every value of validated JSON through the scanner. */
static void
walk(ta_json_type t, ta_json_span v, int depth)
{
	ta_json_iter it;
	ta_json_span k,
				e;
	ta_json_type et;

	CHECK(depth <= TA_JSON_MAX_DEPTH + 1);
	switch (t)
	{
		case TA_JSON_OBJECT:
			ta_json_iter_init(&it, v);
			while (ta_json_iter_member(&it, &k, &et, &e))
			{
				CHECK(k.ptr >= v.ptr && k.ptr + k.len <= v.ptr + v.len);
				CHECK(e.ptr >= v.ptr && e.ptr + e.len <= v.ptr + v.len);
				check_string(k);
				walk(et, e, depth + 1);
			}
			break;
		case TA_JSON_ARRAY:
			ta_json_iter_init(&it, v);
			while (ta_json_iter_element(&it, &et, &e))
			{
				CHECK(e.ptr >= v.ptr && e.ptr + e.len <= v.ptr + v.len);
				walk(et, e, depth + 1);
			}
			break;
		case TA_JSON_STRING:
			check_string(v);
			break;
		case TA_JSON_NUMBER:
			(void) ta_json_number_value(v);
			break;
		default:
			break;
	}
}

/* Validate data as a JSON text and walk it when accepted. */
static void
fuzz_json(const char *data, size_t size)
{
	ta_json_type top;
	ta_json_span s;

	if (!ta_utf8_valid((const uint8_t *) data, size))
		return;
	if (ta_json_validate(data, size, &top) != TA_OK)
		return;
	/* trim whitespace around the top value for the scanner */
	s.ptr = data;
	s.len = size;
	while (s.len && (*s.ptr == ' ' || *s.ptr == '\t' || *s.ptr == '\n' || *s.ptr == '\r'))
		s.ptr++, s.len--;
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t' ||
					 s.ptr[s.len - 1] == '\n' || s.ptr[s.len - 1] == '\r'))
		s.len--;
	walk(top, s, 0);

	/* the members recorded during validation are the ones the scanner finds, in order */
	if (top == TA_JSON_OBJECT)
	{
		ta_json_member m[4];
		size_t		count,
					i = 0;
		ta_json_type t2;
		ta_json_iter it;
		ta_json_span k,
					val;
		ta_json_type vt;
		ta_jws_claim_opts o = {1.7e9, 30, "api", 3, "iss", 3, NULL};

		CHECK(ta_json_validate_members(data, size, &t2, m, 4, &count) == TA_OK && t2 == top);
		ta_json_iter_init(&it, s);
		while (ta_json_iter_member(&it, &k, &vt, &val))
		{
			if (i < 4)
			{
				CHECK(m[i].key.ptr == k.ptr && m[i].key.len == k.len);
				CHECK(m[i].value.ptr == val.ptr && m[i].value.len == val.len);
				CHECK(m[i].type == vt);
				CHECK(m[i].key_escaped == (memchr(k.ptr, '\\', k.len) != NULL));
				if (vt == TA_JSON_STRING)
					CHECK(m[i].value_escaped == (memchr(val.ptr, '\\', val.len) != NULL));
			}
			i++;
		}
		CHECK(i == count);
		if (count <= 4)
			CHECK(ta_jws_check_claims_members(m, count, &o) == ta_jws_check_claims(data, size, &o));
	}
}

/* Accepted base64url must re-encode to exactly the input. */
static void
fuzz_b64(const char *data, size_t size)
{
	uint8_t    *dec = malloc(TA_B64URL_DECODED_MAX(size) + 1);
	char	   *enc = malloc(size + 4);
	size_t		dl,
				el;

	if (ta_b64url_decode(data, size, dec, TA_B64URL_DECODED_MAX(size) + 1, &dl) == TA_OK)
	{
		CHECK(ta_b64url_encode(dec, dl, enc, size + 4, &el) == TA_OK);
		CHECK(el == size && memcmp(enc, data, size) == 0);
	}
	free(dec);
	free(enc);
}

/* Verify token with the fixed key; walk the payload when it verifies. */
static ta_status
verify(const char *tok, size_t len)
{
	ta_jws_claim_opts o = {1.7e9, 30, "api", 3, NULL, 0, NULL};
	size_t		cap = len + 8;
	char	   *payload = malloc(cap);
	size_t		pl;
	ta_status	st;

	st = ta_jws_verify(tok, len, key, sizeof(key) - 1, &o, payload, cap, &pl);
	if (st == TA_OK)
	{
		CHECK(payload[pl] == '\0');
		fuzz_json(payload, pl);
	}
	free(payload);
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tok = (const char *) data;
	ta_jws_parts parts;

	(void) verify(tok, size);
	fuzz_json(tok, size);
	fuzz_b64(tok, size);

	/* Give the input the MAC it needs, so the payload and claim checks are reached too. */
	if (ta_jws_split(tok, size, &parts) == TA_OK)
	{
		size_t		si = parts.signing_input_len;
		char	   *resigned = malloc(si + 1 + TA_B64URL_ENCODED_LEN(TA_JWS_MAX_MAC_LEN));
		uint8_t		mac[TA_JWS_MAX_MAC_LEN];
		size_t		ml,
					el;
		char	   *hbuf = malloc(TA_B64URL_DECODED_MAX(parts.header_len) + 1);
		ta_jws_header hdr;

		if (ta_jws_parse_header(&parts, hbuf, TA_B64URL_DECODED_MAX(parts.header_len) + 1,
								&hdr) == TA_OK)
		{
			CHECK(hdr.alg == TA_JWS_HS256 || hdr.alg == TA_JWS_HS384 || hdr.alg == TA_JWS_HS512);
			if (hdr.has_kid)
				check_string(hdr.kid);
			CHECK(ta_hmac_oneshot(hdr.alg, key, sizeof(key) - 1, data, si, mac, sizeof(mac),
								  &ml) == TA_OK);
			memcpy(resigned, tok, si);
			resigned[si] = '.';
			CHECK(ta_b64url_encode(mac, ml, resigned + si + 1,
								   TA_B64URL_ENCODED_LEN(TA_JWS_MAX_MAC_LEN), &el) == TA_OK);
			CHECK(verify(resigned, si + 1 + el) != TA_JWT_SIGNATURE_MISMATCH);
		}
		free(hbuf);
		free(resigned);
	}
	return 0;
}
