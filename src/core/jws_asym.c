/*
 * jws_asym.c: verification of public-key signed JWTs, composed from jws.c and jwk.c.
 */
#include "core/jws_asym.h"

#include <string.h>

#include "core/b64url.h"
#include "core/json.h"
#include "core/jws.h"

/* Map a public-key algorithm name (ta_jws_alg_mapper). */
static ta_status
asym_alg(const char *name, size_t n, void *out)
{
	return ta_asym_alg_from_name(name, n, (ta_asym_alg *) out);
}

/* Decode and check the protected header of a public-key token. */
ta_status
ta_jws_asym_parse_header(const ta_jws_parts *parts, char *buf, size_t cap,
						 ta_jws_asym_header *hdr)
{
	size_t		half = TA_B64URL_DECODED_MAX(parts->header_len);
	size_t		len;
	ta_json_span kid;
	ta_status	st;

	if (cap < TA_JWS_ASYM_HEADER_CAP(parts->header_len))
		return TA_ERR_BUFFER;
	st = ta_jws_check_header(parts, buf, half, &len, asym_alg, &hdr->alg, &hdr->has_kid, &kid);
	if (st != TA_OK)
		return st;
	/* The kid is unescaped after the header text, for matching against key ids. */
	hdr->kid = NULL;
	hdr->kid_len = 0;
	if (hdr->has_kid)
	{
		st = ta_json_string_unescape(kid, buf + half, cap - half, &hdr->kid_len);
		if (st != TA_OK)
			return st;
		hdr->kid = buf + half;
	}
	return TA_OK;
}

/* Check the signature segment with a key set. */
ta_status
ta_jws_asym_check_signature(const ta_jws_parts *parts, const ta_jws_asym_header *hdr,
							ta_jwk *const *keys, size_t nkeys, int is_set)
{
	uint8_t		sig[TA_JWS_ASYM_MAX_SIG];
	size_t		sig_len;
	ta_status	st;

	/* Longer than the largest accepted signature: no key can match it. */
	if (parts->signature_len > TA_B64URL_ENCODED_LEN(sizeof(sig)))
		return TA_JWT_SIGNATURE_MISMATCH;
	st = ta_b64url_decode(parts->signature, parts->signature_len, sig, sizeof(sig), &sig_len);
	if (st != TA_OK)
		return st;
	return ta_jwk_set_verify(keys, nkeys, is_set,
							 hdr->has_kid ? hdr->kid : NULL, hdr->kid_len, hdr->alg,
							 (const uint8_t *) parts->header, parts->signing_input_len,
							 sig, sig_len);
}

/* Verify a whole token with a key set. */
ta_status
ta_jws_asym_verify(const char *token, size_t len, ta_jwk *const *keys, size_t nkeys, int is_set,
				   const ta_jws_claim_opts *opts, char *payload, size_t cap, size_t *payload_len)
{
	ta_jws_parts parts;
	ta_jws_asym_header hdr;
	ta_status	st;

	st = ta_jws_split(token, len, &parts);
	if (st != TA_OK)
		return st;
	/* The header goes into the payload buffer first; it is not needed after the signature. */
	st = ta_jws_asym_parse_header(&parts, payload, cap, &hdr);
	if (st != TA_OK)
		return st;
	st = ta_jws_asym_check_signature(&parts, &hdr, keys, nkeys, is_set);
	if (st != TA_OK)
		return st;
	st = ta_jws_decode_payload(&parts, payload, cap, payload_len);
	if (st != TA_OK)
		return st;
	return ta_jws_check_claims(payload, *payload_len, opts);
}

/* Verify a token whose header and payload the caller has decoded already. */
ta_status
ta_jws_asym_verify_decoded(const ta_jws_parts *parts, const ta_jws_asym_header *hdr,
						   ta_jwk *const *keys, size_t nkeys, int is_set,
						   const ta_jws_claim_opts *opts, const char *payload,
						   size_t payload_len)
{
	ta_status	st = ta_jws_asym_check_signature(parts, hdr, keys, nkeys, is_set);

	if (st != TA_OK)
		return st;
	return ta_jws_check_claims(payload, payload_len, opts);
}
