/*
 * Unit tests: JWS splitting, header checks, HMAC (RFC 4231 known answers), signing and full
 * verification (RFC 7515 Appendix A.1), claim checks (RFC 7519 §4.1).
 */
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/b64url.h"
#include "core/jws.h"

/* Parse hex into out; returns the byte count. */
static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t		n = 0;

	for (; hex[0] && hex[1]; hex += 2)
	{
		unsigned int b;

		sscanf(hex, "%2x", &b);
		out[n++] = (uint8_t) b;
	}
	return n;
}

/* Base64url-encode a NUL-terminated text into a static buffer (one use at a time). */
static const char *
b64(const char *s, char *out, size_t cap)
{
	size_t		n;

	ta_b64url_encode((const uint8_t *) s, strlen(s), out, cap - 1, &n);
	out[n] = '\0';
	return out;
}

/* Build header.payload.mac(HS256, key) from JSON texts into out. */
static void
make_token(const char *header, const char *payload, const char *key, char *out, size_t cap)
{
	char		h[512],
				p[2048];
	uint8_t		mac[64];
	size_t		n,
				ml;

	b64(header, h, sizeof(h));
	b64(payload, p, sizeof(p));
	n = (size_t) snprintf(out, cap, "%s.%s", h, p);
	ta_hmac_oneshot(TA_JWS_HS256, (const uint8_t *) key, strlen(key), (const uint8_t *) out, n,
					mac, sizeof(mac), &ml);
	out[n++] = '.';
	ta_b64url_encode(mac, ml, out + n, cap - n - 1, &ml);
	out[n + ml] = '\0';
}

/* Verify a token with key "k" at time now with leeway 0 and no aud/iss; returns the status. */
static ta_status
verify_at(const char *token, double now)
{
	ta_jws_claim_opts o = {now, 0, NULL, 0, NULL, 0, NULL};
	char		payload[4096];
	size_t		n;

	return ta_jws_verify(token, strlen(token), (const uint8_t *) "k", 1, &o, payload,
						 sizeof(payload), &n);
}

/* Verify header/payload JSON signed with key "k", at time 1e9. */
static ta_status
verify_json(const char *header, const char *payload)
{
	char		tok[4096];

	make_token(header, payload, "k", tok, sizeof(tok));
	return verify_at(tok, 1e9);
}

/* Check claims of a payload with options. */
static ta_status
claims(const char *payload, double now, double leeway, const char *aud, const char *iss)
{
	ta_jws_claim_opts o = {now, leeway, aud, aud ? strlen(aud) : 0, iss, iss ? strlen(iss) : 0, NULL};

	return ta_jws_check_claims(payload, strlen(payload), &o);
}

typedef struct
{
	const char *name;
	const char *key_hex;
	const char *data_hex;
	const char *mac[3];			/* SHA-256, SHA-384, SHA-512 */
} rfc4231_case;

