/*
 * scrypt.c: SQL glue for Better Auth's scrypt password hashes (src/core/scrypt_hash.c), so that
 * accounts moved from Better Auth keep their passwords in taskauth.verify_password.
 */
#include "taskauth.h"

#include "scrypt.h"

#include "common/unicode_norm.h"
#include "core/scrypt_hash.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

/* Whether a stored hash is a Better Auth scrypt hash. */
bool
taskauth_scrypt_is_hash(const char *hash, size_t hash_len)
{
	return ta_scrypt_hash_is_better_auth(hash, hash_len);
}

/*
 * The UTF-8 bytes of a password in Unicode normalization form NFKC (Better Auth calls
 * password.normalize("NFKC") before scrypt). Returns palloc'd bytes (or the input itself when
 * it is ASCII, which NFKC leaves alone) and their length.
 */
static char *
nfkc_utf8(const char *pw, size_t len, size_t *out_len)
{
	const unsigned char *u;
	size_t		ulen;
	char	   *utf8 = (char *) pw;
	pg_wchar   *cps;
	pg_wchar   *norm;
	size_t		n = 0;
	char	   *out;
	unsigned char *o;
	bool		ascii = true;

	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char) pw[i] < 0x80;
	if (ascii)
	{
		*out_len = len;
		return (char *) pw;
	}
	if (GetDatabaseEncoding() != PG_UTF8)
		utf8 = pg_server_to_any(pw, (int) len, PG_UTF8);
	u = (const unsigned char *) utf8;
	/* pw is not NUL-terminated; only a converted copy is */
	ulen = (utf8 == pw) ? len : strlen(utf8);

	cps = palloc((ulen + 1) * sizeof(pg_wchar));
	for (size_t i = 0; i < ulen; i += pg_utf_mblen(u + i))
		cps[n++] = utf8_to_unicode(u + i);
	cps[n] = 0;
	norm = unicode_normalize(UNICODE_NFKC, cps);
	if (norm == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

	n = 0;
	while (norm[n] != 0)
		n++;
	out = palloc(4 * n + 1);
	o = (unsigned char *) out;
	for (size_t i = 0; i < n; i++)
		o += pg_utf_mblen(unicode_to_utf8(norm[i], o));
	*out_len = (size_t) ((char *) o - out);

	/* The code point arrays held the password: wipe them. */
	explicit_bzero(cps, (ulen + 1) * sizeof(pg_wchar));
	explicit_bzero(norm, (n + 1) * sizeof(pg_wchar));
	pfree(cps);
	pfree(norm);
	if (utf8 != pw)
	{
		explicit_bzero(utf8, ulen);
		pfree(utf8);
	}
	return out;
}

/* Check a password against a Better Auth scrypt hash. */
bool
taskauth_scrypt_verify(const char *password, size_t password_len,
					   const char *hash, size_t hash_len)
{
	size_t		nlen;
	char	   *norm = nfkc_utf8(password, password_len, &nlen);
	bool		match = false;
	ta_status	st;

	/* One scrypt run takes tens of milliseconds and cannot be interrupted: check around it. */
	CHECK_FOR_INTERRUPTS();
	st = ta_scrypt_hash_verify(norm, nlen, hash, hash_len, &match);
	if (norm != password)
	{
		explicit_bzero(norm, nlen);
		pfree(norm);
	}
	CHECK_FOR_INTERRUPTS();
	TA_CHECK(st);
	return match;
}
