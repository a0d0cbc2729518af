/*
 * jwk.c: JSON Web Keys as OpenSSL public keys, key selection, PEM to JWK.
 */
#include "core/jwk.h"
#include "core/ta_alloc.h"

#include "core/b64url.h"
#include "core/json.h"
#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

/* Largest decoded key member: a 16384-bit modulus. */
#define JWK_MEMBER_MAX (TA_JWK_RSA_MAX_BITS / 8 + 1)

typedef struct jwk_curve
{
	const char *crv;			/* JOSE name (RFC 7518 §6.2.1.1, RFC 8037 §2) */
	const char *group;			/* OpenSSL group name */
	ta_jwk_kty	kty;
	size_t		coord_len;		/* octets of x (and y) */
	int			bits;
	ta_asym_alg alg;
} jwk_curve;

static const jwk_curve curves[] = {
	{"P-256", "prime256v1", TA_JWK_KTY_EC, 32, 256, TA_ASYM_ES256},
	{"P-384", "secp384r1", TA_JWK_KTY_EC, 48, 384, TA_ASYM_ES384},
	{"P-521", "secp521r1", TA_JWK_KTY_EC, 66, 521, TA_ASYM_ES512},
	{"Ed25519", NULL, TA_JWK_KTY_OKP, 32, 256, TA_ASYM_EDDSA},
};

#define NCURVES (sizeof(curves) / sizeof(curves[0]))

/* Whether a member equals a NUL-terminated literal. */
static int
member_is(const ta_jwk_member *m, const char *lit)
{
	size_t		n = strlen(lit);

	return m->p != NULL && m->len == n && memcmp(m->p, lit, n) == 0;
}

/*
 * Decode a base64url key member strictly (RFC 7515 §2: no padding, canonical bits) into out.
 * Returns the decoded length, or -1 for bad base64url or more than cap bytes.
 */
static long
b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t		n;

	if (ta_b64url_decode(in, len, out, cap, &n) != TA_OK)
		return -1;
	return (long) n;
}

/* Encode bytes as unpadded base64url into out (capacity cap, NUL added); -1 if it does not fit. */
static long
b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t		n;

	if (cap < 1 || ta_b64url_encode(in, len, out, cap - 1, &n) != TA_OK)
		return -1;
	out[n] = '\0';
	return (long) n;
}

