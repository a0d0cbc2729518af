/*
 * jws.c: JWS compact serialization with HMAC (RFC 7515, RFC 7518 §3.2) and JWT claim checks
 * (RFC 7519 §4.1).
 *
 * The parser is deliberately narrow: exactly three non-empty segments of canonical unpadded
 * base64url, a header that is a UTF-8 JSON object naming one of three HMAC algorithms in its
 * exact spelling, no "crit", and a MAC compared in constant time before the payload is even
 * decoded.
 */
#include "core/jws.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/b64url.h"
#include "core/utf8.h"

/*
 * HMAC (RFC 2104) kept as two digest states that have already absorbed the key XOR ipad and
 * the key XOR opad blocks. A MAC then costs two state copies plus the hashing of the message
 * and of the inner hash, with no key schedule: cheaper than re-initialising an EVP_MAC context.
 */
struct ta_hmac
{
	ta_jws_alg	alg;
	EVP_MD_CTX *inner;
	EVP_MD_CTX *outer;
	EVP_MD_CTX *work;
};

/* The digests, fetched once per process (fetching is costly). */
static EVP_MD *digests[TA_JWS_HS512 + 1];

/* Algorithm for a JWS "alg" name; exact, case-sensitive match (RFC 7515 §4.1.1). */
ta_jws_alg
ta_jws_alg_from_name(const char *name, size_t len)
{
	if (len != 5 || memcmp(name, "HS", 2) != 0)
		return TA_JWS_ALG_INVALID;
	if (memcmp(name + 2, "256", 3) == 0)
		return TA_JWS_HS256;
	if (memcmp(name + 2, "384", 3) == 0)
		return TA_JWS_HS384;
	if (memcmp(name + 2, "512", 3) == 0)
		return TA_JWS_HS512;
	return TA_JWS_ALG_INVALID;
}

/* JWS name of an algorithm. */
const char *
ta_jws_alg_name(ta_jws_alg alg)
{
	switch (alg)
	{
		case TA_JWS_HS256:
			return "HS256";
		case TA_JWS_HS384:
			return "HS384";
		case TA_JWS_HS512:
			return "HS512";
		default:
			return NULL;
	}
}

/* MAC length in bytes of an algorithm (RFC 7518 §3.2: the full HMAC output). */
size_t
ta_jws_mac_len(ta_jws_alg alg)
{
	switch (alg)
	{
		case TA_JWS_HS256:
			return 32;
		case TA_JWS_HS384:
			return 48;
		case TA_JWS_HS512:
			return 64;
		default:
			return 0;
	}
}

/* OpenSSL digest name of an algorithm. */
static const char *
digest_name(ta_jws_alg alg)
{
	switch (alg)
	{
		case TA_JWS_HS256:
			return "SHA256";
		case TA_JWS_HS384:
			return "SHA384";
		case TA_JWS_HS512:
			return "SHA512";
		default:
			return NULL;
	}
}

