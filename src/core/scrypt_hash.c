/*
 * scrypt_hash.c: Better Auth's scrypt password hashes through OpenSSL's EVP_PBE_scrypt.
 */
#include "core/scrypt_hash.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static const char hexdigits[] = "0123456789abcdef";

/* Value of a lower-case hex digit, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether s[0..len) is lower-case hex, as Node's Buffer.toString("hex") writes it. */
static bool
all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

/* Whether a stored hash has the shape of a Better Auth scrypt hash. */
bool
ta_scrypt_hash_is_better_auth(const char *hash, size_t len)
{
	return len == TA_SCRYPT_HASH_LEN && hash[TA_SCRYPT_SALT_HEX] == ':' &&
		all_hex(hash, TA_SCRYPT_SALT_HEX) &&
		all_hex(hash + TA_SCRYPT_SALT_HEX + 1, (size_t) 2 * TA_SCRYPT_KEY_LEN);
}

/* scrypt of a password with the salt text, into key (TA_SCRYPT_KEY_LEN bytes). */
static ta_status
derive(const char *password, size_t password_len, const char *salt_hex, uint8_t *key)
{
	/* RFC 7914 §2 parameters; the salt is the hex text itself, not the bytes it spells. */
	if (EVP_PBE_scrypt(password, password_len, (const unsigned char *) salt_hex,
					   TA_SCRYPT_SALT_HEX, TA_SCRYPT_N, TA_SCRYPT_R, TA_SCRYPT_P,
					   TA_SCRYPT_MAXMEM, key, TA_SCRYPT_KEY_LEN) != 1)
	{
		ERR_clear_error();
		return TA_ERR_CRYPTO;
	}
	return TA_OK;
}

/* Check a password against a Better Auth scrypt hash. */
ta_status
ta_scrypt_hash_verify(const char *password, size_t password_len,
					  const char *hash, size_t hash_len, bool *match)
{
	uint8_t		want[TA_SCRYPT_KEY_LEN];
	uint8_t		got[TA_SCRYPT_KEY_LEN];
	const char *hex = hash + TA_SCRYPT_SALT_HEX + 1;
	ta_status	st;

	*match = false;
	if (!ta_scrypt_hash_is_better_auth(hash, hash_len))
		return TA_PW_HASH_MALFORMED;
	for (size_t i = 0; i < TA_SCRYPT_KEY_LEN; i++)
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): all_hex passed, hexval is 0..15 */
		want[i] = (uint8_t) (hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	st = derive(password, password_len, hash, got);
	if (st == TA_OK)
		*match = CRYPTO_memcmp(want, got, TA_SCRYPT_KEY_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return st;
}

/* Make a Better Auth scrypt hash with the given salt. */
ta_status
ta_scrypt_hash_make(const char *password, size_t password_len, const uint8_t salt[16],
					char *out, size_t cap)
{
	uint8_t		key[TA_SCRYPT_KEY_LEN];
	ta_status	st;
	char	   *o = out;

	if (cap < TA_SCRYPT_HASH_LEN + 1)
		return TA_ERR_BUFFER;
	for (int i = 0; i < 16; i++)
	{
		*o++ = hexdigits[salt[i] >> 4];
		*o++ = hexdigits[salt[i] & 15];
	}
	*o++ = ':';
	st = derive(password, password_len, out, key);
	if (st != TA_OK)
		return st;
	for (int i = 0; i < TA_SCRYPT_KEY_LEN; i++)
	{
		*o++ = hexdigits[key[i] >> 4];
		*o++ = hexdigits[key[i] & 15];
	}
	*o = '\0';
	OPENSSL_cleanse(key, sizeof(key));
	return TA_OK;
}
