/*
 * refresh_token.h: taskauth's refresh tokens, which name their session and its refresh
 * generation and carry a MAC, so that the database stores nothing per token it hands out.
 *
 * A token is base64url (no padding) of 57 bytes:
 *
 *   version (1 byte, TA_REFRESH_TOKEN_VERSION) ‖ session id (16 bytes, the uuid's bytes)
 *   ‖ generation (8 bytes, big-endian) ‖ HMAC-SHA256(key, the 25 bytes before it)
 *
 * 76 characters. Only a holder of the key (32 random bytes kept by the database) can make one;
 * opening a token checks its MAC in constant time before anything it says is believed.
 */
#ifndef TASKAUTH_REFRESH_TOKEN_H
#define TASKAUTH_REFRESH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/ta_status.h"

#define TA_REFRESH_TOKEN_VERSION 1
#define TA_REFRESH_KEY_LEN 32
#define TA_REFRESH_SID_LEN 16
#define TA_REFRESH_MAC_LEN 32
/* version ‖ sid ‖ generation: what the MAC covers */
#define TA_REFRESH_BODY_LEN (1 + TA_REFRESH_SID_LEN + 8)
#define TA_REFRESH_RAW_LEN (TA_REFRESH_BODY_LEN + TA_REFRESH_MAC_LEN)
/* characters of a token, without a terminating NUL (76) */
#define TA_REFRESH_TOKEN_LEN (((TA_REFRESH_RAW_LEN) / 3) * 4 + (((TA_REFRESH_RAW_LEN) % 3) ? ((TA_REFRESH_RAW_LEN) % 3) + 1 : 0))

/*
 * Writes the token of (sid, generation) under key to out (cap bytes, at least
 * TA_REFRESH_TOKEN_LEN + 1; NUL-terminated) and its length to outlen. TA_ERR_BUFFER when out is
 * too small, TA_ERR_CRYPTO when the MAC cannot be computed.
 */
extern ta_status ta_refresh_token_make(const uint8_t key[TA_REFRESH_KEY_LEN],
									   const uint8_t sid[TA_REFRESH_SID_LEN], int64_t generation,
									   char *out, size_t cap, size_t *outlen);

/*
 * Opens a token of len characters: TA_OK, with the session id and generation written to sid and
 * generation, only when it has exactly the format above, the current version and a MAC that
 * key made; TA_REFRESH_TOKEN_INVALID for anything else (what it says is then not written),
 * TA_ERR_CRYPTO when the MAC cannot be computed.
 */
extern ta_status ta_refresh_token_open(const uint8_t key[TA_REFRESH_KEY_LEN],
									   const char *token, size_t len,
									   uint8_t sid[TA_REFRESH_SID_LEN], int64_t *generation);

#endif