/* Build an RSA public key from the n and e members (RFC 7518 §6.3.1). */
static ta_status
jwk_load_rsa(const ta_jwk_fields *f, ta_jwk *key)
{
	uint8_t    *buf;
	long		nlen,
				elen;
	BIGNUM	   *n = NULL,
			   *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	ta_status	st;

	if (f->n.p == NULL || f->e.p == NULL)
		return TA_JWK_MALFORMED;
	/* Refuse an oversized modulus before decoding it. */
	if (f->n.len > (JWK_MEMBER_MAX * 4) / 3 + 4)
		return TA_JWK_RSA_TOO_LARGE;
	buf = ta_malloc(JWK_MEMBER_MAX + 16);
	if (buf == NULL)
		return TA_ERR_NOMEM;
	nlen = b64url_decode(f->n.p, f->n.len, buf, JWK_MEMBER_MAX);
	if (nlen <= 0 || (n = BN_bin2bn(buf, (int) nlen, NULL)) == NULL)
	{
		st = nlen <= 0 ? TA_JWK_MALFORMED : TA_ERR_NOMEM;
		goto out;
	}
	/* The public exponent fits in 8 octets in every real key; larger ones only cost time. */
	elen = b64url_decode(f->e.p, f->e.len, buf, 16);
	if (elen <= 0 || elen > 8)
	{
		st = elen == 0 || elen < 0 ? TA_JWK_MALFORMED : TA_JWK_BAD_KEY;
		goto out;
	}
	if ((e = BN_bin2bn(buf, (int) elen, NULL)) == NULL)
	{
		st = TA_ERR_NOMEM;
		goto out;
	}
	key->bits = BN_num_bits(n);
	if (key->bits < TA_JWK_RSA_MIN_BITS)
	{
		st = TA_JWK_RSA_TOO_SMALL;
		goto out;
	}
	if (key->bits > TA_JWK_RSA_MAX_BITS)
	{
		st = TA_JWK_RSA_TOO_LARGE;
		goto out;
	}
	/* An even modulus or an exponent below 3 or even is no RSA key. */
	if (!BN_is_odd(n) || !BN_is_odd(e) || BN_is_one(e))
	{
		st = TA_JWK_BAD_KEY;
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
		(params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
		(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
		EVP_PKEY_fromdata_init(ctx) != 1)
	{
		st = TA_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
	{
		st = TA_JWK_BAD_KEY;
		goto out;
	}
	key->allowed = TA_ASYM_BIT(TA_ASYM_RS256) | TA_ASYM_BIT(TA_ASYM_RS384) |
		TA_ASYM_BIT(TA_ASYM_RS512) | TA_ASYM_BIT(TA_ASYM_PS256) |
		TA_ASYM_BIT(TA_ASYM_PS384) | TA_ASYM_BIT(TA_ASYM_PS512);
	st = TA_OK;

out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ta_free(buf);
	return st;
}

/* Decode an EC coordinate into exactly len octets, left-padding a short one; -1 if invalid. */
static long
jwk_coordinate(const ta_jwk_member *m, uint8_t *out, size_t len)
{
	uint8_t		buf[66];
	long		n = b64url_decode(m->p, m->len, buf, len);

	if (n <= 0 || (size_t) n > len || len > sizeof(buf))
		return -1;
	memset(out, 0, len - (size_t) n);
	memcpy(out + len - (size_t) n, buf, (size_t) n);
	return (long) len;
}

/* Build an EC (RFC 7518 §6.2.1) or OKP (RFC 8037 §2) public key from crv, x and y. */
static ta_status
jwk_load_curve(const ta_jwk_fields *f, ta_jwk *key)
{
	const jwk_curve *c = NULL;
	uint8_t		pub[1 + 2 * 66];
	long		xl,
				yl;
	OSSL_PARAM	params[3];
	EVP_PKEY_CTX *ctx = NULL;
	ta_status	st;

	if (f->crv.p == NULL || f->x.p == NULL)
		return TA_JWK_MALFORMED;
	for (size_t i = 0; i < NCURVES; i++)
		if (curves[i].kty == key->kty && member_is(&f->crv, curves[i].crv))
			c = &curves[i];
	if (c == NULL)
		return TA_JWK_CRV_UNSUPPORTED;
	key->bits = c->bits;

	if (key->kty == TA_JWK_KTY_OKP)
	{
		/* RFC 8037 §2: an OKP public key has x only. */
		if (f->y.p != NULL)
			return TA_JWK_MALFORMED;
		xl = b64url_decode(f->x.p, f->x.len, pub, sizeof(pub));
		if (xl != (long) c->coord_len)
			return TA_JWK_BAD_KEY;
		key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, (size_t) xl);
		if (key->pkey == NULL)
			return TA_JWK_BAD_KEY;
		key->allowed = TA_ASYM_BIT(c->alg);
		return TA_OK;
	}

	if (f->y.p == NULL)
		return TA_JWK_MALFORMED;
	/*
	 * RFC 7518 §6.2.1.2-3 asks for each coordinate at the full size of the curve. PyJWT before
	 * 2.7 drops leading zero octets (half of all P-521 keys), so a shorter coordinate is padded
	 * back; it is the same number, and a longer one is still refused.
	 */
	pub[0] = 0x04;
	xl = jwk_coordinate(&f->x, pub + 1, c->coord_len);
	yl = jwk_coordinate(&f->y, pub + 1 + c->coord_len, c->coord_len);
	if (xl != (long) c->coord_len || yl != (long) c->coord_len)
		return TA_JWK_BAD_KEY;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
												 (char *) c->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub,
												  1 + 2 * c->coord_len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
		EVP_PKEY_fromdata_init(ctx) != 1)
	{
		st = TA_ERR_CRYPTO;
		goto out;
	}
	/* Importing the point checks that it lies on the curve. */
	if (EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
	{
		st = TA_JWK_BAD_KEY;
		goto out;
	}
	EVP_PKEY_CTX_free(ctx);
	/* And the full public-key check refuses the point at infinity and points of wrong order. */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL)) == NULL)
	{
		st = TA_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1)
	{
		st = TA_JWK_BAD_KEY;
		goto out;
	}
	key->allowed = TA_ASYM_BIT(c->alg);
	st = TA_OK;

out:
	EVP_PKEY_CTX_free(ctx);
	return st;
}

