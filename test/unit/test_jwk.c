/*
 * test_jwk.c: unit tests of src/core/jwk.c and src/core/asym.c (JWK loading, public-key JWS
 * verification, key selection, PEM to JWK), run under ASan/UBSan by `make -C test/unit run`.
 *
 * Known answers: RFC 7515 Appendix A.2 (RS256), A.3 (ES256), A.4 (ES512) and RFC 8037
 * Appendix A.4 (Ed25519). Everything else uses keys OpenSSL generates at test time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/asym.h"
#include "core/jwk.h"
#include "core/jws_asym.h"
#include "tap.h"

/* RFC 7515 A.2.1: the RSA public key. */
static const char *rfc_rsa_n =
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-"
	"SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-"
	"UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2et"
	"hFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/* RFC 7515 A.2 and A.3 share this signing input. */
static const char *rfc_input =
	"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char *rfc_rs256_sig =
	"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t"
	"1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jz"
	"DwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 A.3: ES256. */
static const char *rfc_es256_input =
	"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char *rfc_es256_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *rfc_es256_y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char *rfc_es256_sig =
	"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
/* The same P-256 key as an SPKI PEM. */
static const char *rfc_es256_pem =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
	"6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
	"-----END PUBLIC KEY-----\n";

/* RFC 7515 A.4: ES512 over P-521. */
static const char *rfc_es512_input = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA";
static const char *rfc_es512_x =
	"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk";
static const char *rfc_es512_y =
	"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2";
static const char *rfc_es512_sig =
	"AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZC"
	"PEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/* RFC 8037 A.4: Ed25519. */
static const char *rfc_ed_input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char *rfc_ed_x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char *rfc_ed_sig =
	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/* A member span over a C string (NULL stays absent). */
static ta_jwk_member
M(const char *s)
{
	ta_jwk_member m = {s, s ? strlen(s) : 0};

	return m;
}

/* Decode base64url for the tests (lenient; the vectors are well formed). */
static size_t
unb64(const char *in, uint8_t *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		o = 0;

	for (; *in; in++)
	{
		const char *p = strchr(a, *in);

		acc = (acc << 6) | (uint32_t) (p - a);
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (uint8_t) (acc >> bits);
		}
	}
	return o;
}