/* Make a reusable HMAC context keyed with key[0..keylen) (key must not be empty). */
ta_status
ta_hmac_new(ta_jws_alg alg, const uint8_t *key, size_t keylen, ta_hmac **out)
{
	const char *dn = digest_name(alg);
	uint8_t		k0[128];		/* the key padded to the block size (RFC 2104 §2) */
	uint8_t		pad[128];
	unsigned int hl;
	int			block,
				i;
	bool		ok;
	ta_hmac    *h;

	if (dn == NULL)
		return TA_ARG_ALG_UNSUPPORTED;
	if (keylen == 0)
		return TA_ARG_SECRET_EMPTY;
	if (digests[alg] == NULL && (digests[alg] = EVP_MD_fetch(NULL, dn, NULL)) == NULL)
		return TA_ERR_CRYPTO;
	block = EVP_MD_get_block_size(digests[alg]);
	if (block <= 0 || block > (int) sizeof(k0))
		return TA_ERR_CRYPTO;

	h = OPENSSL_zalloc(sizeof(*h));
	if (h == NULL)
		return TA_ERR_NOMEM;
	h->alg = alg;
	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->work = EVP_MD_CTX_new();
	ok = h->inner && h->outer && h->work;

	/* RFC 2104 §2: a key longer than the block is replaced by its hash */
	memset(k0, 0, sizeof(k0));
	if (ok && keylen > (size_t) block)
		ok = EVP_Digest(key, keylen, k0, &hl, digests[alg], NULL);
	else if (ok)
		memcpy(k0, key, keylen);

	for (i = 0; ok && i < block; i++)
		pad[i] = k0[i] ^ 0x36;
	ok = ok && EVP_DigestInit_ex(h->inner, digests[alg], NULL) &&
		EVP_DigestUpdate(h->inner, pad, block);
	for (i = 0; ok && i < block; i++)
		pad[i] = k0[i] ^ 0x5c;
	ok = ok && EVP_DigestInit_ex(h->outer, digests[alg], NULL) &&
		EVP_DigestUpdate(h->outer, pad, block);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
	if (!ok)
	{
		ta_hmac_free(h);
		return TA_ERR_CRYPTO;
	}
	*out = h;
	return TA_OK;
}

/* Free a context made by ta_hmac_new; freeing a digest context wipes its state. */
void
ta_hmac_free(ta_hmac *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->work);
	OPENSSL_free(h);
}

/* MAC data[0..len) with the context's key into mac (cap bytes). */
ta_status
ta_hmac_compute(ta_hmac *h, const uint8_t *data, size_t len,
				uint8_t *mac, size_t cap, size_t *maclen)
{
	size_t		need = ta_jws_mac_len(h->alg);
	uint8_t		ih[TA_JWS_MAX_MAC_LEN];
	unsigned int il,
				ol;
	bool		ok;

	if (cap < need)
		return TA_ERR_BUFFER;
	/* H(K XOR opad, H(K XOR ipad, text)) */
	ok = EVP_MD_CTX_copy_ex(h->work, h->inner) &&
		EVP_DigestUpdate(h->work, data, len) &&
		EVP_DigestFinal_ex(h->work, ih, &il) &&
		EVP_MD_CTX_copy_ex(h->work, h->outer) &&
		EVP_DigestUpdate(h->work, ih, il) &&
		EVP_DigestFinal_ex(h->work, mac, &ol);
	OPENSSL_cleanse(ih, sizeof(ih));
	if (!ok || ol != need)
		return TA_ERR_CRYPTO;
	*maclen = ol;
	return TA_OK;
}

/* MAC data with a key, without keeping a context. */
ta_status
ta_hmac_oneshot(ta_jws_alg alg, const uint8_t *key, size_t keylen,
				const uint8_t *data, size_t len, uint8_t *mac, size_t cap, size_t *maclen)
{
	ta_hmac    *h;
	ta_status	st = ta_hmac_new(alg, key, keylen, &h);

	if (st != TA_OK)
		return st;
	st = ta_hmac_compute(h, data, len, mac, cap, maclen);
	ta_hmac_free(h);
	return st;
}

/*
 * Split a compact JWS into its three segments (RFC 7515 §7.1): exactly two '.' and no empty
 * segment (an unsecured JWS with an empty signature is never accepted).
 */
ta_status
ta_jws_split(const char *token, size_t len, ta_jws_parts *parts)
{
	const char *end = token + len;
	const char *d1,
			   *d2;

	if (len > (size_t) TA_JWS_MAX_TOKEN_LEN)
		return TA_JWT_TOO_LARGE;
	d1 = memchr(token, '.', len);
	if (d1 == NULL)
		return TA_JWT_MALFORMED;
	d2 = memchr(d1 + 1, '.', (size_t) (end - d1 - 1));
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t) (end - d2 - 1)) != NULL)
		return TA_JWT_MALFORMED;
	parts->header = token;
	parts->header_len = (size_t) (d1 - token);
	parts->payload = d1 + 1;
	parts->payload_len = (size_t) (d2 - d1 - 1);
	parts->signature = d2 + 1;
	parts->signature_len = (size_t) (end - d2 - 1);
	parts->signing_input_len = (size_t) (d2 - token);
	if (parts->header_len == 0 || parts->payload_len == 0 || parts->signature_len == 0)
		return TA_JWT_MALFORMED;
	return TA_OK;
}

