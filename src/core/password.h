/*
 * password.h: password hashing and verification (bcrypt and yescrypt through libxcrypt, argon2id
 * through libargon2), hash-string parsing, the maxima that keep a hostile hash from pinning a
 * backend, and the rehash policy. Postgres-free: pointer + length in, caller buffer out, status.
 */
#ifndef TASKAUTH_PASSWORD_H
#define TASKAUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ta_status.h"

/* bcrypt reads at most this many bytes of a password; longer ones are refused, never cut. */
#define TA_PW_BCRYPT_MAX_PASSWORD	72
#define TA_PW_BCRYPT_MIN_COST		4
#define TA_PW_BCRYPT_MAX_COST		31
#define TA_PW_BCRYPT_HASH_LEN		60
#define TA_PW_BCRYPT_SALT_BYTES		16

/* argon2id limits that do not depend on settings (RFC 9106 §3.1 and libargon2's own minima). */
#define TA_PW_ARGON2_VERSION		19
#define TA_PW_ARGON2_MIN_MEMORY_KIB	8	/* and at least 8 KiB per lane */
#define TA_PW_ARGON2_MAX_LANES		0xFFFFFF
#define TA_PW_ARGON2_MIN_SALT		8
#define TA_PW_ARGON2_MAX_SALT		64
#define TA_PW_ARGON2_MIN_DIGEST		4
#define TA_PW_ARGON2_MAX_DIGEST		64
/* What hashes made here use: the sizes argon2-cffi, passlib and node's argon2 use by default. */
#define TA_PW_ARGON2_SALT_BYTES		16
#define TA_PW_ARGON2_DIGEST_BYTES	32

/* libxcrypt refuses longer passphrases (CRYPT_MAX_PASSPHRASE_SIZE). */
#define TA_PW_CRYPT_MAX_PASSWORD	512

/* No hash string we accept is longer; anything longer is malformed before it is read. */
#define TA_PW_HASH_MAX_INPUT		256
/* Capacity that holds any hash string this module writes, with its NUL. */
#define TA_PW_HASH_BUFSIZE			256

typedef enum ta_pw_scheme
{
	TA_PW_SCHEME_BCRYPT = 1,
	TA_PW_SCHEME_ARGON2ID = 2,
	TA_PW_SCHEME_YESCRYPT = 3
} ta_pw_scheme;

/* Upper bounds on the work one hash or verify may do; checked before any work starts. */
typedef struct ta_pw_limits
{
	int			max_bcrypt_cost;
	uint32_t	max_argon2_memory_kib;	/* also bounds yescrypt's memory */
	uint32_t	max_argon2_time;
	uint32_t	max_argon2_parallelism;
} ta_pw_limits;

/* What a hash made today would look like; password_needs_rehash compares against it. */
typedef struct ta_pw_policy
{
	ta_pw_scheme algorithm;		/* TA_PW_SCHEME_BCRYPT or TA_PW_SCHEME_ARGON2ID */
	int			bcrypt_cost;
	uint32_t	argon2_memory_kib;
	uint32_t	argon2_time;
	uint32_t	argon2_parallelism;
} ta_pw_policy;

/* A hash string taken apart. Only the fields of its scheme are set. */
typedef struct ta_pw_parsed
{
	ta_pw_scheme scheme;
	char		bcrypt_minor;	/* 'a', 'b' or 'y' */
	int			bcrypt_cost;
	uint32_t	memory_kib;		/* argon2id m; yescrypt memory in KiB */
	uint32_t	time;			/* argon2id t */
	uint32_t	parallelism;	/* argon2id p */
	size_t		salt_len;
	size_t		digest_len;
	unsigned char salt[TA_PW_ARGON2_MAX_SALT];
	unsigned char digest[TA_PW_ARGON2_MAX_DIGEST];
} ta_pw_parsed;

/* Take a hash string apart and validate its shape; does no hashing and checks no maxima. */
extern ta_status ta_password_parse(const char *hash, size_t hash_len, ta_pw_parsed *out);

/* Refuse a parsed hash whose cost or parameters exceed the limits. */
extern ta_status ta_password_check_limits(const ta_pw_parsed *parsed, const ta_pw_limits *limits);

/* Hash with bcrypt ($2b$) at the given cost and a random salt; writes a NUL-terminated string. */
extern ta_status ta_password_hash_bcrypt(const char *password, size_t password_len, int cost,
										 const ta_pw_limits *limits, char *out, size_t out_cap);

/* Same with a caller-chosen 16-byte salt (known-answer tests). */
extern ta_status ta_password_hash_bcrypt_salted(const char *password, size_t password_len,
												int cost, const unsigned char *salt,
												const ta_pw_limits *limits,
												char *out, size_t out_cap);

/* Hash with argon2id (v=19) at m/t/p and a random salt; writes a NUL-terminated PHC string. */
extern ta_status ta_password_hash_argon2id(const char *password, size_t password_len,
										   uint32_t memory_kib, uint32_t time,
										   uint32_t parallelism, const ta_pw_limits *limits,
										   char *out, size_t out_cap);

/* Same with a caller-chosen salt and digest length (known-answer tests). */
extern ta_status ta_password_hash_argon2id_salted(const char *password, size_t password_len,
												  uint32_t memory_kib, uint32_t time,
												  uint32_t parallelism,
												  const unsigned char *salt, size_t salt_len,
												  size_t digest_len,
												  const ta_pw_limits *limits,
												  char *out, size_t out_cap);

/*
 * Check a password against a stored hash. *match is set only when TA_OK is returned; a malformed,
 * unsupported or over-limit hash is an error status, a bcrypt password over 72 bytes is no match.
 */
extern ta_status ta_password_verify(const char *password, size_t password_len,
									const char *hash, size_t hash_len,
									const ta_pw_limits *limits, bool *match);

/* Say whether a stored hash is weaker than what the policy would make today. */
extern ta_status ta_password_needs_rehash(const char *hash, size_t hash_len,
										  const ta_pw_policy *policy, bool *rehash);

#endif