/* Encode base64url for the tests. */
static void
b64(const uint8_t *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t	acc = 0;
	int			bits = 0;

	for (size_t i = 0; i < len; i++)
	{
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			*out++ = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		*out++ = a[(acc << (6 - bits)) & 63];
	*out = '\0';
}

/* Load a key from fields, expecting a status; returns the key (or NULL). */
static ta_jwk *
load(const ta_jwk_fields *f, ta_status want, const char *name)
{
	ta_jwk	   *k = NULL;
	ta_status	st = ta_jwk_load(f, &k);

	is_int(st, want, name);
	return k;
}

/* Verify a base64url signature over a text input with one key. */
static ta_status
verify1(ta_jwk *k, ta_asym_alg alg, const char *input, const char *sig_b64)
{
	uint8_t		sig[1024];
	size_t		n = unb64(sig_b64, sig);

	return ta_jwk_set_verify(&k, 1, 0, NULL, 0, alg, (const uint8_t *) input, strlen(input), sig, n);
}

/* RFC known answers, tampering and algorithm binding. */
static void
test_rfc_vectors(void)
{
	ta_jwk_fields f;
	ta_jwk	   *k;
	uint8_t		sig[600];
	size_t		n;
	char		bad[512];

	memset(&f, 0, sizeof(f));
	f.kty = M("RSA");
	f.n = M(rfc_rsa_n);
	f.e = M("AQAB");
	k = load(&f, TA_OK, "RFC 7515 A.2 RSA key loads");
	is_int(k->bits, 2048, "RSA key is 2048 bits");
	is_int(verify1(k, TA_ASYM_RS256, rfc_input, rfc_rs256_sig), TA_OK, "RFC 7515 A.2 RS256 verifies");
	is_int(verify1(k, TA_ASYM_RS384, rfc_input, rfc_rs256_sig), TA_JWT_SIGNATURE_MISMATCH, "A.2 as RS384 fails");
	is_int(verify1(k, TA_ASYM_PS256, rfc_input, rfc_rs256_sig), TA_JWT_SIGNATURE_MISMATCH, "A.2 as PS256 fails");
	is_int(verify1(k, TA_ASYM_ES256, rfc_input, rfc_rs256_sig), TA_JWT_ALG_NOT_ALLOWED, "RSA key refuses ES256");
	is_int(verify1(k, TA_ASYM_EDDSA, rfc_input, rfc_rs256_sig), TA_JWT_ALG_NOT_ALLOWED, "RSA key refuses EdDSA");
	strcpy(bad, rfc_input);
	bad[40] ^= 1;
	is_int(verify1(k, TA_ASYM_RS256, bad, rfc_rs256_sig), TA_JWT_SIGNATURE_MISMATCH, "A.2 tampered payload fails");
	n = unb64(rfc_rs256_sig, sig);
	sig[10] ^= 0x40;
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_RS256, (const uint8_t *) rfc_input,
							 strlen(rfc_input), sig, n), TA_JWT_SIGNATURE_MISMATCH, "A.2 flipped signature bit fails");
	sig[10] ^= 0x40;
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_RS256, (const uint8_t *) rfc_input,
							 strlen(rfc_input), sig, n - 1), TA_JWT_SIGNATURE_MISMATCH, "A.2 truncated signature fails");
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_RS256, (const uint8_t *) rfc_input,
							 strlen(rfc_input), sig, 0), TA_JWT_SIGNATURE_MISMATCH, "empty signature fails");
	ta_jwk_free(k);

	/* The same key pinned to PS256 by its alg member refuses RS256. */
	f.alg = M("PS256");
	k = load(&f, TA_OK, "RSA key with alg PS256 loads");
	is_int(verify1(k, TA_ASYM_RS256, rfc_input, rfc_rs256_sig), TA_JWT_ALG_NOT_ALLOWED, "alg PS256 key refuses RS256");
	ta_jwk_free(k);

	memset(&f, 0, sizeof(f));
	f.kty = M("EC");
	f.crv = M("P-256");
	f.x = M(rfc_es256_x);
	f.y = M(rfc_es256_y);
	k = load(&f, TA_OK, "RFC 7515 A.3 P-256 key loads");
	is_int(verify1(k, TA_ASYM_ES256, rfc_es256_input, rfc_es256_sig), TA_OK, "RFC 7515 A.3 ES256 verifies");
	is_int(verify1(k, TA_ASYM_ES384, rfc_es256_input, rfc_es256_sig), TA_JWT_ALG_NOT_ALLOWED, "P-256 key refuses ES384");
	is_int(verify1(k, TA_ASYM_RS256, rfc_es256_input, rfc_es256_sig), TA_JWT_ALG_NOT_ALLOWED, "EC key refuses RS256");
	n = unb64(rfc_es256_sig, sig);
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_ES256, (const uint8_t *) rfc_es256_input,
							 strlen(rfc_es256_input), sig, n - 1), TA_JWT_SIGNATURE_MISMATCH, "63-byte ES256 signature fails");
	{
		/* The same signature as DER (what OpenSSL emits) is not a JOSE signature. */
		ECDSA_SIG  *es = ECDSA_SIG_new();
		unsigned char der[80],
				   *p = der;
		int			dl;

		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		dl = i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_ES256, (const uint8_t *) rfc_es256_input,
								 strlen(rfc_es256_input), der, (size_t) dl),
			   TA_JWT_SIGNATURE_MISMATCH, "DER-encoded ES256 signature fails");
	}
	sig[40] ^= 1;
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_ES256, (const uint8_t *) rfc_es256_input,
							 strlen(rfc_es256_input), sig, n), TA_JWT_SIGNATURE_MISMATCH, "flipped S fails");
	memset(sig, 0, 64);
	is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_ES256, (const uint8_t *) rfc_es256_input,
							 strlen(rfc_es256_input), sig, 64), TA_JWT_SIGNATURE_MISMATCH, "all-zero R||S fails");
	ta_jwk_free(k);

	memset(&f, 0, sizeof(f));
	f.kty = M("EC");
	f.crv = M("P-521");
	f.x = M(rfc_es512_x);
	f.y = M(rfc_es512_y);
	{
		/* y starts with a zero octet; written without it (as PyJWT < 2.7 does) it still loads. */
		uint8_t		yb[66];
		char		ys[100];
		ta_jwk	   *k2;

		ok(unb64(rfc_es512_y, yb) == 66 && yb[0] == 0, "A.4 y has a leading zero octet");
		b64(yb + 1, 65, ys);
		f.y = M(ys);
		k2 = load(&f, TA_OK, "P-521 key with a 65-octet y loads");
		is_int(verify1(k2, TA_ASYM_ES512, rfc_es512_input, rfc_es512_sig), TA_OK, "and verifies A.4");
		ta_jwk_free(k2);
		f.y = M(rfc_es512_y);
	}
	k = load(&f, TA_OK, "RFC 7515 A.4 P-521 key loads");
	is_int(verify1(k, TA_ASYM_ES512, rfc_es512_input, rfc_es512_sig), TA_OK, "RFC 7515 A.4 ES512 verifies");
	is_int(verify1(k, TA_ASYM_ES256, rfc_es512_input, rfc_es512_sig), TA_JWT_ALG_NOT_ALLOWED, "P-521 key refuses ES256");
	ta_jwk_free(k);

	memset(&f, 0, sizeof(f));
	f.kty = M("OKP");
	f.crv = M("Ed25519");
	f.x = M(rfc_ed_x);
	k = load(&f, TA_OK, "RFC 8037 A.1 Ed25519 key loads");
	is_int(verify1(k, TA_ASYM_EDDSA, rfc_ed_input, rfc_ed_sig), TA_OK, "RFC 8037 A.4 EdDSA verifies");
	strcpy(bad, rfc_ed_input);
	bad[strlen(bad) - 1] = 'Z';
	is_int(verify1(k, TA_ASYM_EDDSA, bad, rfc_ed_sig), TA_JWT_SIGNATURE_MISMATCH, "EdDSA tampered input fails");
	is_int(verify1(k, TA_ASYM_ES256, rfc_ed_input, rfc_ed_sig), TA_JWT_ALG_NOT_ALLOWED, "OKP key refuses ES256");
	ta_jwk_free(k);
	f.alg = M("Ed25519");
	k = load(&f, TA_OK, "Ed25519 key with alg Ed25519 (RFC 9864) loads");
	is_int(verify1(k, TA_ASYM_EDDSA, rfc_ed_input, rfc_ed_sig), TA_OK, "and verifies EdDSA");
	ta_jwk_free(k);
}

