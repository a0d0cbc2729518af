/*
 * test_password.c: unit tests of src/core/password.c (parsing, maxima, known answers, rehash).
 *
 * bcrypt vectors: Openwall crypt_blowfish 1.3, wrapper.c tests[] (Solar Designer), which
 * libxcrypt's bcrypt descends from; the \xa3 / \xff\xff\xa3 ones pin the $2a$/$2b$/$2y$ behaviour
 * after CVE-2011-2483. argon2id vectors: the reference implementation's src/test.c
 * (github.com/P-H-C/phc-winner-argon2, version 0x13 argon2id PHC strings, password "password",
 * salt "somesalt"). yescrypt: libxcrypt's test/alg-yescrypt.c and yescrypt's TESTS-OK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/password.h"
#include "tap.h"

static const ta_pw_limits limits = {
	.max_bcrypt_cost = 14,
	.max_argon2_memory_kib = 262144,
	.max_argon2_time = 10,
	.max_argon2_parallelism = 8,
};

/* verify's status, with *match set to -1 when it gave none. */
static ta_status
verify(const char *pw, size_t pwlen, const char *hash, int *match)
{
	bool		m = false;
	ta_status	st = ta_password_verify(pw, pwlen, hash, strlen(hash), &limits, &m);

	*match = st == TA_OK ? (int) m : -1;
	return st;
}

/* True when the password verifies against the hash. */
static int
verifies(const char *pw, size_t pwlen, const char *hash)
{
	int			m;

	return verify(pw, pwlen, hash, &m) == TA_OK && m == 1;
}

/* True when the password is a clean mismatch (TA_OK, false). */
static int
mismatches(const char *pw, size_t pwlen, const char *hash)
{
	int			m;

	return verify(pw, pwlen, hash, &m) == TA_OK && m == 0;
}

/* Status of parsing a hash. */
static ta_status
parse(const char *hash)
{
	ta_pw_parsed p;

	return ta_password_parse(hash, strlen(hash), &p);
}

/* Status of verifying "x" against a hash (parse and limits only, for refused hashes). */
static ta_status
verify_status(const char *hash)
{
	int			m;

	return verify("x", 1, hash, &m);
}

/* Decode the 22-character bcrypt salt of a vector into its 16 bytes. */
static void
bcrypt_salt_bytes(const char *salt22, unsigned char *out)
{
	static const char alpha[] =
		"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint32_t	acc = 0;
	int			bits = 0;
	int			n = 0;

	for (int i = 0; i < 22 && n < 16; i++)
	{
		acc = (acc << 6) | (uint32_t) (strchr(alpha, salt22[i]) - alpha);
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[n++] = (unsigned char) (acc >> bits);
		}
	}
}

/* Seconds since an arbitrary start, for the "refused at once" checks. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const struct
{
	const char *hash;
	const char *pw;
	size_t		pwlen;
}			bcrypt_kats[] = {
#define PW(s) s, sizeof(s) - 1
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", PW("U*U")},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", PW("U*U*")},
	{"$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", PW("U*U*U")},
	{"$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", PW("")},
	/* exactly 72 bytes (the vector's first 72; the rest of it is tested as too long below) */
	{"$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
	PW("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")},
	{"$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", PW("\xff\xff\xa3")},
	{"$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", PW("\xff\xff\xa3")},
	{"$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", PW("\xff\xff\xa3")},
	{"$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", PW("\xa3")},
	{"$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", PW("\xa3")},
	{"$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", PW("\xa3")},
};

