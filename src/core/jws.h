/*
 * jws.h: JWS compact serialization (RFC 7515 §7.1) with HMAC algorithms (RFC 7518 §3.2) and the
 * JWT claim checks of RFC 7519 §4.1. Postgres-free: pointer + length in, caller buffers out.
 *
 * Verification runs in a fixed order: structure (ta_jws_split), header (ta_jws_parse_header),
 * signature (ta_jws_check_signature), payload (ta_jws_decode_payload), claims
 * (ta_jws_check_claims). ta_jws_verify does all of it in one call.
 */
#ifndef TASKAUTH_JWS_H
#define TASKAUTH_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "core/ta_status.h"

/* Largest token accepted, in bytes: far above any real token, small enough to bound work. */
#define TA_JWS_MAX_TOKEN_LEN (1024 * 1024)

/* Largest MAC output (HMAC-SHA-512). */
#define TA_JWS_MAX_MAC_LEN 64

typedef enum ta_jws_alg
{
	TA_JWS_ALG_INVALID = 0,
	TA_JWS_HS256,
	TA_JWS_HS384,
	TA_JWS_HS512
} ta_jws_alg;

/* The three segments of a compact JWS, pointing into the token. */
typedef struct ta_jws_parts
{
	const char *header;
	size_t		header_len;
	const char *payload;
	size_t		payload_len;
	const char *signature;
	size_t		signature_len;
	size_t		signing_input_len;	/* header '.' payload, starting at header */
} ta_jws_parts;

/* What the protected header says; kid points into the caller's decoded-header buffer. */
typedef struct ta_jws_header
{
	ta_jws_alg	alg;
	bool		has_kid;
	ta_json_span kid;			/* the JSON string, quotes included; see ta_json_string_* */
	bool		at_jwt;			/* "typ" names an OAuth access token: "at+jwt" (RFC 9068 §2.1) */
} ta_jws_header;

/*
 * The largest NumericDate magnitude accepted: 9999-12-31T23:59:59Z, the last second a four-digit
 * year can name (lower bound: its negation). A double holds every integer up to 2^53 exactly.
 */
#define TA_JWS_NUMERIC_DATE_MAX 253402300799.0

/* The NumericDate claims of a payload (RFC 7519 §2, §4.1.4-4.1.6), as the checks read them. */
typedef struct ta_jws_times
{
	bool		has_exp;
	bool		has_nbf;
	bool		has_iat;
	double		exp;
	double		nbf;
	double		iat;
} ta_jws_times;

/*
 * Claim checks; a NULL audience or issuer skips that check. When times_out is not NULL, a
 * successful check also stores the time claims there, so that they can be checked again later
 * (ta_jws_check_times) without the payload.
 */
typedef struct ta_jws_claim_opts
{
	double		now;			/* seconds since the Unix epoch */
	double		leeway;			/* seconds of allowed clock skew */
	const char *audience;
	size_t		audience_len;
	const char *issuer;
	size_t		issuer_len;
	ta_jws_times *times_out;
} ta_jws_claim_opts;

/* A keyed HMAC context that can be reused for many messages. */
typedef struct ta_hmac ta_hmac;

extern ta_jws_alg ta_jws_alg_from_name(const char *name, size_t len);
extern const char *ta_jws_alg_name(ta_jws_alg alg);
extern size_t ta_jws_mac_len(ta_jws_alg alg);

extern ta_status ta_hmac_new(ta_jws_alg alg, const uint8_t *key, size_t keylen, ta_hmac **out);
extern ta_status ta_hmac_compute(ta_hmac *h, const uint8_t *data, size_t len,
								 uint8_t *mac, size_t cap, size_t *maclen);
extern void ta_hmac_free(ta_hmac *h);
extern ta_status ta_hmac_oneshot(ta_jws_alg alg, const uint8_t *key, size_t keylen,
								 const uint8_t *data, size_t len,
								 uint8_t *mac, size_t cap, size_t *maclen);

extern ta_status ta_jws_split(const char *token, size_t len, ta_jws_parts *parts);
/* Maps an unescaped "alg" name to a caller's algorithm (written to out), or refuses it. */
typedef ta_status (*ta_jws_alg_mapper) (const char *name, size_t len, void *out);

extern ta_status ta_jws_check_header(const ta_jws_parts *parts, char *buf, size_t cap,
									 size_t *len, ta_jws_alg_mapper map_alg, void *alg_out,
									 bool *has_kid, ta_json_span *kid);
extern ta_status ta_jws_parse_header(const ta_jws_parts *parts, char *buf, size_t cap,
									 ta_jws_header *hdr);
extern ta_status ta_jws_check_signature(const ta_jws_parts *parts, ta_jws_alg alg, ta_hmac *h);
extern ta_status ta_jws_decode_payload(const ta_jws_parts *parts, char *buf, size_t cap,
									   size_t *len);
extern ta_status ta_jws_decode_payload_members(const ta_jws_parts *parts, char *buf, size_t cap,
											   size_t *len, ta_json_member *members,
											   size_t mcap, size_t *count);
extern ta_status ta_jws_check_claims(const char *payload, size_t len,
									 const ta_jws_claim_opts *opts);
extern ta_status ta_jws_check_times(const ta_jws_times *times, double now, double leeway);
extern ta_status ta_jws_check_claims_members(const ta_json_member *members, size_t count,
											 const ta_jws_claim_opts *opts);
extern ta_status ta_jws_verify(const char *token, size_t len,
							   const uint8_t *key, size_t keylen,
							   const ta_jws_claim_opts *opts,
							   char *payload, size_t cap, size_t *payload_len);

extern ta_status ta_jws_sign(ta_jws_alg alg, ta_hmac *h,
							 const char *header_json, size_t header_len,
							 const char *payload_json, size_t payload_len,
							 char *out, size_t cap, size_t *outlen);
extern size_t ta_jws_signed_len(ta_jws_alg alg, size_t header_len, size_t payload_len);

#endif
