/*
 * scrypt.h: Better Auth scrypt password hashes for verify_password (src/scrypt.c).
 */
#ifndef TASKAUTH_SCRYPT_GLUE_H
#define TASKAUTH_SCRYPT_GLUE_H

#include "taskauth.h"

/* Whether a stored hash is a Better Auth scrypt hash ("<32 hex>:<128 hex>"). */
extern bool taskauth_scrypt_is_hash(const char *hash, size_t hash_len);

/*
 * Check a password against a Better Auth scrypt hash, normalizing the password to NFKC first as
 * Better Auth does. Raises only on an internal failure.
 */
extern bool taskauth_scrypt_verify(const char *password, size_t password_len,
								   const char *hash, size_t hash_len);

#endif