/*
 * Decode a segment into buf and check it is UTF-8 JSON whose top value is an object, recording
 * its members in members[0..mcap) (members may be NULL).
 */
static ta_status
decode_json_object(const char *seg, size_t seglen, char *buf, size_t cap, size_t *len,
				   ta_status not_object, ta_json_member *members, size_t mcap, size_t *count)
{
	ta_status	st;
	ta_json_type top;

	st = ta_b64url_decode(seg, seglen, (uint8_t *) buf, cap, len);
	if (st != TA_OK)
		return st;
	if (!ta_utf8_valid((const uint8_t *) buf, *len))
		return TA_JWT_BAD_UTF8;
	st = ta_json_validate_members(buf, *len, &top, members, mcap, count);
	if (st != TA_OK)
		return st;
	if (top != TA_JSON_OBJECT)
		return not_object;
	return TA_OK;
}

/*
 * Decode the protected header (RFC 7515 §4.1) into buf and check what every algorithm family
 * shares, in this order: UTF-8 JSON object; "alg" present, a string, and accepted by map_alg
 * (which writes the caller's algorithm to alg_out); no "crit"; "kid" a string when present
 * (*kid is then the JSON string, quotes included). *len gets the decoded length.
 */
ta_status
ta_jws_check_header(const ta_jws_parts *parts, char *buf, size_t cap, size_t *len,
					ta_jws_alg_mapper map_alg, void *alg_out, bool *has_kid, ta_json_span *kid)
{
	ta_status	st;
	ta_json_span obj,
				v;
	ta_json_type t;
	size_t		count;

	st = decode_json_object(parts->header, parts->header_len, buf, cap, len,
							TA_JWT_HEADER_NOT_OBJECT, NULL, 0, &count);
	if (st != TA_OK)
		return st;
	obj = ta_json_object_span(buf, *len);

	/* RFC 7515 §4.1.1: "alg" is required and names the algorithm exactly. */
	if (!ta_json_object_get(obj, "alg", 3, &t, &v))
		return TA_JWT_ALG_MISSING;
	if (t != TA_JSON_STRING)
		return TA_JWT_ALG_UNSUPPORTED;
	{
		char		name[16];
		size_t		n;

		if (ta_json_string_unescape(v, name, sizeof(name), &n) != TA_OK)
			return TA_JWT_ALG_UNSUPPORTED;
		st = map_alg(name, n, alg_out);
		if (st != TA_OK)
			return st;
	}

	/*
	 * RFC 7515 §4.1.11: a recipient must refuse a "crit" it does not understand; we understand
	 * no extension, and an empty list is itself invalid, so any "crit" is refused.
	 */
	if (ta_json_object_get(obj, "crit", 4, &t, &v))
		return TA_JWT_CRIT_UNSUPPORTED;

	/* RFC 7515 §4.1.4: "kid" is a case-sensitive string. */
	*has_kid = ta_json_object_get(obj, "kid", 3, &t, kid);
	if (*has_kid && t != TA_JSON_STRING)
		return TA_JWT_KID_NOT_STRING;
	return TA_OK;
}

/* Map an HMAC algorithm name; "none" (RFC 7518 §3.6) in any casing has its own refusal. */
static ta_status
hmac_alg(const char *name, size_t n, void *out)
{
	if (n == 4 && (name[0] | 0x20) == 'n' && (name[1] | 0x20) == 'o' &&
		(name[2] | 0x20) == 'n' && (name[3] | 0x20) == 'e')
		return TA_JWT_ALG_NONE;
	*(ta_jws_alg *) out = ta_jws_alg_from_name(name, n);
	return *(ta_jws_alg *) out == TA_JWS_ALG_INVALID ? TA_JWT_ALG_UNSUPPORTED : TA_OK;
}

