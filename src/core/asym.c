/*
 * asym.c: public-key JWS signature verification: RSA and ECDSA through OpenSSL's EVP interfaces,
 * Ed25519 through libsodium (see ta_asym_verifier_verify for why).
 */
#include "core/asym.h"
#include "core/ta_alloc.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

typedef struct ta_asym_info
{
	const char *name;
	int			kind;			/* ASYM_RSA, ASYM_PSS, ASYM_EC, ASYM_ED */
	int			md;				/* index into mds[] */
	int			ec_bits;		/* ECDSA: the curve the algorithm names (RFC 7518 §3.4) */
} ta_asym_info;

enum
{
	ASYM_RSA, ASYM_PSS, ASYM_EC, ASYM_ED
};

enum
{
	MD_NONE = -1, MD_SHA256 = 0, MD_SHA384, MD_SHA512, MD_COUNT
};

static const ta_asym_info infos[TA_ASYM_ALG_COUNT] = {
	[TA_ASYM_RS256] = {"RS256", ASYM_RSA, MD_SHA256, 0},
	[TA_ASYM_RS384] = {"RS384", ASYM_RSA, MD_SHA384, 0},
	[TA_ASYM_RS512] = {"RS512", ASYM_RSA, MD_SHA512, 0},
	[TA_ASYM_PS256] = {"PS256", ASYM_PSS, MD_SHA256, 0},
	[TA_ASYM_PS384] = {"PS384", ASYM_PSS, MD_SHA384, 0},
	[TA_ASYM_PS512] = {"PS512", ASYM_PSS, MD_SHA512, 0},
	[TA_ASYM_ES256] = {"ES256", ASYM_EC, MD_SHA256, 256},
	[TA_ASYM_ES384] = {"ES384", ASYM_EC, MD_SHA384, 384},
	[TA_ASYM_ES512] = {"ES512", ASYM_EC, MD_SHA512, 521},
	[TA_ASYM_EDDSA] = {"EdDSA", ASYM_ED, MD_NONE, 0},
};

static const char *const md_names[MD_COUNT] = {"SHA256", "SHA384", "SHA512"};

/*
 * Digests fetched once per process: OpenSSL 3 resolves a digest by name on every use of the
 * legacy EVP_sha256() handles, which shows up in per-token cost.
 */
static EVP_MD *mds[MD_COUNT];

/* The fetched digest for an index, fetching it on first use; NULL on failure. */
static const EVP_MD *
asym_md(int md)
{
	if (mds[md] == NULL)
		mds[md] = EVP_MD_fetch(NULL, md_names[md], NULL);
	return mds[md];
}

/* Map a JWS "alg" header value to an algorithm. */
ta_status
ta_asym_alg_from_name(const char *name, size_t len, ta_asym_alg *out)
{
	static const char none[] = "none";

	for (int i = 0; i < TA_ASYM_ALG_COUNT; i++)
	{
		if (strlen(infos[i].name) == len && memcmp(infos[i].name, name, len) == 0)
		{
			*out = (ta_asym_alg) i;
			return TA_OK;
		}
	}
	/* RFC 9864 §2.2: the fully-specified name for EdDSA over Ed25519. */
	if (len == 7 && memcmp(name, "Ed25519", 7) == 0)
	{
		*out = TA_ASYM_EDDSA;
		return TA_OK;
	}
	if (len == sizeof(none) - 1)
	{
		size_t		i;

		for (i = 0; i < len; i++)
			if ((name[i] | 0x20) != none[i])
				break;
		if (i == len)
			return TA_JWT_ALG_NONE;
	}
	if (len == 5 && (memcmp(name, "HS256", 5) == 0 || memcmp(name, "HS384", 5) == 0 ||
					 memcmp(name, "HS512", 5) == 0))
		return TA_JWT_ALG_NOT_ALLOWED;
	return TA_JWT_ALG_UNSUPPORTED;
}

/* The registered name of an algorithm. */
const char *
ta_asym_alg_name(ta_asym_alg alg)
{
	if ((int) alg < 0 || alg >= TA_ASYM_ALG_COUNT)
		return "?";
	return infos[alg].name;
}