/* Algorithm names. */
static void
test_alg_names(void)
{
	static const char *names[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA"};
	ta_asym_alg a;

	for (int i = 0; i < TA_ASYM_ALG_COUNT; i++)
	{
		int			okay = ta_asym_alg_from_name(names[i], strlen(names[i]), &a) == TA_OK &&
			(int) a == i && strcmp(ta_asym_alg_name(a), names[i]) == 0;

		ok(okay, names[i]);
	}
	is_int(ta_asym_alg_from_name("Ed25519", 7, &a), TA_OK, "Ed25519 name");
	is_int(ta_asym_alg_from_name("none", 4, &a), TA_JWT_ALG_NONE, "none");
	is_int(ta_asym_alg_from_name("NoNe", 4, &a), TA_JWT_ALG_NONE, "NoNe");
	is_int(ta_asym_alg_from_name("HS256", 5, &a), TA_JWT_ALG_NOT_ALLOWED, "HS256 with a public key");
	is_int(ta_asym_alg_from_name("HS512", 5, &a), TA_JWT_ALG_NOT_ALLOWED, "HS512 with a public key");
	is_int(ta_asym_alg_from_name("rs256", 5, &a), TA_JWT_ALG_UNSUPPORTED, "mis-cased rs256");
	is_int(ta_asym_alg_from_name("EDDSA", 5, &a), TA_JWT_ALG_UNSUPPORTED, "mis-cased EDDSA");
	is_int(ta_asym_alg_from_name("RS256\0", 6, &a), TA_JWT_ALG_UNSUPPORTED, "RS256 with a NUL");
	is_int(ta_asym_alg_from_name("", 0, &a), TA_JWT_ALG_UNSUPPORTED, "empty alg");
	is_int(ta_asym_alg_from_name("ES256K", 6, &a), TA_JWT_ALG_UNSUPPORTED, "ES256K");
}

/* Every way a JWK is refused. */
static void
test_load_errors(void)
{
	ta_jwk_fields f,
				base;
	ta_jwk	   *k;
	char		y[64];

	memset(&base, 0, sizeof(base));
	base.kty = M("EC");
	base.crv = M("P-256");
	base.x = M(rfc_es256_x);
	base.y = M(rfc_es256_y);

	f = base;
	f.kty = M(NULL);
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "no kty"));
	f = base;
	f.malformed = 1;
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "member of the wrong type"));
	f = base;
	f.kty = M("oct");
	ta_jwk_free(load(&f, TA_JWK_KTY_UNSUPPORTED, "kty oct"));
	f = base;
	f.kty = M("ec");
	ta_jwk_free(load(&f, TA_JWK_KTY_UNSUPPORTED, "kty ec (case)"));
	f = base;
	f.has_private = 1;
	ta_jwk_free(load(&f, TA_JWK_PRIVATE, "private member"));
	f = base;
	f.use = M("enc");
	ta_jwk_free(load(&f, TA_JWK_NOT_FOR_SIGNATURES, "use enc"));
	f = base;
	f.use = M("sig");
	ta_jwk_free(load(&f, TA_OK, "use sig"));
	f = base;
	f.key_ops = TA_JWK_OPS_OTHER;
	ta_jwk_free(load(&f, TA_JWK_NOT_FOR_SIGNATURES, "key_ops without verify"));
	f = base;
	f.key_ops = TA_JWK_OPS_VERIFY;
	ta_jwk_free(load(&f, TA_OK, "key_ops with verify"));
	f = base;
	f.alg = M("RS256");
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "EC key with alg RS256"));
	f = base;
	f.alg = M("ES384");
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "P-256 key with alg ES384"));
	f = base;
	f.alg = M("HS256");
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "EC key with alg HS256"));
	f = base;
	f.alg = M("none");
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "EC key with alg none"));
	f = base;
	f.crv = M("P-192");
	ta_jwk_free(load(&f, TA_JWK_CRV_UNSUPPORTED, "crv P-192"));
	f = base;
	f.crv = M("Ed25519");
	ta_jwk_free(load(&f, TA_JWK_CRV_UNSUPPORTED, "EC with crv Ed25519"));
	f = base;
	f.crv = M(NULL);
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "EC without crv"));
	f = base;
	f.y = M(NULL);
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "EC without y"));
	f = base;
	f.x = M("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "EC x one char short"));
	f = base;
	f.x = M("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "EC x with padding"));
	f = base;
	f.x = M("AAf83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "EC x too long"));
	f = base;
	f.x = M("");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "EC x empty"));
	strcpy(y, rfc_es256_y);
	y[5] = y[5] == 'A' ? 'B' : 'A';
	f = base;
	f.y = M(y);
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "EC point not on the curve"));

	memset(&f, 0, sizeof(f));
	f.kty = M("OKP");
	f.crv = M("Ed25519");
	f.x = M(rfc_ed_x);
	f.y = M(rfc_ed_x);
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "OKP with y"));
	f.y = M(NULL);
	f.crv = M("Ed448");
	ta_jwk_free(load(&f, TA_JWK_CRV_UNSUPPORTED, "OKP Ed448"));
	f.crv = M("X25519");
	ta_jwk_free(load(&f, TA_JWK_CRV_UNSUPPORTED, "OKP X25519"));
	f.crv = M("Ed25519");
	f.x = M("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "Ed25519 x short"));
	f.x = M("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "Ed25519 x with nonzero trailing bits"));

	memset(&f, 0, sizeof(f));
	f.kty = M("RSA");
	f.n = M(rfc_rsa_n);
	f.e = M("AQAB");
	f.e = M(NULL);
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "RSA without e"));
	f.e = M("AQ");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "RSA e = 1"));
	f.e = M("Ag");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "RSA e = 2"));
	f.e = M("AQAB=");
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "RSA e with padding"));
	f.e = M("AQAC");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "RSA even e"));
	f.e = M("AQABAQABAQAB");
	ta_jwk_free(load(&f, TA_JWK_BAD_KEY, "RSA e of 9 octets"));
	f.e = M("AQ+B");
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "RSA e in base64 not base64url"));
	f.e = M("AQAB");
	f.n = M("AQAB");
	ta_jwk_free(load(&f, TA_JWK_RSA_TOO_SMALL, "RSA 17-bit modulus"));
	f.n = M("");
	ta_jwk_free(load(&f, TA_JWK_MALFORMED, "RSA empty n"));
	f.alg = M("ES256");
	f.n = M(rfc_rsa_n);
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "RSA key with alg ES256"));
	f.alg = M("RSA-OAEP");
	ta_jwk_free(load(&f, TA_JWK_ALG_MISMATCH, "RSA key with alg RSA-OAEP"));

	/* An unusable key keeps its kid so selection can explain itself. */
	f.alg = M(NULL);
	f.n = M("AQAB");
	f.kid = M("old");
	k = load(&f, TA_JWK_RSA_TOO_SMALL, "unusable key still returned");
	ok(k != NULL && k->kid != NULL && strcmp(k->kid, "old") == 0 && k->pkey == NULL, "unusable key keeps its kid");
	ta_jwk_free(k);
}