/* Check and build a key; the status says whether it is usable. */
static ta_status
jwk_load_into(const ta_jwk_fields *f, ta_jwk *key)
{
	ta_status	st;

	if (f->malformed || f->kty.p == NULL)
		return TA_JWK_MALFORMED;
	if (member_is(&f->kty, "RSA"))
		key->kty = TA_JWK_KTY_RSA;
	else if (member_is(&f->kty, "EC"))
		key->kty = TA_JWK_KTY_EC;
	else if (member_is(&f->kty, "OKP"))
		key->kty = TA_JWK_KTY_OKP;
	else
		return TA_JWK_KTY_UNSUPPORTED;

	/* A verification key must not carry a secret: refuse rather than hold it (RFC 7517 §9.2). */
	if (f->has_private)
		return TA_JWK_PRIVATE;
	/* RFC 7517 §4.2-4.3: "use" other than "sig", or "key_ops" without "verify". */
	if ((f->use.p != NULL && !member_is(&f->use, "sig")) || f->key_ops == TA_JWK_OPS_OTHER)
		return TA_JWK_NOT_FOR_SIGNATURES;

	st = key->kty == TA_JWK_KTY_RSA ? jwk_load_rsa(f, key) : jwk_load_curve(f, key);
	if (st != TA_OK)
		return st;

	/* RFC 7517 §4.4: an "alg" member pins the key to that one algorithm. */
	if (f->alg.p != NULL)
	{
		ta_asym_alg alg;

		if (ta_asym_alg_from_name(f->alg.p, f->alg.len, &alg) != TA_OK ||
			!(key->allowed & TA_ASYM_BIT(alg)))
			return TA_JWK_ALG_MISMATCH;
		key->allowed = TA_ASYM_BIT(alg);
	}
	return TA_OK;
}

/* Load one JWK. */
ta_status
ta_jwk_load(const ta_jwk_fields *f, ta_jwk **out)
{
	ta_jwk	   *key = ta_calloc(1, sizeof(ta_jwk));

	*out = NULL;
	if (key == NULL)
		return TA_ERR_NOMEM;
	if (f->kid.p != NULL && !f->malformed)
	{
		key->kid = ta_malloc(f->kid.len + 1);
		if (key->kid == NULL)
		{
			ta_free(key);
			return TA_ERR_NOMEM;
		}
		memcpy(key->kid, f->kid.p, f->kid.len);
		key->kid[f->kid.len] = '\0';
		key->kid_len = f->kid.len;
	}
	key->status = jwk_load_into(f, key);
	if (key->status == TA_ERR_NOMEM)
	{
		ta_jwk_free(key);
		return TA_ERR_NOMEM;
	}
	if (key->status != TA_OK)
	{
		EVP_PKEY_free(key->pkey);
		key->pkey = NULL;
		key->allowed = 0;
	}
	/* Leave nothing from a refused key in OpenSSL's per-thread error queue. */
	ERR_clear_error();
	*out = key;
	return key->status;
}

/* Free a key. */
void
ta_jwk_free(ta_jwk *key)
{
	if (key == NULL)
		return;
	for (int i = 0; i < TA_ASYM_ALG_COUNT; i++)
		ta_asym_verifier_free(key->verifiers[i]);
	EVP_PKEY_free(key->pkey);
	ta_free(key->kid);
	ta_free(key);
}

/* Whether a usable key may verify alg. */
int
ta_jwk_allows(const ta_jwk *key, ta_asym_alg alg)
{
	return key != NULL && key->status == TA_OK && (int) alg >= 0 && alg < TA_ASYM_ALG_COUNT &&
		(key->allowed & TA_ASYM_BIT(alg)) != 0;
}

