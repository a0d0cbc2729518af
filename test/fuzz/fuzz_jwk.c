/*
 * fuzz_jwk.c: libFuzzer target for the public-key token and key parsers (src/core/jws_asym.c,
 * jwk.c, asym.c). The first input byte picks what the rest is:
 *   0: a token, verified with a fixed key set (RFC 7515 A.2 RSA, A.3 P-256, RFC 8037 Ed25519);
 *   1: PEM text for ta_jwk_from_pem;
 *   2: JWK members separated by NUL bytes (kty, crv, alg, kid, use, n, e, x, y) for ta_jwk_load,
 *      then a fixed signing input verified with the key under every algorithm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jws_asym.h"

static ta_jwk *keys[3];

/* A member over a C string. */
static ta_jwk_member
M(const char *s)
{
	ta_jwk_member m = {s, strlen(s)};

	return m;
}

/* Load the fixed key set once. */
static void
init_keys(void)
{
	ta_jwk_fields f;

	memset(&f, 0, sizeof(f));
	f.kty = M("RSA");
	f.kid = M("rsa");
	f.n = M("ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-"
			"SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-"
			"UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2et"
			"hFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ");
	f.e = M("AQAB");
	ta_jwk_load(&f, &keys[0]);
	memset(&f, 0, sizeof(f));
	f.kty = M("EC");
	f.crv = M("P-256");
	f.kid = M("ec");
	f.x = M("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
	f.y = M("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
	ta_jwk_load(&f, &keys[1]);
	memset(&f, 0, sizeof(f));
	f.kty = M("OKP");
	f.crv = M("Ed25519");
	f.x = M("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	ta_jwk_load(&f, &keys[2]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data + 1;
	size_t		len = size - 1;

	if (keys[0] == NULL)
		init_keys();
	if (size < 1)
		return 0;
	/* first byte 0xF0 and above: public-key recognition of would-be HMAC secrets */
	if (data[0] >= 0xF0)
	{
		(void) ta_jwk_text_is_public_key(in, len);
		return 0;
	}
	switch (data[0] % 3)
	{
		case 0:
			{
				ta_jws_claim_opts o = {1.7e9, 30, "api", 3, "joe", 3, NULL};
				char	   *buf = malloc(2 * len + 8);
				size_t		plen;

				ta_jws_asym_verify(in, len, keys, 3, 1, &o, buf, 2 * len + 8, &plen);
				ta_jws_asym_verify(in, len, keys, 1, 0, &o, buf, 2 * len + 8, &plen);
				free(buf);
				break;
			}
		case 1:
			{
				char		out[TA_JWK_JSON_MAX];
				size_t		olen;

				ta_jwk_from_pem(in, len, out, sizeof(out), &olen);
				break;
			}
		case 2:
			{
				ta_jwk_fields f;
				ta_jwk_member *m[] = {&f.kty, &f.crv, &f.alg, &f.kid, &f.use, &f.n, &f.e, &f.x, &f.y};
				size_t		pos = 0;
				ta_jwk	   *k = NULL;
				static const uint8_t sig[64] = {1};

				memset(&f, 0, sizeof(f));
				for (size_t i = 0; i < sizeof(m) / sizeof(m[0]) && pos <= len; i++)
				{
					const char *end = memchr(in + pos, '\0', len - pos);
					size_t		l = end ? (size_t) (end - (in + pos)) : len - pos;

					m[i]->p = in + pos;
					m[i]->len = l;
					pos += l + 1;
				}
				if (ta_jwk_load(&f, &k) == TA_OK)
					for (int a = 0; a < TA_ASYM_ALG_COUNT; a++)
						ta_jwk_set_verify(&k, 1, 0, NULL, 0, (ta_asym_alg) a,
										  (const uint8_t *) "a.b", 3, sig, sizeof(sig));
				ta_jwk_free(k);
				break;
			}
	}
	return 0;
}