/* Fields of a generated public key, base64url strings in caller storage. */
typedef struct genkey
{
	EVP_PKEY   *pkey;
	char		n[2800],
				e[16],
				x[100],
				y[100];
	ta_jwk_fields f;
} genkey;

/* Describe an OpenSSL key as JWK fields, by hand (independent of ta_jwk_from_pem). */
static void
describe(genkey *g, const char *crv)
{
	memset(&g->f, 0, sizeof(g->f));
	if (EVP_PKEY_get_base_id(g->pkey) == EVP_PKEY_RSA)
	{
		BIGNUM	   *n = NULL,
				   *e = NULL;
		uint8_t		buf[2100];
		int			len;

		EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_RSA_N, &n);
		EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_RSA_E, &e);
		len = BN_bn2bin(n, buf);
		b64(buf, (size_t) len, g->n);
		len = BN_bn2bin(e, buf);
		b64(buf, (size_t) len, g->e);
		BN_free(n);
		BN_free(e);
		g->f.kty = M("RSA");
		g->f.n = M(g->n);
		g->f.e = M(g->e);
	}
	else if (EVP_PKEY_get_base_id(g->pkey) == EVP_PKEY_EC)
	{
		BIGNUM	   *x = NULL,
				   *y = NULL;
		uint8_t		buf[66];
		int			cl = (EVP_PKEY_get_bits(g->pkey) + 7) / 8;

		EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x);
		EVP_PKEY_get_bn_param(g->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
		BN_bn2binpad(x, buf, cl);
		b64(buf, (size_t) cl, g->x);
		BN_bn2binpad(y, buf, cl);
		b64(buf, (size_t) cl, g->y);
		BN_free(x);
		BN_free(y);
		g->f.kty = M("EC");
		g->f.crv = M(crv);
		g->f.x = M(g->x);
		g->f.y = M(g->y);
	}
	else
	{
		uint8_t		raw[32];
		size_t		rl = sizeof(raw);

		EVP_PKEY_get_raw_public_key(g->pkey, raw, &rl);
		b64(raw, rl, g->x);
		g->f.kty = M("OKP");
		g->f.crv = M(crv);
		g->f.x = M(g->x);
	}
}