/* Whether a[0..n) equals b[0..n) ignoring ASCII case (b is lower-case). */
static bool
ta_ascii_casecmp_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char		c = a[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != b[i])
			return false;
	}
	return true;
}

/*
 * Decode and check the protected header of an HMAC token into buf, whose capacity must be at
 * least TA_B64URL_DECODED_MAX(parts->header_len).
 */
ta_status
ta_jws_parse_header(const ta_jws_parts *parts, char *buf, size_t cap, ta_jws_header *hdr)
{
	size_t		len;
	ta_status	st;
	ta_json_span v;
	ta_json_type t;
	char		typ[32];
	size_t		n;

	hdr->at_jwt = false;
	st = ta_jws_check_header(parts, buf, cap, &len, hmac_alg, &hdr->alg,
							 &hdr->has_kid, &hdr->kid);
	if (st != TA_OK)
		return st;

	/*
	 * RFC 7515 §4.1.9: "typ" is a media type, compared case-insensitively, whose "application/"
	 * prefix may be left out; RFC 9068 §2.1 types access tokens "at+jwt". Anything else (absent,
	 * "JWT", not a string) is some other kind of token.
	 */
	if (ta_json_object_get(ta_json_object_span(buf, len), "typ", 3, &t, &v) &&
		t == TA_JSON_STRING && ta_json_string_unescape(v, typ, sizeof(typ), &n) == TA_OK)
	{
		const char *p = typ;

		if (n > 12 && ta_ascii_casecmp_n(p, "application/", 12))
		{
			p += 12;
			n -= 12;
		}
		hdr->at_jwt = n == 6 && ta_ascii_casecmp_n(p, "at+jwt", 6);
	}
	return TA_OK;
}

/*
 * Check the signature segment against the MAC of the signing input (RFC 7515 §5.2 steps 5-8),
 * comparing in constant time.
 */
ta_status
ta_jws_check_signature(const ta_jws_parts *parts, ta_jws_alg alg, ta_hmac *h)
{
	uint8_t		given[TA_B64URL_DECODED_MAX(TA_B64URL_ENCODED_LEN(TA_JWS_MAX_MAC_LEN))];
	uint8_t		mac[TA_JWS_MAX_MAC_LEN];
	size_t		given_len,
				mac_len;
	ta_status	st;

	if (h == NULL || h->alg != alg)
		return TA_JWT_ALG_NOT_ALLOWED;
	/* Longer than any HMAC-SHA-512 encoding: it cannot match. */
	if (parts->signature_len > TA_B64URL_ENCODED_LEN(TA_JWS_MAX_MAC_LEN))
		return TA_JWT_SIGNATURE_MISMATCH;
	st = ta_b64url_decode(parts->signature, parts->signature_len, given, sizeof(given),
						  &given_len);
	if (st != TA_OK)
		return st;
	st = ta_hmac_compute(h, (const uint8_t *) parts->header, parts->signing_input_len,
						 mac, sizeof(mac), &mac_len);
	if (st != TA_OK)
		return st;
	if (given_len != mac_len || CRYPTO_memcmp(given, mac, mac_len) != 0)
		return TA_JWT_SIGNATURE_MISMATCH;
	return TA_OK;
}

/*
 * Decode the payload into buf (capacity at least TA_B64URL_DECODED_MAX(parts->payload_len) + 1),
 * check it is a UTF-8 JSON object, and NUL-terminate it; *len excludes the NUL. Its top-level
 * members are recorded in members[0..mcap) and *count says how many it has (possibly more).
 */