/* Verify a JWS signature with a key set. */
ta_status
ta_jwk_set_verify(ta_jwk *const *keys, size_t nkeys, int is_set,
				  const char *kid, size_t kid_len, ta_asym_alg alg,
				  const uint8_t *input, size_t input_len,
				  const uint8_t *sig, size_t sig_len)
{
	int			candidates = 0;
	int			mismatch = 0;
	int			not_allowed = 0;
	ta_status	unusable = TA_OK;

	if (nkeys == 0)
		return TA_JWT_NO_KEY;
	for (size_t i = 0; i < nkeys; i++)
	{
		ta_jwk	   *k = keys[i];
		ta_status	st;

		if (k == NULL)
			continue;
		if (kid != NULL)
		{
			int			same = k->kid != NULL && k->kid_len == kid_len &&
				memcmp(k->kid, kid, kid_len) == 0;

			if (!same && !(k->kid == NULL && !is_set))
				continue;
		}
		candidates++;
		if (k->status != TA_OK)
		{
			if (unusable == TA_OK)
				unusable = k->status;
			continue;
		}
		if (!ta_jwk_allows(k, alg))
		{
			not_allowed = 1;
			continue;
		}
		if (k->verifiers[alg] == NULL)
		{
			st = ta_asym_verifier_new(k->pkey, alg, &k->verifiers[alg]);
			if (st != TA_OK)
				return st;
		}
		st = ta_asym_verifier_verify(k->verifiers[alg], input, input_len, sig, sig_len);
		if (st == TA_OK)
			return TA_OK;
		if (st != TA_JWT_SIGNATURE_MISMATCH)
			return st;
		mismatch = 1;
	}
	if (candidates == 0)
		return TA_JWT_KID_UNKNOWN;
	if (mismatch)
		return TA_JWT_SIGNATURE_MISMATCH;
	if (not_allowed)
		return TA_JWT_ALG_NOT_ALLOWED;
	return unusable;
}

/* Append a NUL-terminated string to out; 0 if it does not fit. */
static int
out_append(char *out, size_t cap, size_t *pos, const char *s)
{
	size_t		n = strlen(s);

	if (*pos + n + 1 > cap)
		return 0;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 1;
}

/* Append "name":"<base64url of bytes>" (with a leading comma) to out; 0 if it does not fit. */
static int
out_member_b64(char *out, size_t cap, size_t *pos, const char *name,
			   const uint8_t *bytes, size_t len)
{
	long		n;

	if (!out_append(out, cap, pos, ",\"") || !out_append(out, cap, pos, name) ||
		!out_append(out, cap, pos, "\":\""))
		return 0;
	n = b64url_encode(bytes, len, out + *pos, cap - *pos);
	if (n < 0)
		return 0;
	*pos += (size_t) n;
	return out_append(out, cap, pos, "\"");
}

/* Append a BIGNUM member, left-padded with zeros to pad octets (0: minimal length). */
static int
out_member_bn(char *out, size_t cap, size_t *pos, const char *name, const BIGNUM *bn, int pad)
{
	uint8_t		buf[JWK_MEMBER_MAX];
	int			len = pad > 0 ? pad : BN_num_bytes(bn);

	if (len <= 0 || len > (int) sizeof(buf) || BN_bn2binpad(bn, buf, len) != len)
		return 0;
	return out_member_b64(out, cap, pos, name, buf, (size_t) len);
}

/* Write the JWK of a public key; the status tells why a key has no JWK. */
static ta_status
jwk_write(EVP_PKEY *pkey, char *out, size_t cap, size_t *out_len)
{
	size_t		pos = 0;
	BIGNUM	   *a = NULL,
			   *b = NULL;
	ta_status	st = TA_ERR_BUFFER;

	switch (EVP_PKEY_get_base_id(pkey))
	{
		case EVP_PKEY_RSA:
			{
				int			bits = EVP_PKEY_get_bits(pkey);

				if (bits < TA_JWK_RSA_MIN_BITS)
					return TA_JWK_RSA_TOO_SMALL;
				if (bits > TA_JWK_RSA_MAX_BITS)
					return TA_JWK_RSA_TOO_LARGE;
				if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) ||
					!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b))
				{
					st = TA_ERR_CRYPTO;
					break;
				}
				if (out_append(out, cap, &pos, "{\"kty\":\"RSA\"") &&
					out_member_bn(out, cap, &pos, "n", a, 0) &&
					out_member_bn(out, cap, &pos, "e", b, 0) &&
					out_append(out, cap, &pos, "}"))
					st = TA_OK;
				break;
			}
		case EVP_PKEY_EC:
			{
				char		group[64];
				const jwk_curve *c = NULL;

				if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
													group, sizeof(group), NULL))
					return TA_JWK_PEM_INVALID;
				for (size_t i = 0; i < NCURVES; i++)
					if (curves[i].group != NULL && strcmp(curves[i].group, group) == 0)
						c = &curves[i];
				if (c == NULL)
					return TA_JWK_CRV_UNSUPPORTED;
				if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
					!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b))
				{
					st = TA_ERR_CRYPTO;
					break;
				}
				if (out_append(out, cap, &pos, "{\"kty\":\"EC\",\"crv\":\"") &&
					out_append(out, cap, &pos, c->crv) &&
					out_append(out, cap, &pos, "\"") &&
					out_member_bn(out, cap, &pos, "x", a, (int) c->coord_len) &&
					out_member_bn(out, cap, &pos, "y", b, (int) c->coord_len) &&
					out_append(out, cap, &pos, "}"))
					st = TA_OK;
				break;
			}
		case EVP_PKEY_ED25519:
			{
				uint8_t		raw[32];
				size_t		rawlen = sizeof(raw);

				if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != 32)
					return TA_ERR_CRYPTO;
				if (out_append(out, cap, &pos, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"") &&
					out_member_b64(out, cap, &pos, "x", raw, rawlen) &&
					out_append(out, cap, &pos, "}"))
					st = TA_OK;
				break;
			}
		default:
			return TA_JWK_KTY_UNSUPPORTED;
	}
	BN_free(a);
	BN_free(b);
	if (st == TA_OK)
		*out_len = pos;
	return st;
}