/* Sign input the way a JOSE library does for alg; returns the signature length. */
static size_t
jose_sign(EVP_PKEY *pkey, ta_asym_alg alg, const char *input, uint8_t *out)
{
	const char *mdname[] = {"SHA256", "SHA384", "SHA512"};
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	const EVP_MD *md = NULL;
	uint8_t		der[256];
	size_t		len = sizeof(der);

	if (alg != TA_ASYM_EDDSA)
		md = EVP_get_digestbyname(mdname[alg % 3]);
	EVP_DigestSignInit(m, &p, md, NULL, pkey);
	if (alg >= TA_ASYM_PS256 && alg <= TA_ASYM_PS512)
	{
		EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST);
	}
	if (alg >= TA_ASYM_ES256 && alg <= TA_ASYM_ES512)
	{
		const unsigned char *dp = der;
		ECDSA_SIG  *es;
		int			cl = (EVP_PKEY_get_bits(pkey) + 7) / 8;

		EVP_DigestSign(m, der, &len, (const uint8_t *) input, strlen(input));
		es = d2i_ECDSA_SIG(NULL, &dp, (long) len);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), out, cl);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), out + cl, cl);
		ECDSA_SIG_free(es);
		len = (size_t) (2 * cl);
	}
	else
	{
		len = 1024;
		EVP_DigestSign(m, out, &len, (const uint8_t *) input, strlen(input));
	}
	EVP_MD_CTX_free(m);
	return len;
}