ta_status
ta_jws_decode_payload_members(const ta_jws_parts *parts, char *buf, size_t cap, size_t *len,
							  ta_json_member *members, size_t mcap, size_t *count)
{
	ta_status	st;

	if (cap == 0)
		return TA_ERR_BUFFER;
	st = decode_json_object(parts->payload, parts->payload_len, buf, cap - 1, len,
							TA_JWT_PAYLOAD_NOT_OBJECT, members, mcap, count);
	if (st != TA_OK)
		return st;
	buf[*len] = '\0';
	return TA_OK;
}

/* ta_jws_decode_payload_members without recording members. */
ta_status
ta_jws_decode_payload(const ta_jws_parts *parts, char *buf, size_t cap, size_t *len)
{
	size_t		count;

	return ta_jws_decode_payload_members(parts, buf, cap, len, NULL, 0, &count);
}

/* Claims that ta_jws_check_claims looks at. */
enum
{
	CLAIM_EXP,
	CLAIM_NBF,
	CLAIM_IAT,
	CLAIM_AUD,
	CLAIM_ISS,
	CLAIM_COUNT
};

/* Which checked claim a member key names, or CLAIM_COUNT for none. */
static int
claim_of_key(ta_json_span key)
{
	static const char names[CLAIM_COUNT][4] = {"exp", "nbf", "iat", "aud", "iss"};
	int			i;

	if (key.len < 5)
		return CLAIM_COUNT;
	if (key.len == 5)
	{
		for (i = 0; i < CLAIM_COUNT; i++)
			if (memcmp(key.ptr + 1, names[i], 3) == 0)
				return i;
		return CLAIM_COUNT;
	}
	/* a longer key names a claim only through escapes ("\u0065xp") */
	if (memchr(key.ptr, '\\', key.len) == NULL)
		return CLAIM_COUNT;
	for (i = 0; i < CLAIM_COUNT; i++)
		if (ta_json_string_eq(key, names[i], 3))
			return i;
	return CLAIM_COUNT;
}

/*
 * Read a NumericDate claim (RFC 7519 §2) that must be a JSON number naming a time between the
 * years 1 and 9999 (TA_JWS_NUMERIC_DATE_MAX seconds either side of 1970). A number too large for
 * a double reads as infinity, and an infinite exp would never expire: such values are refused,
 * as are finite ones no date type can hold.
 */
static ta_status
get_time(const ta_json_type *types, const ta_json_span *vals, int claim, ta_status not_number,
		 ta_status out_of_range, double *val)
{
	double		v;

	if (types[claim] != TA_JSON_NUMBER)
		return not_number;
	v = ta_json_number_value(vals[claim]);
	/* written so that NaN fails too */
	if (!(v >= -TA_JWS_NUMERIC_DATE_MAX && v <= TA_JWS_NUMERIC_DATE_MAX))
		return out_of_range;
	*val = v;
	return TA_OK;
}

/* One time claim against now (RFC 7519 §4.1.4-4.1.6); leeway allows for clock skew. */
static ta_status
check_time(int claim, double val, double now, double leeway)
{
	switch (claim)
	{
		case CLAIM_EXP:
			/* §4.1.4: expired on or after exp. */
			return now >= val + leeway ? TA_JWT_EXPIRED : TA_OK;
		case CLAIM_NBF:
			/* §4.1.5: not accepted before nbf. */
			return now + leeway < val ? TA_JWT_NOT_YET_VALID : TA_OK;
		default:
			/* §4.1.6 sets no rule for iat; a token issued in the future is refused as suspect. */
			return val > now + leeway ? TA_JWT_IAT_FUTURE : TA_OK;
	}
}

/*
 * Check the time claims of a token verified earlier against now, as verification did: what a
 * cache of verified tokens runs on every use of a token it holds.
 */