/*
 * Turn a JOSE ECDSA signature (R||S, each exactly the curve's octet length, RFC 7518 §3.4) into
 * the DER ECDSA-Sig-Value OpenSSL verifies. Writes at most cap bytes; returns the DER length,
 * 0 when the signature has the wrong shape, -1 on an OpenSSL failure.
 */
static int
asym_ecdsa_raw_to_der(const uint8_t *sig, size_t sig_len, size_t coord_len,
					  uint8_t *der, size_t cap)
{
	ECDSA_SIG  *es;
	BIGNUM	   *r,
			   *s;
	unsigned char *p = der;
	int			n;

	if (sig_len != 2 * coord_len)
		return 0;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int) coord_len, NULL);
	s = BN_bin2bn(sig + coord_len, (int) coord_len, NULL);
	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
	{
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0 || (size_t) n > cap)
	{
		ECDSA_SIG_free(es);
		return -1;
	}
	n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return n;
}

/* A key made ready to verify one algorithm; see asym.h. */
struct ta_asym_verifier
{
	ta_asym_alg alg;
	int			kind;
	size_t		sig_len;		/* RSA: modulus octets; ECDSA: 2 * coordinate octets; Ed: 64 */
	const EVP_MD *md;			/* NULL for EdDSA */
	EVP_PKEY_CTX *pctx;			/* RSA, ECDSA: verify context over a digest */
	uint8_t		ed_pk[32];		/* EdDSA: the encoded public key (RFC 8032 §5.1.5) */
};

/* Whether sodium_init() has succeeded in this process. */
static int	sodium_ready;