static const char *const argon2_kats[][2] = {
	{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
	{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	{"password", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
	{"password", "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$kCXUjmjvc5XMqQedpMTsOv+zyJEf5PhtGiUghW9jFyw"},
	{"differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw"},
};

/* Known answers: every vector verifies, a near miss does not, and bcrypt/argon2id reproduce them. */
static void
test_known_answers(void)
{
	char		out[TA_PW_HASH_BUFSIZE];
	char		name[128];

	for (size_t i = 0; i < sizeof(bcrypt_kats) / sizeof(bcrypt_kats[0]); i++)
	{
		unsigned char salt[16];
		char		want[64];

		snprintf(name, sizeof(name), "bcrypt vector %zu verifies", i);
		ok(verifies(bcrypt_kats[i].pw, bcrypt_kats[i].pwlen, bcrypt_kats[i].hash), name);
		snprintf(name, sizeof(name), "bcrypt vector %zu refuses the password with one more byte", i);
		{
			char		longer[80];

			memcpy(longer, bcrypt_kats[i].pw, bcrypt_kats[i].pwlen);
			longer[bcrypt_kats[i].pwlen] = 'x';
			ok(mismatches(longer, bcrypt_kats[i].pwlen + 1, bcrypt_kats[i].hash), name);
		}
		/* $2b$ output reproduces the vector wherever $2b$ and the vector's prefix agree */
		if (bcrypt_kats[i].hash[2] == 'a' && memchr(bcrypt_kats[i].pw, 0xff, bcrypt_kats[i].pwlen))
			continue;
		bcrypt_salt_bytes(bcrypt_kats[i].hash + 7, salt);
		strcpy(want, bcrypt_kats[i].hash);
		want[2] = 'b';
		snprintf(name, sizeof(name), "bcrypt vector %zu reproduced as $2b$", i);
		if (ok(ta_password_hash_bcrypt_salted(bcrypt_kats[i].pw, bcrypt_kats[i].pwlen, 5, salt,
											  &limits, out, sizeof(out)) == TA_OK, name))
			is_str(out, want, "  ... with the same digest");
	}

	for (size_t i = 0; i < sizeof(argon2_kats) / sizeof(argon2_kats[0]); i++)
	{
		const char *pw = argon2_kats[i][0];
		const char *hash = argon2_kats[i][1];
		ta_pw_parsed p;

		snprintf(name, sizeof(name), "argon2id vector %zu verifies", i);
		ok(verifies(pw, strlen(pw), hash), name);
		snprintf(name, sizeof(name), "argon2id vector %zu refuses another password", i);
		ok(mismatches("passwore", 8, hash), name);
		if (ta_password_parse(hash, strlen(hash), &p) != TA_OK)
			continue;
		snprintf(name, sizeof(name), "argon2id vector %zu reproduced", i);
		if (ok(ta_password_hash_argon2id_salted(pw, strlen(pw), p.memory_kib, p.time,
												p.parallelism, p.salt, p.salt_len, p.digest_len,
												&limits, out, sizeof(out)) == TA_OK, name))
			is_str(out, hash, "  ... as the same PHC string");
	}

	/* node's argon2 writes m,p,t; any order of the same three parameters is the same hash */
	ok(verifies("password", 8, "$argon2id$v=19$m=256,p=2,t=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"),
	   "argon2id parameters in m,p,t order verify");
	ok(verifies("password", 8, "$argon2id$v=19$t=2,p=2,m=256$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"),
	   "argon2id parameters in t,p,m order verify");

	ok(verifies("pleaseletmein", 13,
				"$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6"),
	   "yescrypt vector (p=11) verifies");
	ok(mismatches("pleaseletmeim", 13,
				  "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6"),
	   "yescrypt vector refuses another password");
	ok(verifies("", 0, "$y$jD5.7$$JD8dsR.nt1ty0ltQ2HHwauaDRoOUIEaA5i.vpj2nyL."),
	   "yescrypt vector with empty password and salt verifies");
}

/* Hashes made here verify, carry the right prefix and parameters, and differ per call. */
static void
test_round_trips(void)
{
	char		a[TA_PW_HASH_BUFSIZE],
				b[TA_PW_HASH_BUFSIZE];
	char		pw72[73];

	is_int(ta_password_hash_bcrypt("secret", 6, 4, &limits, a, sizeof(a)), TA_OK, "bcrypt hash at cost 4");
	ok(strncmp(a, "$2b$04$", 7) == 0 && strlen(a) == 60, "bcrypt hash is $2b$04$ and 60 characters");
	ok(verifies("secret", 6, a), "bcrypt hash verifies");
	ok(mismatches("secreT", 6, a), "bcrypt hash refuses another password");
	ta_password_hash_bcrypt("secret", 6, 4, &limits, b, sizeof(b));
	ok(strcmp(a, b) != 0, "two bcrypt hashes of one password differ (random salt)");

	memset(pw72, 'p', 72);
	pw72[72] = '\0';
	is_int(ta_password_hash_bcrypt(pw72, 72, 4, &limits, a, sizeof(a)), TA_OK, "72-byte password hashes");
	ok(verifies(pw72, 72, a), "72-byte password verifies");
	ok(mismatches(pw72, 71, a), "its 71-byte prefix does not");

	is_int(ta_password_hash_argon2id("secret", 6, 64, 1, 1, &limits, a, sizeof(a)), TA_OK,
		   "argon2id hash at m=64 t=1 p=1");
	ok(strncmp(a, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0, "argon2id hash carries its parameters");
	ok(verifies("secret", 6, a), "argon2id hash verifies");
	ok(mismatches("secreT", 6, a), "argon2id hash refuses another password");
	is_int(ta_password_hash_argon2id("secret", 6, 64, 1, 4, &limits, b, sizeof(b)), TA_OK,
		   "argon2id hash with 4 lanes");
	ok(verifies("secret", 6, b), "argon2id hash with 4 lanes verifies");

	{
		char		big[200];

		memset(big, 'q', sizeof(big));
		is_int(ta_password_hash_argon2id(big, sizeof(big), 64, 1, 1, &limits, a, sizeof(a)), TA_OK,
			   "argon2id takes a 200-byte password");
		ok(verifies(big, sizeof(big), a), "... and verifies it");
		ok(mismatches(big, sizeof(big) - 1, a), "... but not its 199-byte prefix");
	}
}

/* The 72-byte rule, NUL bytes, and cost ranges when hashing. */
static void
test_hash_arguments(void)
{
	char		out[TA_PW_HASH_BUFSIZE];
	char		pw73[73];

	memset(pw73, 'p', sizeof(pw73));
	is_int(ta_password_hash_bcrypt(pw73, 73, 4, &limits, out, sizeof(out)), TA_PW_TOO_LONG,
		   "bcrypt refuses to hash 73 bytes");
	is_int(ta_password_hash_bcrypt("a\0b", 3, 4, &limits, out, sizeof(out)), TA_PW_HAS_NUL,
		   "bcrypt refuses a NUL byte");
	is_int(ta_password_hash_bcrypt("x", 1, 3, &limits, out, sizeof(out)), TA_PW_COST_RANGE, "cost 3 refused");
	is_int(ta_password_hash_bcrypt("x", 1, 32, &limits, out, sizeof(out)), TA_PW_COST_RANGE, "cost 32 refused");
	is_int(ta_password_hash_bcrypt("x", 1, 15, &limits, out, sizeof(out)), TA_PW_COST_OVER_MAX,
		   "cost above the maximum refused");
	is_int(ta_password_hash_bcrypt("x", 1, 4, &limits, out, 60), TA_ERR_BUFFER, "too small a buffer refused");

	is_int(ta_password_hash_argon2id("x", 1, 7, 1, 1, &limits, out, sizeof(out)), TA_PW_ARGON2_PARAMS_RANGE,
		   "argon2 m=7 refused");
	is_int(ta_password_hash_argon2id("x", 1, 16, 1, 4, &limits, out, sizeof(out)), TA_PW_ARGON2_PARAMS_RANGE,
		   "argon2 m < 8p refused");
	is_int(ta_password_hash_argon2id("x", 1, 64, 0, 1, &limits, out, sizeof(out)), TA_PW_ARGON2_PARAMS_RANGE,
		   "argon2 t=0 refused");
	is_int(ta_password_hash_argon2id("x", 1, 64, 1, 0, &limits, out, sizeof(out)), TA_PW_ARGON2_PARAMS_RANGE,
		   "argon2 p=0 refused");
	is_int(ta_password_hash_argon2id("x", 1, 262145, 1, 1, &limits, out, sizeof(out)),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2 memory above the maximum refused");
	is_int(ta_password_hash_argon2id("x", 1, 64, 11, 1, &limits, out, sizeof(out)),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2 time above the maximum refused");
	is_int(ta_password_hash_argon2id("x", 1, 128, 1, 9, &limits, out, sizeof(out)),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2 parallelism above the maximum refused");
	is_int(ta_password_hash_argon2id("a\0b", 3, 64, 1, 1, &limits, out, sizeof(out)), TA_PW_HAS_NUL,
		   "argon2 refuses a NUL byte");
}

/* Verification-side rules: over 72 bytes is no match; prefixes; maxima refused at once. */
static void
test_verify_rules(void)
{
	const char *v72 = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
	const char *full = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		"chars after 72 are ignored";
	int			m;
	double		t0;

	ok(mismatches(full, strlen(full), v72),
	   "a password over 72 bytes never matches, even when its first 72 do");
	is_int(verify_status("$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e"),
		   TA_PW_HASH_UNSUPPORTED, "$2x$ refused");
	is_int(verify_status("$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
		   TA_PW_HASH_UNSUPPORTED, "$2$ refused");

	t0 = now();
	is_int(verify("x", 1, "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", &m),
		   TA_PW_COST_OVER_MAX, "$2b$31$ refused");
	is_int(verify("x", 1, "$2b$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", &m),
		   TA_PW_COST_OVER_MAX, "$2b$15$ refused above a maximum of 14");
	is_int(verify("x", 1, "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", &m),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2id asking for 4 GiB refused");
	is_int(verify("x", 1, "$argon2id$v=19$m=4294967295,t=4294967295,p=16777215$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", &m),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2id at every maximum of the format refused");
	is_int(verify("x", 1, "$argon2id$v=19$m=65536,t=11,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", &m),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2id t=11 refused");
	is_int(verify("x", 1, "$argon2id$v=19$m=65536,t=2,p=9$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", &m),
		   TA_PW_ARGON2_PARAMS_OVER_MAX, "argon2id p=9 refused");
	is_int(verify("x", 1, "$y$jFT$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", &m),
		   TA_PW_YESCRYPT_OVER_MAX, "yescrypt asking for 1 GiB refused");
	is_int(verify("x", 1, "$y$jJT$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", &m),
		   TA_PW_YESCRYPT_OVER_MAX, "yescrypt asking for 16 GiB refused");
	is_int(verify("x", 1, "$y$jE5.w9rC$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", &m),
		   TA_PW_YESCRYPT_OVER_MAX, "yescrypt with 65536 lanes (768 MiB of S-boxes) refused");
	ok(now() - t0 < 0.5, "refusals above the maxima take no time");
}

/* Each malformed shape, and what it is refused as. */
static void
test_parse(void)
{
	static const struct
	{
		const char *hash;
		ta_status	want;
		const char *name;
	}			cases[] = {
		{"", TA_PW_HASH_MALFORMED, "empty"},
		{"password", TA_PW_HASH_MALFORMED, "no $"},
		{"$", TA_PW_HASH_MALFORMED, "lone $"},
		{"$2b$", TA_PW_HASH_MALFORMED, "$2b$ alone"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", TA_PW_HASH_MALFORMED, "bcrypt 59 chars"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW", TA_PW_HASH_MALFORMED, "bcrypt 61 chars"},
		{"$2b$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW", TA_PW_HASH_MALFORMED, "bcrypt one-digit cost"},
		{"$2b$0a$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_HASH_MALFORMED, "bcrypt cost not digits"},
		{"$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_COST_RANGE, "bcrypt cost 3"},
		{"$2b$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_COST_RANGE, "bcrypt cost 32"},
		{"$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_COST_RANGE, "bcrypt cost 99"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCC-.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_HASH_MALFORMED, "bcrypt salt with -"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe+", TA_PW_HASH_MALFORMED, "bcrypt digest with +"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCCDE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_HASH_MALFORMED, "bcrypt salt last char D"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX", TA_PW_HASH_MALFORMED, "bcrypt digest last char X"},
		{"$2B$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_PW_HASH_UNSUPPORTED, "$2B$"},
		{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", TA_OK, "$2b$ vector shape"},
		{"$1$saltsalt$abcdefghijklmnopqrstuv", TA_PW_HASH_UNSUPPORTED, "md5crypt"},
		{"$6$saltsalt$abc", TA_PW_HASH_UNSUPPORTED, "sha512crypt"},
		{"$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", TA_PW_HASH_UNSUPPORTED, "argon2i"},
		{"$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", TA_PW_HASH_UNSUPPORTED, "argon2d"},
		{"$argon2id$", TA_PW_HASH_MALFORMED, "argon2id alone"},
		{"$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_UNSUPPORTED, "argon2id v=16"},
		{"$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id without version"},
		{"$argon2id$v=1x$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id version not a number"},
		{"$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id without p"},
		{"$argon2id$v=19$m=256,t=2,p=1,m=256$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id m twice"},
		{"$argon2id$v=19$m=256,t=2,p=1,x=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id unknown parameter"},
		{"$argon2id$v=19$m=256,t=2,p=1,keyid=abc$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id keyid"},
		{"$argon2id$v=19$m=256,t=2,p=1,$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id trailing comma"},
		{"$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id leading zero"},
		{"$argon2id$v=19$m=-256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id negative"},
		{"$argon2id$v=19$m=4294967296,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id m over 32 bits"},
		{"$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_ARGON2_PARAMS_RANGE, "argon2id m=7"},
		{"$argon2id$v=19$m=15,t=2,p=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_ARGON2_PARAMS_RANGE, "argon2id m < 8p"},
		{"$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_ARGON2_PARAMS_RANGE, "argon2id t=0"},
		{"$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_ARGON2_PARAMS_RANGE, "argon2id p=0"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id padded salt"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR_uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id base64url digest"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id non-canonical salt"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", TA_PW_HASH_MALFORMED, "argon2id 4-byte salt"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf6", TA_PW_HASH_MALFORMED, "argon2id 2-byte digest"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65E", TA_PW_HASH_MALFORMED, "argon2id digest length 1 mod 4"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$", TA_PW_HASH_MALFORMED, "argon2id extra $"},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ", TA_PW_HASH_MALFORMED, "argon2id without digest"},
		{"$y$", TA_PW_HASH_MALFORMED, "$y$ alone"},
		{"$y$/B3.6$LdJMENpBABJJ3hIHjB1$h8sE4hJo.BsdlfJr0.d8bNJNPZymH7Y3kLj4aY1Rfc8", TA_PW_HASH_UNSUPPORTED, "yescrypt WORM flavor"},
		{"$y$jAT0.1$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", TA_PW_HASH_UNSUPPORTED, "yescrypt with t"},
		{"$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK", TA_PW_HASH_MALFORMED, "yescrypt short digest"},
		{"$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB+", TA_PW_HASH_MALFORMED, "yescrypt digest with +"},
		{"$y$j9$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", TA_PW_HASH_MALFORMED, "yescrypt without r"},
		{"$y$j95$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", TA_OK, "yescrypt j95 shape"},
	};
	char		name[160];
	char		longhash[TA_PW_HASH_MAX_INPUT + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		snprintf(name, sizeof(name), "parse: %s", cases[i].name);
		is_int(parse(cases[i].hash), cases[i].want, name);
	}
	{
		ta_pw_parsed p;

		is_int(ta_password_parse("$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4Y\0JKvyOeW", 60, &p),
			   TA_PW_HASH_MALFORMED, "parse: NUL inside a hash");
	}
	memset(longhash, 'a', sizeof(longhash));
	memcpy(longhash, "$argon2id$", 10);
	longhash[sizeof(longhash) - 1] = '\0';
	is_int(parse(longhash), TA_PW_HASH_MALFORMED, "parse: over-long string");

	{
		ta_pw_parsed p;

		const char *h1 = "$argon2id$v=19$m=65536,p=4,t=3$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
		const char *h2 = "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6";
		const char *h3 = "$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6";

		ta_password_parse(h1, strlen(h1), &p);
		ok(p.memory_kib == 65536 && p.time == 3 && p.parallelism == 4 && p.salt_len == 8 && p.digest_len == 32,
		   "parse: argon2id fields in node's order");
		ta_password_parse(h2, strlen(h2), &p);
		is_int(p.memory_kib, 65536 + 11 * (1 + 12) + 2, "parse: yescrypt jD5.7 (N=2^16 r=8 p=11) counts 64 MiB and per-lane state");
		is_int(p.parallelism, 11, "parse: yescrypt jD5.7 has 11 lanes");
		ta_password_parse(h3, strlen(h3), &p);
		is_int(p.memory_kib, 16384 + 16 + 8, "parse: yescrypt j9T (N=2^12 r=32) counts 16 MiB and its state");
	}
}

/* password_needs_rehash under bcrypt and argon2id policies. */
static void
test_rehash(void)
{
	static const ta_pw_policy bc = {TA_PW_SCHEME_BCRYPT, 12, 19456, 2, 1};
	static const ta_pw_policy ar = {TA_PW_SCHEME_ARGON2ID, 12, 19456, 2, 1};
	static const struct
	{
		const ta_pw_policy *policy;
		const char *hash;
		int			want;
		const char *name;
	}			cases[] = {
		{&bc, "$2b$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 0, "bcrypt: $2b$12$ is current"},
		{&bc, "$2b$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 0, "bcrypt: $2b$13$ is stronger"},
		{&bc, "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 0, "bcrypt: $2b$31$ is not weaker"},
		{&bc, "$2b$11$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1, "bcrypt: $2b$11$ is weaker"},
		{&bc, "$2a$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1, "bcrypt: $2a$ is rehashed"},
		{&bc, "$2y$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1, "bcrypt: $2y$ is rehashed"},
		{&bc, "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 1, "bcrypt: argon2id is rehashed"},
		{&bc, "$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", 1, "bcrypt: yescrypt is rehashed"},
		{&ar, "$2b$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1, "argon2id: bcrypt is rehashed"},
		{&ar, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 0, "argon2id: same parameters are current"},
		{&ar, "$argon2id$v=19$m=65536,p=4,t=3$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 0, "argon2id: node's defaults are stronger"},
		{&ar, "$argon2id$v=19$m=19455,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 1, "argon2id: less memory"},
		{&ar, "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 1, "argon2id: fewer passes"},
		{&ar, "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", 1, "argon2id: 8-byte salt"},
		{&ar, "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8", 1, "argon2id: 17-byte digest"},
	};
	char		name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		bool		r = false;
		ta_status	st = ta_password_needs_rehash(cases[i].hash, strlen(cases[i].hash),
												  cases[i].policy, &r);

		snprintf(name, sizeof(name), "needs_rehash %s", cases[i].name);
		ok(st == TA_OK && (int) r == cases[i].want, name);
	}
	{
		ta_pw_policy ar4 = {TA_PW_SCHEME_ARGON2ID, 12, 19456, 2, 4};
		bool		r = false;
		const char *h = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

		ok(ta_password_needs_rehash(h, strlen(h), &ar4, &r) == TA_OK && r,
		   "needs_rehash argon2id: fewer lanes than the setting");
		is_int(ta_password_needs_rehash("$2x$05$abc", 10, &bc, &r), TA_PW_HASH_UNSUPPORTED,
			   "needs_rehash refuses $2x$");
		is_int(ta_password_needs_rehash("nonsense", 8, &bc, &r), TA_PW_HASH_MALFORMED,
			   "needs_rehash refuses a malformed hash");
	}
}

int
main(void)
{
	test_known_answers();
	test_round_trips();
	test_hash_arguments();
	test_verify_rules();
	test_parse();
	test_rehash();
	return done_testing();
}
