/*
 * b64url.h: strict base64url without padding (RFC 4648 §5), as JWS compact form uses it
 * (RFC 7515 §2, "Base64url Encoding").
 */
#ifndef TASKAUTH_B64URL_H
#define TASKAUTH_B64URL_H

#include <stddef.h>
#include <stdint.h>

#include "core/ta_status.h"

/* Characters that encoding len bytes produces (no padding). */
#define TA_B64URL_ENCODED_LEN(len) (((len) / 3) * 4 + (((len) % 3) ? ((len) % 3) + 1 : 0))
/* Upper bound of the bytes that decoding len characters produces. */
#define TA_B64URL_DECODED_MAX(len) (((len) / 4) * 3 + 2)

extern ta_status ta_b64url_encode(const uint8_t *in, size_t len,
								  char *out, size_t cap, size_t *outlen);
extern ta_status ta_b64url_decode(const char *in, size_t len,
								  uint8_t *out, size_t cap, size_t *outlen);

#endif