ta_status
ta_jws_check_times(const ta_jws_times *t, double now, double leeway)
{
	ta_status	st;

	if (t->has_exp && (st = check_time(CLAIM_EXP, t->exp, now, leeway)) != TA_OK)
		return st;
	if (t->has_nbf && (st = check_time(CLAIM_NBF, t->nbf, now, leeway)) != TA_OK)
		return st;
	if (t->has_iat && (st = check_time(CLAIM_IAT, t->iat, now, leeway)) != TA_OK)
		return st;
	return TA_OK;
}

/*
 * Check the time, audience and issuer claims (RFC 7519 §4.1.1, §4.1.3-4.1.6) given the type and
 * value of each (TA_JSON_INVALID when absent).
 */
static ta_status
check_collected(const ta_json_type *types, const ta_json_span *vals, const ta_jws_claim_opts *opts)
{
	static const ta_status not_number[3] = {TA_JWT_EXP_NOT_NUMBER, TA_JWT_NBF_NOT_NUMBER,
		TA_JWT_IAT_NOT_NUMBER};
	static const ta_status out_of_range[3] = {TA_JWT_EXP_OUT_OF_RANGE, TA_JWT_NBF_OUT_OF_RANGE,
		TA_JWT_IAT_OUT_OF_RANGE};
	ta_json_iter it;
	ta_status	st;
	ta_jws_times times = {0};
	bool	   *has[3] = {&times.has_exp, &times.has_nbf, &times.has_iat};
	double	   *val[3] = {&times.exp, &times.nbf, &times.iat};

	/* exp, nbf, iat in that order, each read and checked before the next */
	for (int c = CLAIM_EXP; c <= CLAIM_IAT; c++)
	{
		if (types[c] == TA_JSON_INVALID)
			continue;
		*has[c] = true;
		if ((st = get_time(types, vals, c, not_number[c], out_of_range[c], val[c])) != TA_OK ||
			(st = check_time(c, *val[c], opts->now, opts->leeway)) != TA_OK)
			return st;
	}

	/* §4.1.3: aud is one string or an array of strings; one of them must be ours. */
	if (opts->audience != NULL)
	{
		bool		match = false;

		if (types[CLAIM_AUD] == TA_JSON_STRING)
			match = ta_json_string_eq(vals[CLAIM_AUD], opts->audience, opts->audience_len);
		else if (types[CLAIM_AUD] == TA_JSON_ARRAY)
		{
			ta_json_span e;
			ta_json_type et;

			ta_json_iter_init(&it, vals[CLAIM_AUD]);
			while (!match && ta_json_iter_element(&it, &et, &e))
				match = et == TA_JSON_STRING &&
					ta_json_string_eq(e, opts->audience, opts->audience_len);
		}
		if (!match)
			return TA_JWT_AUD_MISMATCH;
	}

	/* §4.1.1: iss compared as a case-sensitive string. */
	if (opts->issuer != NULL)
	{
		if (types[CLAIM_ISS] != TA_JSON_STRING ||
			!ta_json_string_eq(vals[CLAIM_ISS], opts->issuer, opts->issuer_len))
			return TA_JWT_ISS_MISMATCH;
	}
	if (opts->times_out != NULL)
		*opts->times_out = times;
	return TA_OK;
}

/*
 * Check the claims of a validated payload object. One pass collects them; as in jsonb, a
 * repeated key's last value counts.
 */
ta_status
ta_jws_check_claims(const char *payload, size_t len, const ta_jws_claim_opts *opts)
{
	ta_json_type types[CLAIM_COUNT] = {TA_JSON_INVALID};
	ta_json_span vals[CLAIM_COUNT];
	ta_json_iter it;
	ta_json_span k,
				v;
	ta_json_type t;

	ta_json_iter_init(&it, ta_json_object_span(payload, len));
	while (ta_json_iter_member(&it, &k, &t, &v))
	{
		int			c = claim_of_key(k);

		if (c != CLAIM_COUNT)
		{
			types[c] = t;
			vals[c] = v;
		}
	}
	return check_collected(types, vals, opts);
}

