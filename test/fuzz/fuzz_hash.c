/*
 * fuzz_hash.c: libFuzzer target for password hash-string parsing (prefix, bcrypt cost and salt,
 * argon2id PHC parameters and base64, yescrypt parameters).
 *
 * The input is a hash string. It is parsed, checked against limits, judged by the rehash policy
 * and, since the limits here are tiny (bcrypt cost 4, argon2 64 KiB and one pass, yescrypt
 * 64 KiB), verified against a fixed password: the fuzzer reaches the libraries only with work it
 * can afford. Properties checked: parse, limits, rehash and verify agree with one another.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/password.h"

static const ta_pw_limits tiny = {
	.max_bcrypt_cost = 4,
	.max_argon2_memory_kib = 64,
	.max_argon2_time = 1,
	.max_argon2_parallelism = 4,
};

static const ta_pw_policy policy = {TA_PW_SCHEME_BCRYPT, 12, 19456, 2, 1};

/* Abort so that libFuzzer records the input. */
static void
require(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *hash = (const char *) data;
	ta_pw_parsed parsed;
	ta_status	parse_st,
				limit_st = TA_OK,
				rehash_st,
				verify_st;
	bool		rehash = false,
				match = false;

	parse_st = ta_password_parse(hash, size, &parsed);
	if (parse_st == TA_OK)
	{
		require(parsed.scheme == TA_PW_SCHEME_BCRYPT || parsed.scheme == TA_PW_SCHEME_ARGON2ID ||
				parsed.scheme == TA_PW_SCHEME_YESCRYPT);
		if (parsed.scheme == TA_PW_SCHEME_BCRYPT)
			require(size == TA_PW_BCRYPT_HASH_LEN && parsed.bcrypt_cost >= 4 &&
					parsed.bcrypt_cost <= 31);
		if (parsed.scheme == TA_PW_SCHEME_ARGON2ID)
			require(parsed.time >= 1 && parsed.parallelism >= 1 &&
					parsed.memory_kib >= 8 * (uint64_t) parsed.parallelism &&
					parsed.salt_len >= TA_PW_ARGON2_MIN_SALT &&
					parsed.salt_len <= TA_PW_ARGON2_MAX_SALT &&
					parsed.digest_len >= TA_PW_ARGON2_MIN_DIGEST &&
					parsed.digest_len <= TA_PW_ARGON2_MAX_DIGEST);
		limit_st = ta_password_check_limits(&parsed, &tiny);
	}
	else
		require(parse_st == TA_PW_HASH_MALFORMED || parse_st == TA_PW_HASH_UNSUPPORTED ||
				parse_st == TA_PW_COST_RANGE || parse_st == TA_PW_ARGON2_PARAMS_RANGE);

	/* needs_rehash reads exactly what parse reads */
	rehash_st = ta_password_needs_rehash(hash, size, &policy, &rehash);
	require(rehash_st == parse_st);

	verify_st = ta_password_verify("pw", 2, hash, size, &tiny, &match);
	if (parse_st != TA_OK)
		require(verify_st == parse_st);
	else if (limit_st != TA_OK)
		require(verify_st == limit_st);
	else
		/* a hash of "pw" cannot be found by chance; a parsed yescrypt setting libxcrypt refuses
		 * is still reported as malformed, never as an internal failure */
		require((verify_st == TA_OK && !match) ||
				(parsed.scheme == TA_PW_SCHEME_YESCRYPT && verify_st == TA_PW_HASH_MALFORMED));
	return 0;
}