/* Convert a PEM public key to the JSON text of its JWK. */
ta_status
ta_jwk_from_pem(const char *pem, size_t pem_len, char *out, size_t cap, size_t *out_len)
{
	static const char *const private_markers[] = {
		"PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY-----"
	};
	const unsigned char *data = (const unsigned char *) pem;
	size_t		len = pem_len;
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY   *pkey = NULL;
	ta_status	st;

	*out_len = 0;
	if (pem_len == 0 || pem_len > TA_JWK_PEM_MAX)
		return TA_JWK_PEM_INVALID;
	/* Never parse secret material handed over by mistake: it has no business in a JWK. */
	for (size_t i = 0; i < sizeof(private_markers) / sizeof(private_markers[0]); i++)
	{
		size_t		ml = strlen(private_markers[i]);

		for (size_t j = 0; j + ml <= pem_len; j++)
			if (memcmp(pem + j, private_markers[i], ml) == 0)
				return TA_JWK_PEM_PRIVATE;
	}
	/* Only public-key structures, only PEM: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY,
										 NULL, NULL);
	if (dctx == NULL)
		return TA_ERR_CRYPTO;
	if (OSSL_DECODER_from_data(dctx, &data, &len) != 1 || pkey == NULL)
		st = TA_JWK_PEM_INVALID;
	else
		st = jwk_write(pkey, out, cap, out_len);
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return st;
}

/* Whether c is a byte of the text between tokens: ASCII white space. */
static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Whether s[0..len) contains needle. */
static bool
contains(const char *s, size_t len, const char *needle)
{
	size_t		n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (s[i] == needle[0] && memcmp(s + i, needle, n) == 0)
			return true;
	return false;
}

/* Whether DER bytes are exactly one public key: SPKI, PKCS#1 RSA, or an X.509 certificate. */
static bool
der_is_public_key(const unsigned char *der, long len)
{
	const unsigned char *p;
	EVP_PKEY   *k;
	X509	   *x;
	bool		found = false;

	p = der;
	if ((k = d2i_PUBKEY(NULL, &p, len)) != NULL)
	{
		found = p == der + len;
		EVP_PKEY_free(k);
	}
	p = der;
	if (!found && (k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len)) != NULL)
	{
		found = p == der + len;
		EVP_PKEY_free(k);
	}
	p = der;
	if (!found && (x = d2i_X509(NULL, &p, len)) != NULL)
	{
		found = p == der + len;
		X509_free(x);
	}
	ERR_clear_error();
	return found;
}

/*
 * Whether text is the base64 (RFC 4648 §4) or base64url (§5) of a DER public key, white space
 * allowed anywhere as in a PEM body without its armour. Every DER public key starts with a
 * SEQUENCE tag (0x30), whose base64 starts with 'M': other text costs one comparison.
 */
static bool
b64_is_public_key(const char *s, size_t len)
{
	char	   *clean;
	unsigned char *der;
	size_t		n = 0;
	int			dlen;
	bool		found = false;

	if (len == 0 || s[0] != 'M' || len > (size_t) 64 * 1024)
		return false;
	clean = ta_malloc(len + 4);
	der = ta_malloc(len + 4);
	if (clean == NULL || der == NULL)
		goto out;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_blank(c))
			continue;
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				   c == '+' || c == '/' || c == '='))
			goto out;
		clean[n++] = (char) c;
	}
	while (n % 4 != 0)
		clean[n++] = '=';
	dlen = EVP_DecodeBlock(der, (const unsigned char *) clean, (int) n);
	if (dlen > 0)
	{
		/* EVP_DecodeBlock counts padding bytes as data: drop them */
		for (size_t i = n; i > 0 && clean[i - 1] == '='; i--)
			dlen--;
		found = dlen > 0 && der_is_public_key(der, dlen);
	}