/* Keys generated now: every algorithm signs and verifies; PSS salt length is the digest's. */
static void
test_generated(void)
{
	static genkey rsa,
				p256,
				p384,
				p521,
				ed;
	static const struct
	{
		genkey	   *g;
		ta_asym_alg alg;
	}			cases[] = {
		{&rsa, TA_ASYM_RS256}, {&rsa, TA_ASYM_RS384}, {&rsa, TA_ASYM_RS512},
		{&rsa, TA_ASYM_PS256}, {&rsa, TA_ASYM_PS384}, {&rsa, TA_ASYM_PS512},
		{&p256, TA_ASYM_ES256}, {&p384, TA_ASYM_ES384}, {&p521, TA_ASYM_ES512},
		{&ed, TA_ASYM_EDDSA},
	};
	const char *input = "eyJhbGciOiJ4In0.eyJzdWIiOiIxMjMifQ";
	char		name[128];

	rsa.pkey = EVP_RSA_gen(2048);
	describe(&rsa, NULL);
	p256.pkey = EVP_EC_gen("P-256");
	describe(&p256, "P-256");
	p384.pkey = EVP_EC_gen("P-384");
	describe(&p384, "P-384");
	p521.pkey = EVP_EC_gen("P-521");
	describe(&p521, "P-521");
	ed.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	describe(&ed, "Ed25519");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint8_t		sig[1024];
		size_t		n = jose_sign(cases[i].g->pkey, cases[i].alg, input, sig);
		ta_jwk	   *k = NULL;
		char		pem[4096];
		char		json[TA_JWK_JSON_MAX];
		size_t		jl = 0;
		BIO		   *bio;
		long		pl;
		char	   *pp;

		snprintf(name, sizeof(name), "generated %s key loads", ta_asym_alg_name(cases[i].alg));
		is_int(ta_jwk_load(&cases[i].g->f, &k), TA_OK, name);
		snprintf(name, sizeof(name), "generated %s verifies", ta_asym_alg_name(cases[i].alg));
		is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, cases[i].alg, (const uint8_t *) input,
								 strlen(input), sig, n), TA_OK, name);
		sig[n / 2] ^= 0x10;
		snprintf(name, sizeof(name), "generated %s flipped bit fails", ta_asym_alg_name(cases[i].alg));
		is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, cases[i].alg, (const uint8_t *) input,
								 strlen(input), sig, n), TA_JWT_SIGNATURE_MISMATCH, name);
		/* The key's kept verifier still works after a failure. */
		sig[n / 2] ^= 0x10;
		snprintf(name, sizeof(name), "generated %s verifies again after a failure", ta_asym_alg_name(cases[i].alg));
		is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, cases[i].alg, (const uint8_t *) input,
								 strlen(input), sig, n), TA_OK, name);
		ta_jwk_free(k);

		/* The PEM of the same key converts to the same JWK members. */
		bio = BIO_new(BIO_s_mem());
		PEM_write_bio_PUBKEY(bio, cases[i].g->pkey);
		pl = BIO_get_mem_data(bio, &pp);
		memcpy(pem, pp, (size_t) pl);
		snprintf(name, sizeof(name), "PEM of generated %s key converts", ta_asym_alg_name(cases[i].alg));
		is_int(ta_jwk_from_pem(pem, (size_t) pl, json, sizeof(json), &jl), TA_OK, name);
		BIO_free(bio);
		{
			char		want[TA_JWK_JSON_MAX];
			genkey	   *g = cases[i].g;

			if (g == &rsa)
				snprintf(want, sizeof(want), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", g->n, g->e);
			else if (g == &ed)
				snprintf(want, sizeof(want), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", g->x);
			else
				snprintf(want, sizeof(want), "{\"kty\":\"EC\",\"crv\":\"%.*s\",\"x\":\"%s\",\"y\":\"%s\"}",
						 (int) g->f.crv.len, g->f.crv.p, g->x, g->y);
			snprintf(name, sizeof(name), "PEM of generated %s key gives its JWK", ta_asym_alg_name(cases[i].alg));
			is_str(json, want, name);
			is_int(jl, strlen(want), "length reported");
		}
	}

	/* PSS with the largest salt (not what RFC 7518 §3.5 asks for) is refused. */
	{
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		EVP_PKEY_CTX *p = NULL;
		uint8_t		sig[512];
		size_t		n = sizeof(sig);
		ta_jwk	   *k = NULL;

		EVP_DigestSignInit(m, &p, EVP_sha256(), NULL, rsa.pkey);
		EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_MAX);
		EVP_DigestSign(m, sig, &n, (const uint8_t *) input, strlen(input));
		EVP_MD_CTX_free(m);
		ta_jwk_load(&rsa.f, &k);
		is_int(ta_jwk_set_verify(&k, 1, 0, NULL, 0, TA_ASYM_PS256, (const uint8_t *) input,
								 strlen(input), sig, n), TA_JWT_SIGNATURE_MISMATCH, "PS256 with maximal salt fails");
		ta_jwk_free(k);
	}

	/* Key selection over a set. */
	{
		genkey		rsa2;
		ta_jwk	   *set[4] = {0};
		uint8_t		sig[1024];
		size_t		n;
		ta_jwk_fields f;

		rsa2.pkey = EVP_RSA_gen(2048);
		describe(&rsa2, NULL);
		f = p256.f;
		f.kid = M("ec-1");
		ta_jwk_load(&f, &set[0]);
		f = rsa.f;
		f.kid = M("rsa-1");
		ta_jwk_load(&f, &set[1]);
		f = rsa2.f;
		f.kid = M("rsa-2");
		ta_jwk_load(&f, &set[2]);
		f = ed.f;
		ta_jwk_load(&f, &set[3]);	/* no kid */

		n = jose_sign(rsa.pkey, TA_ASYM_RS256, input, sig);
		is_int(ta_jwk_set_verify(set, 4, 1, "rsa-1", 5, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "set: kid selects the key");
		is_int(ta_jwk_set_verify(set, 4, 1, NULL, 0, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "set: no kid tries the keys that fit");
		is_int(ta_jwk_set_verify(set, 4, 1, "rsa-2", 5, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_SIGNATURE_MISMATCH, "set: wrong key with the same kid fails");
		is_int(ta_jwk_set_verify(set, 4, 1, "rsa-3", 5, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_KID_UNKNOWN, "set: unknown kid");
		is_int(ta_jwk_set_verify(set, 4, 1, "rsa", 3, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_KID_UNKNOWN, "set: kid prefix is not the kid");
		is_int(ta_jwk_set_verify(set, 4, 1, "ec-1", 4, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_ALG_NOT_ALLOWED, "set: RSA token against the EC key's kid");
		is_int(ta_jwk_set_verify(set, 1, 1, NULL, 0, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_ALG_NOT_ALLOWED, "set: RSA token, only an EC key");
		is_int(ta_jwk_set_verify(set, 0, 1, NULL, 0, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_NO_KEY, "empty set");
		n = jose_sign(ed.pkey, TA_ASYM_EDDSA, input, sig);
		is_int(ta_jwk_set_verify(set, 4, 1, NULL, 0, TA_ASYM_EDDSA, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "set: EdDSA without kid finds the OKP key");
		is_int(ta_jwk_set_verify(set, 4, 1, "x", 1, TA_ASYM_EDDSA, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_KID_UNKNOWN, "set: a key without kid does not match a token kid");
		is_int(ta_jwk_set_verify(&set[3], 1, 0, "x", 1, TA_ASYM_EDDSA, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "lone JWK without kid matches any token kid");
		is_int(ta_jwk_set_verify(&set[1], 1, 0, "x", 1, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWT_KID_UNKNOWN, "lone JWK with another kid does not");
		for (int i = 0; i < 4; i++)
			ta_jwk_free(set[i]);

		/* An unusable key with the token's kid explains the failure; other keys still work. */
		f = rsa.f;
		f.kid = M("weak");
		f.n = M("AQAB");
		ta_jwk_load(&f, &set[0]);
		f = rsa.f;
		f.kid = M("good");
		ta_jwk_load(&f, &set[1]);
		n = jose_sign(rsa.pkey, TA_ASYM_RS256, input, sig);
		is_int(ta_jwk_set_verify(set, 2, 1, "weak", 4, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_JWK_RSA_TOO_SMALL, "set: selected key too small is reported");
		is_int(ta_jwk_set_verify(set, 2, 1, "good", 4, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "set: an unusable neighbour does not block a good key");
		is_int(ta_jwk_set_verify(set, 2, 1, NULL, 0, TA_ASYM_RS256, (const uint8_t *) input, strlen(input), sig, n),
			   TA_OK, "set: no kid skips the unusable key");
		ta_jwk_free(set[0]);
		ta_jwk_free(set[1]);
		EVP_PKEY_free(rsa2.pkey);
	}

	EVP_PKEY_free(rsa.pkey);
	EVP_PKEY_free(p256.pkey);
	EVP_PKEY_free(p384.pkey);
	EVP_PKEY_free(p521.pkey);
	EVP_PKEY_free(ed.pkey);
}

/* Write a key as PEM with a writer; returns a malloc'd string. */
static char *
pem_of(EVP_PKEY *pkey, int private_key, int pkcs1)
{
	BIO		   *bio = BIO_new(BIO_s_mem());
	char	   *p,
			   *s;
	long		n;

	if (private_key)
		PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	else if (pkcs1)
	{
		OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_PUBLIC_KEY, "PEM",
															   "type-specific", NULL);

		OSSL_ENCODER_to_bio(ectx, bio);
		OSSL_ENCODER_CTX_free(ectx);
	}
	else
		PEM_write_bio_PUBKEY(bio, pkey);
	n = BIO_get_mem_data(bio, &p);
	s = malloc((size_t) n + 1);
	memcpy(s, p, (size_t) n);
	s[n] = '\0';
	BIO_free(bio);
	return s;
}

/* PEM to JWK: known answer, refusals. */
static void
test_pem(void)
{
	char		out[TA_JWK_JSON_MAX];
	size_t		len;
	char		want[256];
	EVP_PKEY   *k;
	char	   *pem;

	snprintf(want, sizeof(want), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
			 rfc_es256_x, rfc_es256_y);
	is_int(ta_jwk_from_pem(rfc_es256_pem, strlen(rfc_es256_pem), out, sizeof(out), &len), TA_OK,
		   "RFC 7515 A.3 key as PEM converts");
	is_str(out, want, "to the A.3 JWK");
	is_int(ta_jwk_from_pem(rfc_es256_pem, strlen(rfc_es256_pem), out, 20, &len), TA_ERR_BUFFER,
		   "small buffer reported");
	is_int(ta_jwk_from_pem("hello", 5, out, sizeof(out), &len), TA_JWK_PEM_INVALID, "not PEM");
	is_int(ta_jwk_from_pem("", 0, out, sizeof(out), &len), TA_JWK_PEM_INVALID, "empty");
	is_int(ta_jwk_from_pem(rfc_es256_pem, 40, out, sizeof(out), &len), TA_JWK_PEM_INVALID, "truncated PEM");

	k = EVP_RSA_gen(2048);
	pem = pem_of(k, 1, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_PEM_PRIVATE, "private RSA PEM refused");
	free(pem);
	pem = pem_of(k, 0, 1);
	ok(strstr(pem, "BEGIN RSA PUBLIC KEY") != NULL, "PKCS#1 PEM written");
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_OK, "PKCS#1 RSA PUBLIC KEY converts");
	ok(strncmp(out, "{\"kty\":\"RSA\",\"n\":\"", 18) == 0 && strstr(out, "\"e\":\"AQAB\"}") != NULL, "to an RSA JWK");
	free(pem);
	EVP_PKEY_free(k);

	k = EVP_RSA_gen(1024);
	pem = pem_of(k, 0, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_RSA_TOO_SMALL, "RSA 1024 PEM refused");
	free(pem);
	EVP_PKEY_free(k);

	k = EVP_EC_gen("secp256k1");
	pem = pem_of(k, 0, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_CRV_UNSUPPORTED, "secp256k1 refused");
	free(pem);
	pem = pem_of(k, 1, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_PEM_PRIVATE, "private EC PEM refused");
	free(pem);
	EVP_PKEY_free(k);

	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	pem = pem_of(k, 0, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_KTY_UNSUPPORTED, "Ed448 refused");
	free(pem);
	EVP_PKEY_free(k);

	k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	pem = pem_of(k, 0, 0);
	is_int(ta_jwk_from_pem(pem, strlen(pem), out, sizeof(out), &len), TA_JWK_KTY_UNSUPPORTED, "X25519 refused");
	free(pem);
	EVP_PKEY_free(k);
}

/* Public key texts are recognised, so HMAC verification can refuse them as secrets. */
static void
test_text_is_public_key(void)
{
	static const char *yes[] = {
		"-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n",
		"  \n-----BEGIN RSA PUBLIC KEY-----\n",
		"{\"kty\":\"RSA\",\"n\":\"x\",\"e\":\"AQAB\"}",
		" {\"keys\":[{\"kty\":\"EC\"}]}",
		/* spellings that 0.1.0 took for secrets */
		"\xEF\xBB\xBF-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n",
		"x-----BEGIN PUBLIC KEY-----",
		"subject=CN = example\n-----BEGIN CERTIFICATE-----\nMIIB...\n",
		"{\"k\\u0074y\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		"{\"\\u006beys\":[]}",
		"[{\"kty\":\"RSA\"}]",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrbgGX1L7wwgPN+pqhBlKUWiUz+bLaSOFPVkt1SeYJd user@host",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host",
		"from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrbgGX1L7wwgPN+pqhBlKUWiUz+bLaSOFPVkt1SeYJd",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE",
		/* the bare base64 of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §10.1) */
		"MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
		"MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE",
		"  MCowBQYDK2VwAyEAGb9ECWmEzf6F\nQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n",
	};
	static const char *no[] = {
		"my-32-byte-long-shared-secret-value!!",
		"", "{", "{}", "kty", "-----BEGIN", "{\"k\":\"v\"}", "[1,2]", "\xEF\xBB\xBF",
		"ssh-ed25519", "ssh-keys-are-not-this-secret-0123456789",
		/* base64 that is not a key: random bytes, and a DER key with a byte missing */
		"MzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk=",
		"MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZg==",
		"M", "MMMM====",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(ta_jwk_text_is_public_key(yes[i], strlen(yes[i])), "public key text recognised");
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!ta_jwk_text_is_public_key(no[i], strlen(no[i])), "ordinary secret not mistaken for a key");
}

/*
 * A whole EdDSA token over payload, signed by pkey; tamper: 0 none, 1 a signature bit flipped,
 * 2 the payload's sub changed after signing (still a valid payload).
 */
static void
ed_token(EVP_PKEY *pkey, const char *payload, int tamper, char *out)
{
	const char *header = "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}";
	char		other[256];
	uint8_t		sig[64];
	size_t		n,
				hl;

	b64((const uint8_t *) header, strlen(header), out);
	hl = strlen(out);
	out[hl] = '.';
	b64((const uint8_t *) payload, strlen(payload), out + hl + 1);
	n = jose_sign(pkey, TA_ASYM_EDDSA, out, sig);
	if (tamper == 1)
		sig[10] ^= 0x01;
	if (tamper == 2)
	{
		snprintf(other, sizeof(other), "%s", payload);
		*strchr(other, 'x') = 'y';
		b64((const uint8_t *) other, strlen(other), out + hl + 1);
	}
	strcat(out, ".");
	b64(sig, n, out + strlen(out));
}

/*
 * ta_jws_asym_verify_decoded, given what the caller decoded, gives the verdicts of
 * ta_jws_asym_verify on the same tokens: valid, bad signature, payload changed after signing,
 * expired, wrong audience.
 */
static void
test_verify_decoded(void)
{
	static const struct
	{
		const char *payload;
		int			tamper;
		ta_status	want;
		const char *name;
	}			cases[] = {
		{"{\"sub\":\"x\",\"aud\":\"api\",\"exp\":4102444800}", 0, TA_OK, "valid"},
		{"{\"sub\":\"x\",\"aud\":\"api\",\"exp\":4102444800}", 1, TA_JWT_SIGNATURE_MISMATCH, "signature changed"},
		{"{\"sub\":\"x\",\"aud\":\"api\",\"exp\":4102444800}", 2, TA_JWT_SIGNATURE_MISMATCH, "payload changed after signing"},
		{"{\"sub\":\"x\",\"aud\":\"api\",\"exp\":1}", 0, TA_JWT_EXPIRED, "expired"},
		{"{\"sub\":\"x\",\"aud\":\"web\",\"exp\":4102444800}", 0, TA_JWT_AUD_MISMATCH, "other audience"},
	};
	genkey		ed;
	ta_jwk	   *k = NULL;
	ta_jws_claim_opts co = {1700000000.0, 0.0, "api", 3, NULL, 0, NULL};
	char		name[160];

	ed.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	describe(&ed, "Ed25519");
	ed.f.kid = M("k1");
	is_int(ta_jwk_load(&ed.f, &k), TA_OK, "Ed25519 key for the decoded-token checks loads");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		tok[512];
		char		whole[1024],
					buf[1024];
		size_t		plen,
					hcap;
		ta_jws_parts parts;
		ta_jws_asym_header hdr;
		ta_status	st;

		ed_token(ed.pkey, cases[i].payload, cases[i].tamper, tok);
		snprintf(name, sizeof(name), "whole token, %s", cases[i].name);
		is_int(ta_jws_asym_verify(tok, strlen(tok), &k, 1, 0, &co, whole, sizeof(whole), &plen),
			   cases[i].want, name);
		st = ta_jws_split(tok, strlen(tok), &parts);
		hcap = TA_JWS_ASYM_HEADER_CAP(parts.header_len);
		if (st == TA_OK)
			st = ta_jws_asym_parse_header(&parts, buf, hcap, &hdr);
		if (st == TA_OK)
			st = ta_jws_decode_payload(&parts, buf + hcap, sizeof(buf) - hcap, &plen);
		if (st == TA_OK)
			st = ta_jws_asym_verify_decoded(&parts, &hdr, &k, 1, 0, &co, buf + hcap, plen);
		snprintf(name, sizeof(name), "decoded by the caller, %s", cases[i].name);
		is_int(st, cases[i].want, name);
	}
	ta_jwk_free(k);
	EVP_PKEY_free(ed.pkey);
}

int
main(void)
{
	test_text_is_public_key();
	test_alg_names();
	test_rfc_vectors();
	test_load_errors();
	test_generated();
	test_pem();
	test_verify_decoded();
	return done_testing();
}
