/*
 * jws_asym.h: verification of public-key signed JWTs (RFC 7515 compact form, RFC 7518 §3.3-3.5,
 * RFC 8037), composed from the HMAC token core (jws.h: splitting, payload decoding, claim checks)
 * and the key code (jwk.h). Postgres-free.
 *
 * The order is the same as for HMAC tokens: structure, header, signature, payload, claims; the
 * claims are never looked at before a signature matched.
 */
#ifndef TASKAUTH_JWS_ASYM_H
#define TASKAUTH_JWS_ASYM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/asym.h"
#include "core/b64url.h"
#include "core/jwk.h"
#include "core/jws.h"

/* Largest signature accepted: an RSA signature with the largest accepted modulus. */
#define TA_JWS_ASYM_MAX_SIG (TA_JWK_RSA_MAX_BITS / 8)

/* What a public-key token's protected header says. */
typedef struct ta_jws_asym_header
{
	ta_asym_alg alg;
	bool		has_kid;
	const char *kid;			/* unescaped, in the caller's buffer; not NUL-terminated */
	size_t		kid_len;
} ta_jws_asym_header;

/* Buffer capacity ta_jws_asym_parse_header needs for a header segment of seg_len characters. */
#define TA_JWS_ASYM_HEADER_CAP(seg_len) (2 * TA_B64URL_DECODED_MAX(seg_len) + 1)

/*
 * Decode and check the protected header (RFC 7515 §4.1) into buf (capacity at least
 * TA_JWS_ASYM_HEADER_CAP(parts->header_len)): UTF-8 JSON object, "alg" one of the public-key
 * algorithms (HS256/384/512 give TA_JWT_ALG_NOT_ALLOWED, "none" TA_JWT_ALG_NONE), no "crit",
 * "kid" a string when present.
 */
extern ta_status ta_jws_asym_parse_header(const ta_jws_parts *parts, char *buf, size_t cap,
										  ta_jws_asym_header *hdr);

/*
 * Check the signature segment with a key set (see ta_jwk_set_verify for selection by kid and
 * algorithm).
 */
extern ta_status ta_jws_asym_check_signature(const ta_jws_parts *parts,
											 const ta_jws_asym_header *hdr,
											 ta_jwk *const *keys, size_t nkeys, int is_set);

/*
 * Verify a whole token with a key set: structure, header, signature, payload, claims. On success
 * the NUL-terminated payload JSON is in payload, whose capacity must hold the decoded header
 * (TA_JWS_ASYM_HEADER_CAP) and the payload; 2 * len + 8 always suffices.
 */
extern ta_status ta_jws_asym_verify(const char *token, size_t len,
									ta_jwk *const *keys, size_t nkeys, int is_set,
									const ta_jws_claim_opts *opts,
									char *payload, size_t cap, size_t *payload_len);

/*
 * The same for a token the caller has split, whose header it has parsed with
 * ta_jws_asym_parse_header and whose payload it has decoded with ta_jws_decode_payload (for
 * reading its iss, say): checks the signature over the token's own bytes, then the claims of
 * that payload. Saves decoding both twice.
 */
extern ta_status ta_jws_asym_verify_decoded(const ta_jws_parts *parts,
											const ta_jws_asym_header *hdr,
											ta_jwk *const *keys, size_t nkeys, int is_set,
											const ta_jws_claim_opts *opts, const char *payload,
											size_t payload_len);

#endif