/* Make a verifier for pkey under alg. */
ta_status
ta_asym_verifier_new(EVP_PKEY *pkey, ta_asym_alg alg, ta_asym_verifier **out)
{
	const ta_asym_info *info;
	ta_asym_verifier *v;
	int			base;

	*out = NULL;
	if (pkey == NULL || (int) alg < 0 || alg >= TA_ASYM_ALG_COUNT)
		return TA_JWT_ALG_NOT_ALLOWED;
	info = &infos[alg];
	base = EVP_PKEY_get_base_id(pkey);
	switch (info->kind)
	{
		case ASYM_RSA:
		case ASYM_PSS:
			if (base != EVP_PKEY_RSA)
				return TA_JWT_ALG_NOT_ALLOWED;
			break;
		case ASYM_EC:
			/* RFC 7518 §3.4: each ES algorithm names its curve. */
			if (base != EVP_PKEY_EC || EVP_PKEY_get_bits(pkey) != info->ec_bits)
				return TA_JWT_ALG_NOT_ALLOWED;
			break;
		case ASYM_ED:
			if (base != EVP_PKEY_ED25519)
				return TA_JWT_ALG_NOT_ALLOWED;
			break;
	}

	v = ta_calloc(1, sizeof(*v));
	if (v == NULL)
		return TA_ERR_NOMEM;
	v->alg = alg;
	v->kind = info->kind;
	if (info->md != MD_NONE && (v->md = asym_md(info->md)) == NULL)
		goto crypto;

	if (info->kind == ASYM_ED)
	{
		size_t		pk_len = sizeof(v->ed_pk);

		/* RFC 8032 §5.1.7: an Ed25519 signature is 64 octets. */
		v->sig_len = 64;
		/* sodium_init() may be called again and again; it picks the code for this CPU once. */
		if (!sodium_ready)
		{
			if (sodium_init() < 0)
				goto crypto;
			sodium_ready = 1;
		}
		if (EVP_PKEY_get_raw_public_key(pkey, v->ed_pk, &pk_len) != 1 ||
			pk_len != sizeof(v->ed_pk))
			goto crypto;
	}
	else
	{
		/*
		 * Verify over a digest we compute, with a context set up once: OpenSSL 3 looks the
		 * algorithm up again on every fresh initialisation, which costs more than a P-256
		 * verification's overhead should.
		 */
		if (info->kind == ASYM_EC)
			v->sig_len = 2 * (((size_t) info->ec_bits + 7) / 8);
		else
			v->sig_len = (size_t) EVP_PKEY_get_size(pkey);
		if ((v->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
			EVP_PKEY_verify_init(v->pctx) != 1 ||
			EVP_PKEY_CTX_set_signature_md(v->pctx, v->md) != 1)
			goto crypto;
		if (info->kind == ASYM_PSS)
		{
			/* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output. */
			if (EVP_PKEY_CTX_set_rsa_padding(v->pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
				EVP_PKEY_CTX_set_rsa_pss_saltlen(v->pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
				EVP_PKEY_CTX_set_rsa_mgf1_md(v->pctx, v->md) != 1)
				goto crypto;
		}
		else if (info->kind == ASYM_RSA)
		{
			if (EVP_PKEY_CTX_set_rsa_padding(v->pctx, RSA_PKCS1_PADDING) != 1)
				goto crypto;
		}
	}
	*out = v;
	return TA_OK;

crypto:
	ta_asym_verifier_free(v);
	ERR_clear_error();
	return TA_ERR_CRYPTO;
}

/* Free a verifier (NULL is fine). */
void
ta_asym_verifier_free(ta_asym_verifier *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_CTX_free(v->pctx);
	ta_free(v);
}

/* Verify sig over input with a verifier. */
ta_status
ta_asym_verifier_verify(ta_asym_verifier *v, const uint8_t *input, size_t input_len,
						const uint8_t *sig, size_t sig_len)
{
	uint8_t		digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	uint8_t		der[160];		/* DER of a P-521 signature is at most 139 bytes */
	const uint8_t *vsig = sig;
	size_t		vsig_len = sig_len;
	int			rc;

	/* RFC 8017 §8.1.2/§8.2.2 step 1, RFC 7518 §3.4, RFC 8032 §5.1.7: exact lengths. */
	if (sig_len != v->sig_len)
		return TA_JWT_SIGNATURE_MISMATCH;

	if (v->kind == ASYM_ED)
	{
		/*
		 * libsodium rather than OpenSSL: it verifies in under half the time of OpenSSL 3.0, keeps
		 * no state between signatures (OpenSSL 3.5 left a DigestVerify context that had refused
		 * one signature unable to accept the next good one), and refuses everything OpenSSL
		 * refuses and more. Both refuse S >= L (RFC 8032 §5.1.7 step 1) and compare the encoded
		 * R byte for byte (so a non-canonical R never passes); libsodium also refuses a key or an
		 * R of small order (the eight points of order 1, 2, 4 and 8, under any encoding) and a
		 * key encoded with y >= p, which OpenSSL 3.0 accepts: with the identity as key, R the
		 * identity and S = 0, OpenSSL verifies any message. test/unit/test_ed25519.c holds the
		 * cases; bench/results-asym.md lists them.
		 */
		rc = crypto_sign_verify_detached(sig, input, (unsigned long long) input_len,
										 v->ed_pk) == 0;
	}
	else
	{
		if (v->kind == ASYM_EC)
		{
			int			n = asym_ecdsa_raw_to_der(sig, sig_len, sig_len / 2, der, sizeof(der));

			if (n <= 0)
				return n == 0 ? TA_JWT_SIGNATURE_MISMATCH : TA_ERR_CRYPTO;
			vsig = der;
			vsig_len = (size_t) n;
		}
		if (EVP_Digest(input, input_len, digest, &dlen, v->md, NULL) != 1)
		{
			ERR_clear_error();
			return TA_ERR_CRYPTO;
		}
		rc = EVP_PKEY_verify(v->pctx, vsig, vsig_len, digest, dlen);
	}
	if (rc == 1)
		return TA_OK;
	/* 0 is a bad signature, a negative value a malformed one: both are a mismatch. */
	ERR_clear_error();
	return TA_JWT_SIGNATURE_MISMATCH;
}

/* Verify sig over input with pkey under alg, without keeping a verifier. */
ta_status
ta_asym_verify(EVP_PKEY *pkey, ta_asym_alg alg,
			   const uint8_t *input, size_t input_len,
			   const uint8_t *sig, size_t sig_len)
{
	ta_asym_verifier *v;
	ta_status	st = ta_asym_verifier_new(pkey, alg, &v);

	if (st != TA_OK)
		return st;
	st = ta_asym_verifier_verify(v, input, input_len, sig, sig_len);
	ta_asym_verifier_free(v);
	return st;
}
