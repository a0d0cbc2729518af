/*
 * test_scrypt_hash.c: unit tests of src/core/scrypt_hash.c (Better Auth's scrypt hashes).
 * Known answers were computed with Python's hashlib.scrypt (OpenSSL-independent parameters
 * N=16384, r=16, p=1, dkLen=64, salt = the 32-character hex text).
 */
#include <string.h>

#include "core/scrypt_hash.h"
#include "tap.h"

#define SALT "00112233445566778899aabbccddeeff"

static const char *kat_ascii = SALT ":"
	"73122e887cfc14f91396cdef78dfe4b9dec28d459037601c4904cedba5a637ab"
	"97b39b40c236df5d42881d0109ca8cf0f85e39dbaba2911c190915bd8f30fe85";
static const char *kat_empty = SALT ":"
	"497fd99302c442f6627fee539466649b1d40a6c71680cb681c10927ac69fddbf"
	"dfaab89fc61bc62faaa91b5099235a7e64362d00e1134a19ce7d03507e9178fa";
static const char *kat_utf8 = SALT ":"
	"58b49be73440e26306ddec6d45db31d20e5c7914c89df4e38aea5a8ba13c3118"
	"3e9c7f376e1ff7202724dea8889f4fb146aaccdae622bb33266289d6f9599820";

/* Verify and return 1 for a match, 0 for none, -status on error. */
static int
check(const char *pw, const char *hash)
{
	bool		m = false;
	ta_status	st = ta_scrypt_hash_verify(pw, strlen(pw), hash, strlen(hash), &m);

	return st == TA_OK ? (int) m : -(int) st;
}

int
main(void)
{
	char		buf[TA_SCRYPT_HASH_LEN + 1];
	char		bad[TA_SCRYPT_HASH_LEN + 1];
	static const uint8_t salt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

	ok(ta_scrypt_hash_is_better_auth(kat_ascii, strlen(kat_ascii)), "KAT has the shape");
	is_int(check("password123", kat_ascii), 1, "KAT: ASCII password verifies");
	is_int(check("password124", kat_ascii), 0, "KAT: wrong password does not");
	is_int(check("", kat_empty), 1, "KAT: empty password verifies");
	is_int(check("pässwörd-密码-🔐", kat_utf8), 1, "KAT: UTF-8 password verifies");

	is_int(ta_scrypt_hash_make("password123", 11, salt, buf, sizeof(buf)), TA_OK, "make a hash");
	is_str(buf, kat_ascii, "made hash equals the KAT");
	is_int(ta_scrypt_hash_make("x", 1, salt, buf, TA_SCRYPT_HASH_LEN), TA_ERR_BUFFER, "small buffer refused");

	/* Shapes that are not Better Auth hashes. */
	strcpy(bad, kat_ascii);
	bad[0] = 'A';
	ok(!ta_scrypt_hash_is_better_auth(bad, strlen(bad)), "upper-case hex is not the shape");
	is_int(check("password123", bad), -(int) TA_PW_HASH_MALFORMED, "and is malformed");
	strcpy(bad, kat_ascii);
	bad[32] = '$';
	ok(!ta_scrypt_hash_is_better_auth(bad, strlen(bad)), "no colon is not the shape");
	ok(!ta_scrypt_hash_is_better_auth(kat_ascii, strlen(kat_ascii) - 1), "short key is not the shape");
	ok(!ta_scrypt_hash_is_better_auth(kat_ascii + 1, strlen(kat_ascii) - 1), "short salt is not the shape");
	ok(!ta_scrypt_hash_is_better_auth("$2b$04$abcdefghijklmnopqrstuu", 29), "bcrypt is not the shape");
	ok(!ta_scrypt_hash_is_better_auth("", 0), "empty is not the shape");
	strcpy(bad, kat_ascii);
	bad[100] = bad[100] == '0' ? '1' : '0';
	is_int(check("password123", bad), 0, "a changed key digit does not verify");
	return done_testing();
}
