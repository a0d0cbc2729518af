/*
 * refresh_token.c: making and opening taskauth's refresh tokens (see refresh_token.h).
 *
 * The MAC is HMAC-SHA256 over the version, session id and generation, compared in constant
 * time. The strict base64url decoder gives each token one spelling, and the length is checked
 * before decoding, so a token cannot be varied while keeping its MAC.
 */
#include "core/refresh_token.h"

#include <string.h>

#include <openssl/crypto.h>

#include "core/b64url.h"
#include "core/jws.h"

/* The bytes the MAC covers. */
static void
body(uint8_t out[TA_REFRESH_BODY_LEN], const uint8_t sid[TA_REFRESH_SID_LEN], int64_t generation)
{
	uint64_t	g = (uint64_t) generation;
	int			i;

	out[0] = TA_REFRESH_TOKEN_VERSION;
	memcpy(out + 1, sid, TA_REFRESH_SID_LEN);
	for (i = 0; i < 8; i++)
		out[1 + TA_REFRESH_SID_LEN + i] = (uint8_t) (g >> (56 - 8 * i));
}

static ta_status
mac_of(const uint8_t key[TA_REFRESH_KEY_LEN], const uint8_t *data, uint8_t mac[TA_REFRESH_MAC_LEN])
{
	size_t		maclen;
	ta_status	st = ta_hmac_oneshot(TA_JWS_HS256, key, TA_REFRESH_KEY_LEN, data,
									 TA_REFRESH_BODY_LEN, mac, TA_REFRESH_MAC_LEN, &maclen);

	if (st == TA_OK && maclen != TA_REFRESH_MAC_LEN)
		st = TA_ERR_CRYPTO;
	return st;
}

ta_status
ta_refresh_token_make(const uint8_t key[TA_REFRESH_KEY_LEN], const uint8_t sid[TA_REFRESH_SID_LEN],
					  int64_t generation, char *out, size_t cap, size_t *outlen)
{
	uint8_t		raw[TA_REFRESH_RAW_LEN];
	ta_status	st;

	if (cap < TA_REFRESH_TOKEN_LEN + 1)
		return TA_ERR_BUFFER;
	body(raw, sid, generation);
	st = mac_of(key, raw, raw + TA_REFRESH_BODY_LEN);
	if (st == TA_OK)
		st = ta_b64url_encode(raw, sizeof(raw), out, cap, outlen);
	if (st == TA_OK)
		out[*outlen] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return st;
}

ta_status
ta_refresh_token_open(const uint8_t key[TA_REFRESH_KEY_LEN], const char *token, size_t len,
					  uint8_t sid[TA_REFRESH_SID_LEN], int64_t *generation)
{
	uint8_t		raw[TA_REFRESH_RAW_LEN + 2];
	uint8_t		mac[TA_REFRESH_MAC_LEN];
	size_t		n;
	uint64_t	g = 0;
	ta_status	st;
	int			i;

	if (token == NULL || len != TA_REFRESH_TOKEN_LEN)
		return TA_REFRESH_TOKEN_INVALID;
	if (ta_b64url_decode(token, len, raw, sizeof(raw), &n) != TA_OK || n != TA_REFRESH_RAW_LEN)
		return TA_REFRESH_TOKEN_INVALID;
	st = mac_of(key, raw, mac);
	if (st != TA_OK)
		return st;
	/* the MAC first, whatever the version says: only then is anything in the token believed */
	if (CRYPTO_memcmp(mac, raw + TA_REFRESH_BODY_LEN, TA_REFRESH_MAC_LEN) != 0 ||
		raw[0] != TA_REFRESH_TOKEN_VERSION)
	{
		OPENSSL_cleanse(mac, sizeof(mac));
		return TA_REFRESH_TOKEN_INVALID;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	memcpy(sid, raw + 1, TA_REFRESH_SID_LEN);
	for (i = 0; i < 8; i++)
		g = (g << 8) | raw[1 + TA_REFRESH_SID_LEN + i];
	*generation = (int64_t) g;
	return TA_OK;
}