/* ta_jws_check_claims over the members ta_jws_decode_payload_members recorded (all of them). */
ta_status
ta_jws_check_claims_members(const ta_json_member *members, size_t count,
							const ta_jws_claim_opts *opts)
{
	ta_json_type types[CLAIM_COUNT] = {TA_JSON_INVALID};
	ta_json_span vals[CLAIM_COUNT];
	size_t		i;

	for (i = 0; i < count; i++)
	{
		int			c = claim_of_key(members[i].key);

		if (c != CLAIM_COUNT)
		{
			types[c] = members[i].type;
			vals[c] = members[i].value;
		}
	}
	return check_collected(types, vals, opts);
}

/*
 * Verify a token with one HMAC key, in the order structure, header, signature, payload, claims.
 * On success the NUL-terminated payload JSON is in payload (capacity at least len + 1 suffices).
 */
ta_status
ta_jws_verify(const char *token, size_t len, const uint8_t *key, size_t keylen,
			  const ta_jws_claim_opts *opts, char *payload, size_t cap, size_t *payload_len)
{
	ta_jws_parts parts;
	ta_jws_header hdr;
	ta_hmac    *h;
	ta_status	st;

	st = ta_jws_split(token, len, &parts);
	if (st != TA_OK)
		return st;
	/* the header is decoded into the payload buffer first; it is no longer needed after */
	st = ta_jws_parse_header(&parts, payload, cap, &hdr);
	if (st != TA_OK)
		return st;
	st = ta_hmac_new(hdr.alg, key, keylen, &h);
	if (st != TA_OK)
		return st;
	st = ta_jws_check_signature(&parts, hdr.alg, h);
	ta_hmac_free(h);
	if (st != TA_OK)
		return st;
	st = ta_jws_decode_payload(&parts, payload, cap, payload_len);
	if (st != TA_OK)
		return st;
	return ta_jws_check_claims(payload, *payload_len, opts);
}

/* Length of the compact JWS that ta_jws_sign makes (no NUL). */
size_t
ta_jws_signed_len(ta_jws_alg alg, size_t header_len, size_t payload_len)
{
	return TA_B64URL_ENCODED_LEN(header_len) + 1 + TA_B64URL_ENCODED_LEN(payload_len) + 1 +
		TA_B64URL_ENCODED_LEN(ta_jws_mac_len(alg));
}

/*
 * Make a compact JWS (RFC 7515 §7.1) of the given header and payload JSON texts, MACed with h,
 * into out (capacity at least ta_jws_signed_len() + 1; a NUL is written).
 */
ta_status
ta_jws_sign(ta_jws_alg alg, ta_hmac *h, const char *header_json, size_t header_len,
			const char *payload_json, size_t payload_len, char *out, size_t cap, size_t *outlen)
{
	size_t		need = ta_jws_signed_len(alg, header_len, payload_len);
	size_t		o = 0,
				n;
	uint8_t		mac[TA_JWS_MAX_MAC_LEN];
	size_t		mac_len;
	ta_status	st;

	if (h == NULL || h->alg != alg)
		return TA_ARG_ALG_UNSUPPORTED;
	if (cap < need + 1)
		return TA_ERR_BUFFER;
	st = ta_b64url_encode((const uint8_t *) header_json, header_len, out, cap, &n);
	if (st != TA_OK)
		return st;
	o += n;
	out[o++] = '.';
	st = ta_b64url_encode((const uint8_t *) payload_json, payload_len, out + o, cap - o, &n);
	if (st != TA_OK)
		return st;
	o += n;
	st = ta_hmac_compute(h, (const uint8_t *) out, o, mac, sizeof(mac), &mac_len);
	if (st != TA_OK)
		return st;
	out[o++] = '.';
	st = ta_b64url_encode(mac, mac_len, out + o, cap - o, &n);
	OPENSSL_cleanse(mac, sizeof(mac));
	if (st != TA_OK)
		return st;
	o += n;
	out[o] = '\0';
	*outlen = o;
	return TA_OK;
}