int
main(void)
{
	/* RFC 4231 §4.2-4.5, 4.7, 4.8 (test case 5 truncates the output; JWS never does). */
	static const rfc4231_case cases[] = {
		{"RFC 4231 case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
			{"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
				"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
			"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}},
		{"RFC 4231 case 2", "4a656665",
			"7768617420646f2079612077616e7420666f72206e6f7468696e673f",
			{"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
				"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
		{"RFC 4231 case 3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
			{"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
				"88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
			"fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"}},
		{"RFC 4231 case 4", "0102030405060708090a0b0c0d0e0f10111213141516171819",
			"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
			{"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
				"3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
			"b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"}},
		{"RFC 4231 case 6", NULL,
			"54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
			{"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
				"4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
			"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"}},
		{"RFC 4231 case 7", NULL,
			"5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
			{"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
				"6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
			"e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"}},
	};
	static const ta_jws_alg algs[3] = {TA_JWS_HS256, TA_JWS_HS384, TA_JWS_HS512};
	uint8_t		key[256],
				data[512],
				want[64],
				got[64];
	size_t		keylen,
				datalen,
				gotlen;
	int			c,
				a;

	for (c = 0; c < (int) (sizeof(cases) / sizeof(cases[0])); c++)
	{
		if (cases[c].key_hex)
			keylen = unhex(cases[c].key_hex, key);
		else
		{
			memset(key, 0xaa, 131);		/* cases 6 and 7: 131 bytes of 0xaa */
			keylen = 131;
		}
		datalen = unhex(cases[c].data_hex, data);
		for (a = 0; a < 3; a++)
		{
			char		name[80];
			size_t		wl = unhex(cases[c].mac[a], want);
			ta_hmac    *h;

			snprintf(name, sizeof(name), "%s %s one-shot", cases[c].name, ta_jws_alg_name(algs[a]));
			ok(ta_hmac_oneshot(algs[a], key, keylen, data, datalen, got, sizeof(got), &gotlen) == TA_OK &&
			   gotlen == wl && memcmp(got, want, wl) == 0, name);
			/* the reused context must give the same answer every time */
			snprintf(name, sizeof(name), "%s %s reused context", cases[c].name, ta_jws_alg_name(algs[a]));
			ok(ta_hmac_new(algs[a], key, keylen, &h) == TA_OK &&
			   ta_hmac_compute(h, (const uint8_t *) "x", 1, got, sizeof(got), &gotlen) == TA_OK &&
			   ta_hmac_compute(h, data, datalen, got, sizeof(got), &gotlen) == TA_OK &&
			   gotlen == wl && memcmp(got, want, wl) == 0, name);
			ta_hmac_free(h);
		}
	}
	{
		ta_hmac    *h = NULL;

		is_int(ta_hmac_new(TA_JWS_HS256, key, 0, &h), TA_ARG_SECRET_EMPTY, "empty key refused");
		is_int(ta_hmac_new(TA_JWS_ALG_INVALID, key, 1, &h), TA_ARG_ALG_UNSUPPORTED, "no algorithm refused");
		ok(ta_hmac_new(TA_JWS_HS512, key, 1, &h) == TA_OK &&
		   ta_hmac_compute(h, data, 1, got, 63, &gotlen) == TA_ERR_BUFFER, "small MAC buffer reported");
		ta_hmac_free(h);
	}

	/* algorithm names */
	is_int(ta_jws_alg_from_name("HS256", 5), TA_JWS_HS256, "HS256 name");
	is_int(ta_jws_alg_from_name("HS384", 5), TA_JWS_HS384, "HS384 name");
	is_int(ta_jws_alg_from_name("HS512", 5), TA_JWS_HS512, "HS512 name");
	is_int(ta_jws_alg_from_name("hs256", 5), TA_JWS_ALG_INVALID, "hs256 is not a name");
	is_int(ta_jws_alg_from_name("HS2560", 6), TA_JWS_ALG_INVALID, "HS2560 is not a name");
	is_int(ta_jws_alg_from_name("HS25", 4), TA_JWS_ALG_INVALID, "HS25 is not a name");

	/* RFC 7515 Appendix A.1: the full example, verified with its JWK key */
	{
		const char *tok =
			"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
			".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
			".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
		const char *k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
		const char *payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
		uint8_t		kb[64];
		size_t		kl,
					pl;
		char		out[512];
		ta_jws_claim_opts o = {1300819000, 0, NULL, 0, "joe", 3, NULL};
		ta_jws_parts parts;
		ta_jws_header hdr;
		ta_hmac    *h;

		ok(ta_b64url_decode(k, strlen(k), kb, sizeof(kb), &kl) == TA_OK && kl == 64, "A.1 key decodes to 64 bytes");
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, sizeof(out), &pl), TA_OK, "A.1 verifies");
		ok(pl == strlen(payload) && memcmp(out, payload, pl) == 0 && out[pl] == '\0',
		   "A.1 payload is the RFC's, NUL-terminated");
		o.now = 1300819380;
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, sizeof(out), &pl), TA_JWT_EXPIRED,
			   "A.1 expired at exp");
		o.leeway = 30;
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, sizeof(out), &pl), TA_OK,
			   "A.1 within leeway");
		o.now = 1300819000;
		o.issuer = "jo";
		o.issuer_len = 2;
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, sizeof(out), &pl), TA_JWT_ISS_MISMATCH,
			   "A.1 other issuer refused");
		kb[0] ^= 1;
		o.issuer = NULL;
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, sizeof(out), &pl),
			   TA_JWT_SIGNATURE_MISMATCH, "A.1 with a changed key bit refused");
		kb[0] ^= 1;
		is_int(ta_jws_verify(tok, strlen(tok), kb, kl, &o, out, 10, &pl), TA_ERR_BUFFER,
			   "small payload buffer reported");

		/* step by step, and ta_jws_sign re-creates the A.1 signature from the same segments */
		ok(ta_jws_split(tok, strlen(tok), &parts) == TA_OK && parts.header_len == 40 &&
		   parts.signature_len == 43 && parts.signing_input_len == strlen(tok) - 44, "A.1 split");
		ok(ta_jws_parse_header(&parts, out, sizeof(out), &hdr) == TA_OK && hdr.alg == TA_JWS_HS256 &&
		   !hdr.has_kid, "A.1 header: HS256, no kid");
		ok(ta_hmac_new(TA_JWS_HS256, kb, kl, &h) == TA_OK, "A.1 key context");
		is_int(ta_jws_check_signature(&parts, TA_JWS_HS256, h), TA_OK, "A.1 signature checks");
		is_int(ta_jws_check_signature(&parts, TA_JWS_HS384, h), TA_JWT_ALG_NOT_ALLOWED,
			   "a context for another algorithm is refused");
		{
			const char *hj = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
			char		signed_tok[512];
			size_t		sl;

			ok(ta_jws_sign(TA_JWS_HS256, h, hj, strlen(hj), payload, strlen(payload),
						   signed_tok, sizeof(signed_tok), &sl) == TA_OK &&
			   sl == strlen(tok) && strcmp(signed_tok, tok) == 0, "ta_jws_sign reproduces A.1");
			ok(sl == ta_jws_signed_len(TA_JWS_HS256, strlen(hj), strlen(payload)), "signed length");
			is_int(ta_jws_sign(TA_JWS_HS256, h, hj, strlen(hj), payload, strlen(payload),
							   signed_tok, sl, &sl), TA_ERR_BUFFER, "sign reports a small buffer");
		}
		ta_hmac_free(h);
	}

	/* structure */
	{
		ta_jws_parts p;
		char	   *big;

		is_int(ta_jws_split("a.b.c", 5, &p), TA_OK, "three segments");
		is_int(ta_jws_split("", 0, &p), TA_JWT_MALFORMED, "empty");
		is_int(ta_jws_split("abc", 3, &p), TA_JWT_MALFORMED, "one segment");
		is_int(ta_jws_split("a.b", 3, &p), TA_JWT_MALFORMED, "two segments");
		is_int(ta_jws_split("a.b.c.d", 7, &p), TA_JWT_MALFORMED, "four segments");
		is_int(ta_jws_split("a.b.c.d.e", 9, &p), TA_JWT_MALFORMED, "five segments");
		is_int(ta_jws_split(".b.c", 4, &p), TA_JWT_MALFORMED, "empty header");
		is_int(ta_jws_split("a..c", 4, &p), TA_JWT_MALFORMED, "empty payload");
		is_int(ta_jws_split("a.b.", 4, &p), TA_JWT_MALFORMED, "empty signature");
		is_int(ta_jws_split("..", 2, &p), TA_JWT_MALFORMED, "only dots");
		big = malloc(TA_JWS_MAX_TOKEN_LEN + 1);
		memset(big, 'A', TA_JWS_MAX_TOKEN_LEN + 1);
		big[10] = big[20] = '.';
		is_int(ta_jws_split(big, TA_JWS_MAX_TOKEN_LEN + 1, &p), TA_JWT_TOO_LARGE, "over the cap");
		is_int(ta_jws_split(big, TA_JWS_MAX_TOKEN_LEN, &p), TA_OK, "at the cap");
		free(big);
	}

	/* header rules through full verification */
	is_int(verify_json("{\"alg\":\"HS256\"}", "{}"), TA_OK, "minimal header");
	is_int(verify_json("{\"typ\":\"JWT\"}", "{}"), TA_JWT_ALG_MISSING, "alg missing");
	is_int(verify_json("{\"alg\":\"none\"}", "{}"), TA_JWT_ALG_NONE, "alg none");
	is_int(verify_json("{\"alg\":\"NoNe\"}", "{}"), TA_JWT_ALG_NONE, "alg NoNe");
	is_int(verify_json("{\"alg\":\"\\u006eone\"}", "{}"), TA_JWT_ALG_NONE, "alg none escaped");
	is_int(verify_json("{\"alg\":\"hS256\"}", "{}"), TA_JWT_ALG_UNSUPPORTED, "alg mis-cased");
	is_int(verify_json("{\"alg\":\"RS256\"}", "{}"), TA_JWT_ALG_UNSUPPORTED, "alg RS256");
	is_int(verify_json("{\"alg\":\"HS256XXXXXXXXXXXXXXX\"}", "{}"), TA_JWT_ALG_UNSUPPORTED, "alg long");
	is_int(verify_json("{\"alg\":true}", "{}"), TA_JWT_ALG_UNSUPPORTED, "alg not a string");
	is_int(verify_json("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", "{}"), TA_JWT_CRIT_UNSUPPORTED, "crit");
	is_int(verify_json("{\"alg\":\"HS256\",\"crit\":[]}", "{}"), TA_JWT_CRIT_UNSUPPORTED, "empty crit");
	is_int(verify_json("{\"alg\":\"HS256\",\"kid\":[]}", "{}"), TA_JWT_KID_NOT_STRING, "kid array");
	is_int(verify_json("[\"alg\",\"HS256\"]", "{}"), TA_JWT_HEADER_NOT_OBJECT, "header array");
	is_int(verify_json("{\"alg\":\"HS256\"", "{}"), TA_JWT_BAD_JSON, "header unterminated");
	is_int(verify_json("{\"alg\":\"HS256\",\"x\":\"\xff\"}", "{}"), TA_JWT_BAD_UTF8, "header bad UTF-8");
	{
		char		tok[512];
		ta_jws_parts p;
		ta_jws_header hdr;
		char		buf[256];
		size_t		n;

		make_token("{\"alg\":\"HS256\",\"kid\":\"k\\u00e9y-1\"}", "{}", "k", tok, sizeof(tok));
		ok(ta_jws_split(tok, strlen(tok), &p) == TA_OK &&
		   ta_jws_parse_header(&p, buf, sizeof(buf), &hdr) == TA_OK && hdr.has_kid &&
		   ta_json_string_unescape(hdr.kid, buf + 128, 128, &n) == TA_OK && n == 6 &&
		   memcmp(buf + 128, "k\xc3\xa9y-1", 6) == 0, "kid exposed, unescaped");
	}

	/* payload rules */
	is_int(verify_json("{\"alg\":\"HS256\"}", "[]"), TA_JWT_PAYLOAD_NOT_OBJECT, "payload array");
	is_int(verify_json("{\"alg\":\"HS256\"}", "\"x\""), TA_JWT_PAYLOAD_NOT_OBJECT, "payload string");
	is_int(verify_json("{\"alg\":\"HS256\"}", "{\"a\":\"\\u0000\"}"), TA_JWT_BAD_JSON, "payload \\u0000");
	is_int(verify_json("{\"alg\":\"HS256\"}", "{\"a\":\"\xc0\xaf\"}"), TA_JWT_BAD_UTF8, "payload overlong");
	is_int(verify_json("{\"alg\":\"HS256\"}", "{\"exp\":\"1\"}"), TA_JWT_EXP_NOT_NUMBER, "exp string");

	/* signature problems */
	{
		char		tok[512];
		size_t		len;

		make_token("{\"alg\":\"HS256\"}", "{}", "k", tok, sizeof(tok));
		len = strlen(tok);
		is_int(verify_at(tok, 1e9), TA_OK, "baseline token verifies");
		tok[len - 3] ^= 1;		/* flip a bit in a middle character of the signature */
		is_int(verify_at(tok, 1e9), TA_JWT_SIGNATURE_MISMATCH, "flipped signature bit");
		tok[len - 3] ^= 1;
		tok[len - 3] = '\0';
		is_int(verify_at(tok, 1e9), TA_JWT_SIGNATURE_MISMATCH, "signature cut to 30 bytes");
		make_token("{\"alg\":\"HS256\"}", "{}", "k", tok, sizeof(tok));
		tok[5] = (char) (tok[5] == 'A' ? 'B' : 'A');
		ok(verify_at(tok, 1e9) != TA_OK, "changed header refused");
		make_token("{\"alg\":\"HS256\"}", "{\"a\":1}", "other key", tok, sizeof(tok));
		is_int(verify_at(tok, 1e9), TA_JWT_SIGNATURE_MISMATCH, "other key");
		make_token("{\"alg\":\"HS256\"}", "[", "other key", tok, sizeof(tok));
		is_int(verify_at(tok, 1e9), TA_JWT_SIGNATURE_MISMATCH, "MAC checked before the payload");
	}

	/* claim checks */
	is_int(claims("{}", 1000, 0, NULL, NULL), TA_OK, "no claims");
	is_int(claims("{\"exp\":1001}", 1000, 0, NULL, NULL), TA_OK, "exp ahead");
	is_int(claims("{\"exp\":1000}", 1000, 0, NULL, NULL), TA_JWT_EXPIRED, "expired at exp");
	is_int(claims("{\"exp\":1000.5}", 1000, 0, NULL, NULL), TA_OK, "fractional exp ahead");
	is_int(claims("{\"exp\":999.9}", 1000, 0, NULL, NULL), TA_JWT_EXPIRED, "fractional exp past");
	is_int(claims("{\"exp\":971}", 1000, 30, NULL, NULL), TA_OK, "expired within leeway");
	is_int(claims("{\"exp\":970}", 1000, 30, NULL, NULL), TA_JWT_EXPIRED, "expired at exp + leeway");
	is_int(claims("{\"nbf\":1000}", 1000, 0, NULL, NULL), TA_OK, "nbf now");
	is_int(claims("{\"nbf\":1000.001}", 1000, 0, NULL, NULL), TA_JWT_NOT_YET_VALID, "nbf just ahead");
	is_int(claims("{\"nbf\":1030}", 1000, 30, NULL, NULL), TA_OK, "nbf within leeway");
	is_int(claims("{\"nbf\":1031}", 1000, 30, NULL, NULL), TA_JWT_NOT_YET_VALID, "nbf past leeway");
	is_int(claims("{\"iat\":1000}", 1000, 0, NULL, NULL), TA_OK, "iat now");
	is_int(claims("{\"iat\":1001}", 1000, 0, NULL, NULL), TA_JWT_IAT_FUTURE, "iat ahead");
	is_int(claims("{\"iat\":1030}", 1000, 30, NULL, NULL), TA_OK, "iat within leeway");
	is_int(claims("{\"iat\":-5}", 1000, 0, NULL, NULL), TA_OK, "iat negative");
	is_int(claims("{\"nbf\":\"0\"}", 1000, 0, NULL, NULL), TA_JWT_NBF_NOT_NUMBER, "nbf string");
	is_int(claims("{\"iat\":null}", 1000, 0, NULL, NULL), TA_JWT_IAT_NOT_NUMBER, "iat null");
	is_int(claims("{\"exp\":1e400}", 1000, 0, NULL, NULL), TA_JWT_EXP_OUT_OF_RANGE, "exp infinite");
	is_int(claims("{\"exp\":-1e400}", 1000, 0, NULL, NULL), TA_JWT_EXP_OUT_OF_RANGE, "exp minus infinite");
	is_int(claims("{\"nbf\":-1e400}", 1000, 0, NULL, NULL), TA_JWT_NBF_OUT_OF_RANGE, "nbf minus infinite");
	is_int(claims("{\"iat\":1e300}", 1000, 0, NULL, NULL), TA_JWT_IAT_OUT_OF_RANGE, "iat far future");
	is_int(claims("{\"exp\":253402300799}", 1000, 0, NULL, NULL), TA_OK, "exp at the end of year 9999");
	is_int(claims("{\"exp\":253402300800}", 1000, 0, NULL, NULL), TA_JWT_EXP_OUT_OF_RANGE, "exp past year 9999");
	is_int(claims("{\"iat\":-253402300799}", 1000, 0, NULL, NULL), TA_OK, "iat at the lower bound");
	is_int(claims("{\"iat\":-253402300800}", 1000, 0, NULL, NULL), TA_JWT_IAT_OUT_OF_RANGE, "iat below the lower bound");
	is_int(claims("{\"exp\":1,\"exp\":2000}", 1000, 0, NULL, NULL), TA_OK, "repeated exp: last counts");
	is_int(claims("{\"exp\":2000,\"exp\":1}", 1000, 0, NULL, NULL), TA_JWT_EXPIRED, "repeated exp: last expired");
	is_int(claims("{\"\\u0065xp\":1}", 1000, 0, NULL, NULL), TA_JWT_EXPIRED, "escaped exp key");
	is_int(claims("{\"exp\":1,\"nbf\":\"x\"}", 1000, 0, NULL, NULL), TA_JWT_EXPIRED, "exp checked before nbf");
	is_int(claims("{\"sub\":{\"exp\":1}}", 1000, 0, NULL, NULL), TA_OK, "nested exp ignored");
	is_int(claims("{\"aud\":\"api\"}", 1000, 0, "api", NULL), TA_OK, "aud string");
	is_int(claims("{\"aud\":\"api\"}", 1000, 0, "ap", NULL), TA_JWT_AUD_MISMATCH, "aud prefix");
	is_int(claims("{\"aud\":[\"x\",\"api\"]}", 1000, 0, "api", NULL), TA_OK, "aud array");
	is_int(claims("{\"aud\":[\"x\",[\"api\"]]}", 1000, 0, "api", NULL), TA_JWT_AUD_MISMATCH, "aud nested array");
	is_int(claims("{\"aud\":null}", 1000, 0, "api", NULL), TA_JWT_AUD_MISMATCH, "aud null");
	is_int(claims("{}", 1000, 0, "api", NULL), TA_JWT_AUD_MISMATCH, "aud missing");
	is_int(claims("{\"aud\":7}", 1000, 0, NULL, NULL), TA_OK, "aud ignored without expectation");
	is_int(claims("{\"iss\":\"me\"}", 1000, 0, NULL, "me"), TA_OK, "iss");
	is_int(claims("{\"iss\":\"me\"}", 1000, 0, NULL, "Me"), TA_JWT_ISS_MISMATCH, "iss case");
	is_int(claims("{}", 1000, 0, NULL, "me"), TA_JWT_ISS_MISMATCH, "iss missing");
	is_int(claims("{\"iss\":1}", 1000, 0, NULL, "1"), TA_JWT_ISS_MISMATCH, "iss number");
	is_int(claims(" {\"iss\":\"me\"} ", 1000, 0, NULL, "me"), TA_OK, "surrounding whitespace");

	/* the recorded-members path gives the same verdicts */
	{
		static const char *payloads[] = {
			"{\"exp\":1}", "{\"exp\":2000,\"nbf\":\"x\"}", "{\"\\u0069at\":5000}",
			"{\"aud\":[\"a\",\"api\"],\"iss\":\"me\"}", "{\"aud\":\"web\",\"iss\":\"me\"}",
			"{\"iss\":\"me\",\"iss\":\"you\"}", "{}",
		};
		ta_jws_claim_opts o = {1000, 0, "api", 3, "me", 2, NULL};
		int			i,
					same = 1;

		for (i = 0; i < (int) (sizeof(payloads) / sizeof(payloads[0])); i++)
		{
			ta_json_member m[8];
			ta_json_type t;
			size_t		count;

			if (ta_json_validate_members(payloads[i], strlen(payloads[i]), &t, m, 8, &count) != TA_OK ||
				ta_jws_check_claims_members(m, count, &o) !=
				ta_jws_check_claims(payloads[i], strlen(payloads[i]), &o))
				same = 0;
		}
		ok(same, "claim checks over recorded members agree with the scanner");
	}

	return done_testing();
}