out:
	ta_free(clean);
	ta_free(der);
	return found;
}

/* Whether a validated JSON object has a member named kty or keys (after unescaping). */
static bool
json_object_is_jwk(ta_json_span obj)
{
	ta_json_iter it;
	ta_json_span key,
				val;
	ta_json_type type;

	ta_json_iter_init(&it, obj);
	while (ta_json_iter_member(&it, &key, &type, &val))
		if (ta_json_string_eq(key, "kty", 3) || ta_json_string_eq(key, "keys", 4))
			return true;
	return false;
}

/* Whether JSON text is a JWK, a JWK Set, or an array holding a JWK. */
static bool
json_is_jwk(const char *s, size_t len)
{
	ta_json_type top;
	ta_json_iter it;
	ta_json_span val;
	ta_json_type type;

	if (!ta_utf8_valid((const uint8_t *) s, len) || ta_json_validate(s, len, &top) != TA_OK)
		/* not JSON after all: the old rule, a kty member name anywhere */
		return contains(s, len, "\"kty\"");
	if (top == TA_JSON_OBJECT)
		return json_object_is_jwk(ta_json_object_span(s, len));
	if (top != TA_JSON_ARRAY)
		return false;
	while (len > 0 && is_blank((unsigned char) s[len - 1]))
		len--;
	while (len > 0 && is_blank((unsigned char) *s))
		s++, len--;
	ta_json_iter_init(&it, (ta_json_span) {s, len});
	while (ta_json_iter_element(&it, &type, &val))
		if (type == TA_JSON_OBJECT && json_object_is_jwk(val))
			return true;
	return false;
}

/*
 * Whether a would-be HMAC secret is the text of a public key, which everyone knows: PEM armour
 * (any label, anywhere), a JWK or JWK Set (JSON parsed, so escaped member names count), an
 * OpenSSH public key (by its type name or its key blob), or the bare base64 or base64url of a
 * DER public key or certificate. Byte order marks and white space around it are ignored.
 */
bool
ta_jwk_text_is_public_key(const char *s, size_t len)
{
	/* the base64 of the length-prefixed key type that starts every OpenSSH public key blob */
	static const char *const ssh_blobs[] = {
		"AAAAC3NzaC1lZDI1NTE5",		/* ssh-ed25519 */
		"AAAAB3NzaC1yc2E",		/* ssh-rsa */
		"AAAAB3NzaC1kc3M",		/* ssh-dss */
		"AAAAE2VjZHNhLXNoYTItbmlzdHA",	/* ecdsa-sha2-nistp* */
		"AAAAGnNrLXNzaC1lZDI1NTE5",	/* sk-ssh-ed25519@openssh.com */
		"AAAAInNrLWVjZHNhLXNoYTItbmlzdHA",	/* sk-ecdsa-sha2-nistp256@openssh.com */
	};
	static const char *const ssh_types[] = {
		"ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
	};

	/* strip byte order marks (EF BB BF) and white space at both ends */
	for (;;)
	{
		if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3, len -= 3;
		else if (len > 0 && is_blank((unsigned char) *s))
			s++, len--;
		else
			break;
	}
	while (len > 0 && is_blank((unsigned char) s[len - 1]))
		len--;
	if (len == 0)
		return false;

	if (contains(s, len, "-----BEGIN "))
		return true;
	for (size_t i = 0; i < sizeof(ssh_blobs) / sizeof(ssh_blobs[0]); i++)
		if (contains(s, len, ssh_blobs[i]))
			return true;
	for (size_t i = 0; i < sizeof(ssh_types) / sizeof(ssh_types[0]); i++)
	{
		size_t		n = strlen(ssh_types[i]);

		/* "ssh-ed25519 AAAA... comment": the key type, a blank, the key */
		if (len > n && memcmp(s, ssh_types[i], n) == 0 && is_blank((unsigned char) s[n]))
			return true;
	}
	if (s[0] == '{' || s[0] == '[')
		return json_is_jwk(s, len);
	return b64_is_public_key(s, len);
}
