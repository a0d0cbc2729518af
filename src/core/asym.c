/*
 * asym.c: public-key JWS signature verification through OpenSSL's EVP interfaces.
 */
#include "core/asym.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

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

/* Verify sig over input with pkey under alg. */
ta_status
ta_asym_verify(EVP_PKEY *pkey, ta_asym_alg alg,
			   const uint8_t *input, size_t input_len,
			   const uint8_t *sig, size_t sig_len)
{
	const ta_asym_info *info;
	const EVP_MD *md = NULL;
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t		der[160];		/* DER of a P-521 signature is at most 139 bytes */
	const uint8_t *vsig = sig;
	size_t		vsig_len = sig_len;
	int			base;
	int			rc;
	ta_status	st;

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
			/* RFC 8017 §8.1.2/§8.2.2 step 1: the signature is exactly k octets long. */
			if (sig_len != (size_t) EVP_PKEY_get_size(pkey))
				return TA_JWT_SIGNATURE_MISMATCH;
			break;
		case ASYM_EC:
			{
				int			n;
				size_t		coord = ((size_t) info->ec_bits + 7) / 8;

				if (base != EVP_PKEY_EC || EVP_PKEY_get_bits(pkey) != info->ec_bits)
					return TA_JWT_ALG_NOT_ALLOWED;
				n = asym_ecdsa_raw_to_der(sig, sig_len, coord, der, sizeof(der));
				if (n == 0)
					return TA_JWT_SIGNATURE_MISMATCH;
				if (n < 0)
					return TA_ERR_CRYPTO;
				vsig = der;
				vsig_len = (size_t) n;
				break;
			}
		case ASYM_ED:
			if (base != EVP_PKEY_ED25519)
				return TA_JWT_ALG_NOT_ALLOWED;
			/* RFC 8032 §5.1.7: an Ed25519 signature is 64 octets. */
			if (sig_len != 64)
				return TA_JWT_SIGNATURE_MISMATCH;
			break;
	}

	if (info->md != MD_NONE && (md = asym_md(info->md)) == NULL)
		return TA_ERR_CRYPTO;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL)
		return TA_ERR_NOMEM;
	if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1)
	{
		st = TA_ERR_CRYPTO;
		goto out;
	}
	if (info->kind == ASYM_PSS)
	{
		/* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output. */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
			EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
		{
			st = TA_ERR_CRYPTO;
			goto out;
		}
	}
	else if (info->kind == ASYM_RSA)
	{
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		{
			st = TA_ERR_CRYPTO;
			goto out;
		}
	}
	rc = EVP_DigestVerify(mctx, vsig, vsig_len, input, input_len);
	/* 0 is a bad signature, a negative value a malformed one: both are a mismatch. */
	st = rc == 1 ? TA_OK : TA_JWT_SIGNATURE_MISMATCH;

out:
	EVP_MD_CTX_free(mctx);
	/* Leave nothing from a failed verification in OpenSSL's per-thread error queue. */
	ERR_clear_error();
	return st;
}
