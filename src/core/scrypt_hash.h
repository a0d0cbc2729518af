/*
 * scrypt_hash.h: Better Auth's default password hashes, "<salt>:<key>" where salt is 32 lower-case
 * hex digits (16 random bytes) and key is 128 lower-case hex digits: scrypt (RFC 7914) with
 * N=16384, r=16, p=1 and a 64-byte output, the salt fed to scrypt as its 32-character hex text.
 * Postgres-free; the caller normalizes the password to NFKC first, as Better Auth does.
 */
#ifndef TASKAUTH_SCRYPT_HASH_H
#define TASKAUTH_SCRYPT_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ta_status.h"

#define TA_SCRYPT_N			16384
#define TA_SCRYPT_R			16
#define TA_SCRYPT_P			1
#define TA_SCRYPT_KEY_LEN	64
#define TA_SCRYPT_SALT_HEX	32
/* Length of a hash string: salt, ':', key. */
#define TA_SCRYPT_HASH_LEN	(TA_SCRYPT_SALT_HEX + 1 + 2 * TA_SCRYPT_KEY_LEN)
/* scrypt needs 128 * N * r * p bytes and a little more; OpenSSL refuses without room for it. */
#define TA_SCRYPT_MAXMEM	((uint64_t) 128 * TA_SCRYPT_N * TA_SCRYPT_R * 2)

/* Whether a stored hash has the shape of a Better Auth scrypt hash. */
extern bool ta_scrypt_hash_is_better_auth(const char *hash, size_t len);

/*
 * Check a password against a Better Auth scrypt hash; *match tells the result. Returns
 * TA_PW_HASH_MALFORMED when the hash does not have the shape, TA_ERR_CRYPTO or TA_OK.
 */
extern ta_status ta_scrypt_hash_verify(const char *password, size_t password_len,
									   const char *hash, size_t hash_len, bool *match);

/*
 * Make a Better Auth scrypt hash of a password with the given 16-byte salt into out (capacity at
 * least TA_SCRYPT_HASH_LEN + 1; NUL-terminated).
 */
extern ta_status ta_scrypt_hash_make(const char *password, size_t password_len,
									 const uint8_t salt[16], char *out, size_t cap);

#endif
