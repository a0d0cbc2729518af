/*
 * password.c: bcrypt and yescrypt through libxcrypt, argon2id through libargon2.
 *
 * The algorithms come from those libraries; what lives here is the part they leave to callers:
 * reading a stored hash string strictly and refusing it before any work when its cost or
 * parameters exceed the configured maxima (the libraries' inner loops cannot be interrupted, so
 * an unchecked "$2b$31$" string would pin a backend for days), the 72-byte bcrypt rule without
 * silent truncation, single-threaded argon2, constant-time comparison, and wiping copies of
 * passwords. Formats: bcrypt as OpenBSD and crypt_blowfish write it; argon2id as the PHC string
 * format (github.com/P-H-C/phc-string-format) that libargon2, argon2-cffi, passlib and node's
 * argon2 write; yescrypt as libxcrypt writes it.
 */
#include "core/password.h"
#include "core/ta_alloc.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* The alphabet bcrypt and crypt(3) use for salts and digests, in bcrypt's order. */
static const char bcrypt_alphabet[] =
	"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The same characters in crypt(3)'s order, which yescrypt's integers use. */
static const char crypt64_alphabet[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Standard base64 (RFC 4648 §4), which PHC strings use without padding. */
static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define YESCRYPT_DIGEST_CHARS	43	/* 32 bytes in crypt's base64 */
#define YESCRYPT_MAX_SALT_CHARS	64

/* Position of c in a crypt-style alphabet, or -1 (the NUL terminator is never a member). */
static int
alphabet_index(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int) (p - alphabet) : -1;
}

#define bcrypt_index(c)		alphabet_index(bcrypt_alphabet, (c))
#define crypt64_index(c)	alphabet_index(crypt64_alphabet, (c))
#define b64_index(c)		alphabet_index(b64_alphabet, (c))

/*
 * Decode unpadded standard base64 (RFC 4648 §4, padding omitted as §3.2 allows and the PHC string
 * format requires). Refuses non-canonical input: a length of 1 mod 4 or nonzero unused low bits
 * in the last character, so one byte string has exactly one spelling.
 */
static ta_status
b64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap, size_t *out_len)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		n = 0;

	if (in_len % 4 == 1)
		return TA_PW_HASH_MALFORMED;
	for (size_t i = 0; i < in_len; i++)
	{
		int			v = b64_index(in[i]);

		if (v < 0)
			return TA_PW_HASH_MALFORMED;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n >= out_cap)
				return TA_PW_HASH_MALFORMED;
			out[n++] = (unsigned char) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return TA_PW_HASH_MALFORMED;
	*out_len = n;
	return TA_OK;
}

/* Encode bytes as unpadded standard base64 with a NUL; returns the length or 0 if it cannot fit. */
static size_t
b64_encode(const unsigned char *in, size_t in_len, char *out, size_t out_cap)
{
	size_t		need = (in_len * 4 + 2) / 3;
	size_t		n = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	if (need + 1 > out_cap)
		return 0;
	for (size_t i = 0; i < in_len; i++)
	{
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			out[n++] = b64_alphabet[(acc >> bits) & 0x3f];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[n++] = b64_alphabet[(acc << (6 - bits)) & 0x3f];
	out[n] = '\0';
	return n;
}

/*
 * Parse a PHC decimal: digits only, no sign, no leading zero (the PHC string format's rule, which
 * keeps one spelling per value), at most UINT32_MAX.
 */
static ta_status
parse_decimal(const char *s, size_t len, uint32_t *out)
{
	uint64_t	v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return TA_PW_HASH_MALFORMED;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return TA_PW_HASH_MALFORMED;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > UINT32_MAX)
		return TA_PW_HASH_MALFORMED;
	*out = (uint32_t) v;
	return TA_OK;
}

/* Length of the field starting at s and ending before the next '$' or at end. */
static size_t
field_len(const char *s, size_t remaining)
{
	const char *d = memchr(s, '$', remaining);

	return d ? (size_t) (d - s) : remaining;
}

/*
 * Parse "$2a$NN$<22 salt><31 digest>" (also $2b$, $2y$). The 22 salt characters carry 128 bits
 * and the 31 digest characters 184, so the last character of each must have its unused low bits
 * clear (salt: one of ".Oeu"; digest: an index divisible by 4); every library writes them so.
 */
static ta_status
parse_bcrypt(const char *h, size_t len, ta_pw_parsed *out)
{
	int			cost;
	int			last;

	if (len != TA_PW_BCRYPT_HASH_LEN || h[6] != '$')
		return TA_PW_HASH_MALFORMED;
	if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return TA_PW_HASH_MALFORMED;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < TA_PW_BCRYPT_MIN_COST || cost > TA_PW_BCRYPT_MAX_COST)
		return TA_PW_COST_RANGE;
	for (size_t i = 7; i < len; i++)
		if (bcrypt_index(h[i]) < 0)
			return TA_PW_HASH_MALFORMED;
	last = bcrypt_index(h[7 + 21]);
	if ((last & 0x0f) != 0)
		return TA_PW_HASH_MALFORMED;
	last = bcrypt_index(h[len - 1]);
	if ((last & 0x03) != 0)
		return TA_PW_HASH_MALFORMED;

	out->scheme = TA_PW_SCHEME_BCRYPT;
	out->bcrypt_minor = h[2];
	out->bcrypt_cost = cost;
	return TA_OK;
}

/*
 * Parse "$argon2id$v=19$m=<kib>,t=<passes>,p=<lanes>$<salt b64>$<digest b64>" (PHC string
 * format). m, t and p may come in any order (node's argon2 writes m,p,t) but each exactly once;
 * no other parameter (keyid, data) is accepted. Only version 19 (0x13, RFC 9106) is read.
 */
static ta_status
parse_argon2id(const char *h, size_t len, ta_pw_parsed *out)
{
	const char *p = h + strlen("$argon2id$");
	const char *end = h + len;
	size_t		n;
	bool		seen_m = false,
				seen_t = false,
				seen_p = false;
	uint32_t	m = 0,
				t = 0,
				lanes = 0;
	ta_status	st;

	/* version */
	n = field_len(p, (size_t) (end - p));
	if (n < 3 || p[0] != 'v' || p[1] != '=')
		return TA_PW_HASH_MALFORMED;
	if (n != 4 || memcmp(p, "v=19", 4) != 0)
	{
		uint32_t	v;

		st = parse_decimal(p + 2, n - 2, &v);
		return st != TA_OK ? st : TA_PW_HASH_UNSUPPORTED;
	}
	p += n;
	if (p >= end || *p != '$')
		return TA_PW_HASH_MALFORMED;
	p++;

	/* parameters: key=value pairs separated by commas */
	n = field_len(p, (size_t) (end - p));
	{
		const char *q = p;
		const char *qend = p + n;

		while (q < qend)
		{
			const char *comma = memchr(q, ',', (size_t) (qend - q));
			size_t		item = comma ? (size_t) (comma - q) : (size_t) (qend - q);
			uint32_t	v;
			bool	   *seen;
			uint32_t   *dst;

			if (item < 3 || q[1] != '=')
				return TA_PW_HASH_MALFORMED;
			switch (q[0])
			{
				case 'm':
					seen = &seen_m;
					dst = &m;
					break;
				case 't':
					seen = &seen_t;
					dst = &t;
					break;
				case 'p':
					seen = &seen_p;
					dst = &lanes;
					break;
				default:
					return TA_PW_HASH_MALFORMED;
			}
			if (*seen)
				return TA_PW_HASH_MALFORMED;
			st = parse_decimal(q + 2, item - 2, &v);
			if (st != TA_OK)
				return st;
			*seen = true;
			*dst = v;
			q += item;
			if (comma)
			{
				q++;
				if (q == qend)
					return TA_PW_HASH_MALFORMED;	/* trailing comma */
			}
		}
	}
	if (!seen_m || !seen_t || !seen_p)
		return TA_PW_HASH_MALFORMED;
	p += n;
	if (p >= end || *p != '$')
		return TA_PW_HASH_MALFORMED;
	p++;

	/* salt */
	n = field_len(p, (size_t) (end - p));
	st = b64_decode(p, n, out->salt, sizeof(out->salt), &out->salt_len);
	if (st != TA_OK)
		return st;
	if (out->salt_len < TA_PW_ARGON2_MIN_SALT)
		return TA_PW_HASH_MALFORMED;
	p += n;
	if (p >= end || *p != '$')
		return TA_PW_HASH_MALFORMED;
	p++;

	/* digest: the rest, which may hold no further '$' */
	n = (size_t) (end - p);
	if (memchr(p, '$', n) != NULL)
		return TA_PW_HASH_MALFORMED;
	st = b64_decode(p, n, out->digest, sizeof(out->digest), &out->digest_len);
	if (st != TA_OK)
		return st;
	if (out->digest_len < TA_PW_ARGON2_MIN_DIGEST)
		return TA_PW_HASH_MALFORMED;

	/* RFC 9106 §3.1: t >= 1, 1 <= p <= 2^24-1, m >= 8p KiB. */
	if (t < 1 || lanes < 1 || lanes > TA_PW_ARGON2_MAX_LANES ||
		m < TA_PW_ARGON2_MIN_MEMORY_KIB || (uint64_t) m < 8 * (uint64_t) lanes)
		return TA_PW_ARGON2_PARAMS_RANGE;

	out->scheme = TA_PW_SCHEME_ARGON2ID;
	out->memory_kib = m;
	out->time = t;
	out->parallelism = lanes;
	return TA_OK;
}

/* True when every character is in crypt's base64 alphabet. */
static bool
all_crypt64(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bcrypt_index(s[i]) < 0)
			return false;
	return true;
}

/*
 * Read one of yescrypt's variable-length integers (yescrypt's encode64_uint32: the first
 * character's range says how many characters follow, each carrying six more bits) starting at
 * *s, at least min. Advances *s. Fails on a character outside the alphabet or on overflow.
 */
static bool
yescrypt_uint(const char **s, const char *end, uint32_t min, uint32_t *out)
{
	uint32_t	start = 0,
				stop = 47,
				chars = 1,
				bits = 0;
	uint64_t	v = min;
	int			c;

	if (*s >= end || (c = crypt64_index(**s)) < 0)
		return false;
	(*s)++;
	while ((uint32_t) c > stop)
	{
		v += (uint64_t) (stop + 1 - start) << bits;
		start = stop + 1;
		stop = start + (62 - stop) / 2;
		chars++;
		bits += 6;
	}
	v += (uint64_t) ((uint32_t) c - start) << bits;
	while (--chars)
	{
		if (*s >= end || (c = crypt64_index(**s)) < 0)
			return false;
		(*s)++;
		bits -= 6;
		v += (uint64_t) c << bits;
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t) v;
	return true;
}

/*
 * Parse "$y$<params>$<salt>$<43-char digest>" as libxcrypt writes it. params: the flavor ('j',
 * yescrypt's read-write defaults, which is all libxcrypt makes), log2 N, r, and optionally a
 * field-presence mask followed by p. The time (t), gather (g) and ROM extensions are refused:
 * they change the cost in ways the maxima do not model, and no common tool writes them. Memory
 * is 128 * r * N bytes shared by the p lanes (read-write mode splits N among them, so p does not
 * multiply the work), plus per lane a 128 * r byte block and 12 KiB of S-boxes, plus 256 * r
 * bytes of scratch; that sum is what the memory maximum is held against.
 */
static ta_status
parse_yescrypt(const char *h, size_t len, ta_pw_parsed *out)
{
	const char *p = h + 3;
	const char *end = h + len;
	const char *pend;
	uint32_t	n_log2,
				r,
				have,
				lanes = 1;
	uint64_t	kib;
	size_t		n;

	n = field_len(p, (size_t) (end - p));
	pend = p + n;
	if (n == 0)
		return TA_PW_HASH_MALFORMED;
	if (*p != 'j')
		return TA_PW_HASH_UNSUPPORTED;	/* classic scrypt (WORM) flavors */
	p++;
	if (!yescrypt_uint(&p, pend, 1, &n_log2) || !yescrypt_uint(&p, pend, 1, &r))
		return TA_PW_HASH_MALFORMED;
	if (p < pend)
	{
		if (!yescrypt_uint(&p, pend, 1, &have))
			return TA_PW_HASH_MALFORMED;
		if (have != 1)
			return TA_PW_HASH_UNSUPPORTED;
		if (!yescrypt_uint(&p, pend, 2, &lanes))
			return TA_PW_HASH_MALFORMED;
	}
	if (p != pend)
		return TA_PW_HASH_MALFORMED;
	/* yescrypt's own constraints (N a power of two > 1, N/p >= 2, r*p < 2^30), and r >= 8
	 * so that read-write mode's S-boxes fit a block as libxcrypt requires. */
	if (n_log2 < 1 || n_log2 > 63 || r < 8 || (uint64_t) r * lanes >= (1u << 30) ||
		(n_log2 < 63 && ((uint64_t) 1 << n_log2) / lanes < 2))
		return TA_PW_HASH_MALFORMED;
	/* r < 2^30 and p < 2^30 here, so nothing below overflows 64 bits */
	if (n_log2 > 30)
		kib = UINT32_MAX;
	else
	{
		kib = ((uint64_t) r << n_log2) / 8 + (uint64_t) lanes * (r / 8 + 12) + r / 4;
		if (kib > UINT32_MAX)
			kib = UINT32_MAX;
	}
	p = pend;
	if (p >= end || *p != '$')
		return TA_PW_HASH_MALFORMED;
	p++;

	n = field_len(p, (size_t) (end - p));
	if (n > YESCRYPT_MAX_SALT_CHARS || !all_crypt64(p, n))
		return TA_PW_HASH_MALFORMED;
	p += n;
	if (p >= end || *p != '$')
		return TA_PW_HASH_MALFORMED;
	p++;

	n = (size_t) (end - p);
	if (n != YESCRYPT_DIGEST_CHARS || !all_crypt64(p, n))
		return TA_PW_HASH_MALFORMED;

	out->scheme = TA_PW_SCHEME_YESCRYPT;
	out->memory_kib = (uint32_t) kib;
	out->parallelism = lanes;
	return TA_OK;
}

/* Take a hash string apart and validate its shape; does no hashing and checks no maxima. */
ta_status
ta_password_parse(const char *hash, size_t hash_len, ta_pw_parsed *out)
{
	memset(out, 0, sizeof(*out));
	if (hash_len == 0 || hash_len > TA_PW_HASH_MAX_INPUT || memchr(hash, '\0', hash_len))
		return TA_PW_HASH_MALFORMED;
	if (hash[0] != '$' || hash_len < 3)
		return TA_PW_HASH_MALFORMED;

	if (hash_len >= 4 && hash[1] == '2' && hash[3] == '$' &&
		(hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y'))
		return parse_bcrypt(hash, hash_len, out);
	if (hash_len >= 10 && memcmp(hash, "$argon2id$", 10) == 0)
		return parse_argon2id(hash, hash_len, out);
	if (memcmp(hash, "$y$", 3) == 0)
		return parse_yescrypt(hash, hash_len, out);

	/* "$2x$", "$2$", "$argon2i$", "$6$", ...: a scheme, but not one we read. */
	if (memchr(hash + 1, '$', hash_len - 1) != NULL)
		return TA_PW_HASH_UNSUPPORTED;
	return TA_PW_HASH_MALFORMED;
}

/* Refuse a parsed hash whose cost or parameters exceed the limits. */
ta_status
ta_password_check_limits(const ta_pw_parsed *parsed, const ta_pw_limits *limits)
{
	switch (parsed->scheme)
	{
		case TA_PW_SCHEME_BCRYPT:
			if (parsed->bcrypt_cost > limits->max_bcrypt_cost)
				return TA_PW_COST_OVER_MAX;
			return TA_OK;
		case TA_PW_SCHEME_ARGON2ID:
			if (parsed->memory_kib > limits->max_argon2_memory_kib ||
				parsed->time > limits->max_argon2_time ||
				parsed->parallelism > limits->max_argon2_parallelism)
				return TA_PW_ARGON2_PARAMS_OVER_MAX;
			return TA_OK;
		case TA_PW_SCHEME_YESCRYPT:
			if (parsed->memory_kib > limits->max_argon2_memory_kib)
				return TA_PW_YESCRYPT_OVER_MAX;
			return TA_OK;
	}
	return TA_PW_HASH_UNSUPPORTED;
}

/* Copy a password into a NUL-terminated heap buffer for the libraries; refuses embedded NULs. */
static ta_status
copy_password(const char *password, size_t password_len, char **out)
{
	char	   *buf;

	if (memchr(password, '\0', password_len) != NULL)
		return TA_PW_HAS_NUL;
	buf = ta_malloc(password_len + 1);
	if (buf == NULL)
		return TA_ERR_NOMEM;
	memcpy(buf, password, password_len);
	buf[password_len] = '\0';
	*out = buf;
	return TA_OK;
}

/* Wipe and free a password copy. */
static void
free_password(char *buf, size_t password_len)
{
	if (buf != NULL)
	{
		OPENSSL_cleanse(buf, password_len + 1);
		ta_free(buf);
	}
}

/*
 * Run libxcrypt's crypt_rn on a NUL-terminated password and setting; the result is written to
 * out (NUL-terminated). The work area holds key-dependent state, so it is wiped afterwards.
 */
static ta_status
run_crypt(const char *password, const char *setting, char *out, size_t out_cap)
{
	struct crypt_data *data;
	const char *res;
	ta_status	st = TA_OK;
	size_t		n;

	data = ta_calloc(1, sizeof(*data));
	if (data == NULL)
		return TA_ERR_NOMEM;
	errno = 0;
	res = crypt_rn(password, setting, data, (int) sizeof(*data));
	if (res == NULL || res[0] == '*')
		st = (errno == ENOMEM) ? TA_ERR_NOMEM : TA_ERR_CRYPTO;
	else
	{
		n = strlen(res);
		if (n + 1 > out_cap)
			st = TA_ERR_BUFFER;
		else
			memcpy(out, res, n + 1);
	}
	OPENSSL_cleanse(data, sizeof(*data));
	ta_free(data);
	return st;
}

/* Same with a caller-chosen 16-byte salt (known-answer tests). */
ta_status
ta_password_hash_bcrypt_salted(const char *password, size_t password_len, int cost,
							   const unsigned char *salt, const ta_pw_limits *limits,
							   char *out, size_t out_cap)
{
	char		setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char		result[CRYPT_OUTPUT_SIZE];
	char	   *pw = NULL;
	ta_status	st;

	if (cost < TA_PW_BCRYPT_MIN_COST || cost > TA_PW_BCRYPT_MAX_COST)
		return TA_PW_COST_RANGE;
	if (cost > limits->max_bcrypt_cost)
		return TA_PW_COST_OVER_MAX;
	if (password_len > TA_PW_BCRYPT_MAX_PASSWORD)
		return TA_PW_TOO_LONG;
	if (out_cap < TA_PW_BCRYPT_HASH_LEN + 1)
		return TA_ERR_BUFFER;
	st = copy_password(password, password_len, &pw);
	if (st != TA_OK)
		return st;

	if (crypt_gensalt_rn("$2b$", (unsigned long) cost, (const char *) salt,
						 TA_PW_BCRYPT_SALT_BYTES, setting, (int) sizeof(setting)) == NULL)
		st = TA_ERR_CRYPTO;
	else
		st = run_crypt(pw, setting, result, sizeof(result));
	free_password(pw, password_len);
	if (st != TA_OK)
		return st;
	/* What libxcrypt wrote must be a hash we would read back. */
	if (strlen(result) != TA_PW_BCRYPT_HASH_LEN || memcmp(result, "$2b$", 4) != 0)
		st = TA_ERR_CRYPTO;
	else
		memcpy(out, result, TA_PW_BCRYPT_HASH_LEN + 1);
	OPENSSL_cleanse(result, sizeof(result));
	return st;
}

/* Hash with bcrypt ($2b$) at the given cost and a random salt; writes a NUL-terminated string. */
ta_status
ta_password_hash_bcrypt(const char *password, size_t password_len, int cost,
						const ta_pw_limits *limits, char *out, size_t out_cap)
{
	unsigned char salt[TA_PW_BCRYPT_SALT_BYTES];
	ta_status	st;

	/* Refuse bad arguments before drawing randomness. */
	if (cost < TA_PW_BCRYPT_MIN_COST || cost > TA_PW_BCRYPT_MAX_COST)
		return TA_PW_COST_RANGE;
	if (cost > limits->max_bcrypt_cost)
		return TA_PW_COST_OVER_MAX;
	if (password_len > TA_PW_BCRYPT_MAX_PASSWORD)
		return TA_PW_TOO_LONG;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return TA_PW_RANDOM_FAILED;
	st = ta_password_hash_bcrypt_salted(password, password_len, cost, salt, limits,
										out, out_cap);
	OPENSSL_cleanse(salt, sizeof(salt));
	return st;
}

/* Check argon2id parameters against RFC 9106 §3.1 and the limits. */
static ta_status
check_argon2_params(uint32_t memory_kib, uint32_t time, uint32_t parallelism,
					const ta_pw_limits *limits)
{
	if (time < 1 || parallelism < 1 || parallelism > TA_PW_ARGON2_MAX_LANES ||
		memory_kib < TA_PW_ARGON2_MIN_MEMORY_KIB ||
		(uint64_t) memory_kib < 8 * (uint64_t) parallelism)
		return TA_PW_ARGON2_PARAMS_RANGE;
	if (memory_kib > limits->max_argon2_memory_kib || time > limits->max_argon2_time ||
		parallelism > limits->max_argon2_parallelism)
		return TA_PW_ARGON2_PARAMS_OVER_MAX;
	return TA_OK;
}

/*
 * Compute a raw argon2id (v=19) digest. threads = 1 whatever the lane count: the digest depends
 * on the lanes only, and a backend must not start threads.
 */
static ta_status
argon2id_raw(const char *password, size_t password_len,
			 uint32_t memory_kib, uint32_t time, uint32_t parallelism,
			 const unsigned char *salt, size_t salt_len,
			 unsigned char *digest, size_t digest_len)
{
	argon2_context ctx;
	unsigned char salt_copy[TA_PW_ARGON2_MAX_SALT];
	char	   *pw = NULL;
	ta_status	st;
	int			rc;

	if (salt_len > sizeof(salt_copy) || password_len > UINT32_MAX)
		return TA_ERR_BUFFER;
	st = copy_password(password, password_len, &pw);
	if (st != TA_OK)
		return st;
	memcpy(salt_copy, salt, salt_len);

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = digest;
	ctx.outlen = (uint32_t) digest_len;
	ctx.pwd = (uint8_t *) pw;
	ctx.pwdlen = (uint32_t) password_len;
	ctx.salt = salt_copy;
	ctx.saltlen = (uint32_t) salt_len;
	ctx.t_cost = time;
	ctx.m_cost = memory_kib;
	ctx.lanes = parallelism;
	ctx.threads = 1;
	ctx.version = ARGON2_VERSION_13;
	ctx.flags = ARGON2_DEFAULT_FLAGS;

	rc = argon2_ctx(&ctx, Argon2_id);
	free_password(pw, password_len);
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return TA_ERR_NOMEM;
	if (rc != ARGON2_OK)
		return TA_ERR_CRYPTO;
	return TA_OK;
}

/* Same with a caller-chosen salt and digest length (known-answer tests). */
ta_status
ta_password_hash_argon2id_salted(const char *password, size_t password_len,
								 uint32_t memory_kib, uint32_t time, uint32_t parallelism,
								 const unsigned char *salt, size_t salt_len, size_t digest_len,
								 const ta_pw_limits *limits, char *out, size_t out_cap)
{
	unsigned char digest[TA_PW_ARGON2_MAX_DIGEST];
	ta_status	st;
	int			n;
	size_t		w;

	st = check_argon2_params(memory_kib, time, parallelism, limits);
	if (st != TA_OK)
		return st;
	if (salt_len < TA_PW_ARGON2_MIN_SALT || salt_len > TA_PW_ARGON2_MAX_SALT ||
		digest_len < TA_PW_ARGON2_MIN_DIGEST || digest_len > TA_PW_ARGON2_MAX_DIGEST)
		return TA_ERR_BUFFER;
	if (memchr(password, '\0', password_len) != NULL)
		return TA_PW_HAS_NUL;

	st = argon2id_raw(password, password_len, memory_kib, time, parallelism,
					  salt, salt_len, digest, digest_len);
	if (st != TA_OK)
		return st;

	n = snprintf(out, out_cap, "$argon2id$v=%d$m=%u,t=%u,p=%u$", TA_PW_ARGON2_VERSION,
				 (unsigned) memory_kib, (unsigned) time, (unsigned) parallelism);
	if (n < 0 || (size_t) n >= out_cap)
		/* NOLINTNEXTLINE(bugprone-branch-clone): two different overflows, one status */
		st = TA_ERR_BUFFER;
	else if ((w = b64_encode(salt, salt_len, out + n, out_cap - (size_t) n)) == 0 ||
			 (size_t) n + w + 1 >= out_cap)
		st = TA_ERR_BUFFER;
	else
	{
		n += (int) w;
		out[n++] = '$';
		if (b64_encode(digest, digest_len, out + n, out_cap - (size_t) n) == 0)
			st = TA_ERR_BUFFER;
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	return st;
}

/* Hash with argon2id (v=19) at m/t/p and a random salt; writes a NUL-terminated PHC string. */
ta_status
ta_password_hash_argon2id(const char *password, size_t password_len,
						  uint32_t memory_kib, uint32_t time, uint32_t parallelism,
						  const ta_pw_limits *limits, char *out, size_t out_cap)
{
	unsigned char salt[TA_PW_ARGON2_SALT_BYTES];
	ta_status	st;

	st = check_argon2_params(memory_kib, time, parallelism, limits);
	if (st != TA_OK)
		return st;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return TA_PW_RANDOM_FAILED;
	st = ta_password_hash_argon2id_salted(password, password_len, memory_kib, time, parallelism,
										  salt, sizeof(salt), TA_PW_ARGON2_DIGEST_BYTES,
										  limits, out, out_cap);
	OPENSSL_cleanse(salt, sizeof(salt));
	return st;
}

/* Recompute a crypt(3)-style hash (bcrypt, yescrypt) and compare the full strings. */
static ta_status
verify_crypt(const char *password, size_t password_len, const char *hash, size_t hash_len,
			 bool *match)
{
	char		setting[TA_PW_HASH_MAX_INPUT + 1];
	char		result[CRYPT_OUTPUT_SIZE];
	char	   *pw = NULL;
	ta_status	st;

	st = copy_password(password, password_len, &pw);
	if (st != TA_OK)
		return st;
	memcpy(setting, hash, hash_len);
	setting[hash_len] = '\0';
	st = run_crypt(pw, setting, result, sizeof(result));
	free_password(pw, password_len);
	if (st == TA_OK)
		*match = strlen(result) == hash_len && CRYPTO_memcmp(result, hash, hash_len) == 0;
	OPENSSL_cleanse(result, sizeof(result));
	return st;
}

/*
 * Check a password against a stored hash. *match is set only when TA_OK is returned; a malformed,
 * unsupported or over-limit hash is an error status, a bcrypt password over 72 bytes is no match.
 */
ta_status
ta_password_verify(const char *password, size_t password_len,
				   const char *hash, size_t hash_len,
				   const ta_pw_limits *limits, bool *match)
{
	ta_pw_parsed parsed;
	unsigned char digest[TA_PW_ARGON2_MAX_DIGEST];
	ta_status	st;

	st = ta_password_parse(hash, hash_len, &parsed);
	if (st != TA_OK)
		return st;
	st = ta_password_check_limits(&parsed, limits);
	if (st != TA_OK)
		return st;
	if (memchr(password, '\0', password_len) != NULL)
		return TA_PW_HAS_NUL;

	switch (parsed.scheme)
	{
		case TA_PW_SCHEME_BCRYPT:
			/* bcrypt would read only the first 72 bytes; such a password never matches. */
			if (password_len > TA_PW_BCRYPT_MAX_PASSWORD)
			{
				*match = false;
				return TA_OK;
			}
			return verify_crypt(password, password_len, hash, hash_len, match);

		case TA_PW_SCHEME_YESCRYPT:
			/* libxcrypt cannot hash a longer password, so no stored hash can be of one. */
			if (password_len > TA_PW_CRYPT_MAX_PASSWORD)
			{
				*match = false;
				return TA_OK;
			}
			st = verify_crypt(password, password_len, hash, hash_len, match);
			/* libxcrypt refusing a setting our parser let through is still a bad hash. */
			return st == TA_ERR_CRYPTO ? TA_PW_HASH_MALFORMED : st;

		case TA_PW_SCHEME_ARGON2ID:
			st = argon2id_raw(password, password_len, parsed.memory_kib, parsed.time,
							  parsed.parallelism, parsed.salt, parsed.salt_len,
							  digest, parsed.digest_len);
			if (st == TA_OK)
				*match = CRYPTO_memcmp(digest, parsed.digest, parsed.digest_len) == 0;
			OPENSSL_cleanse(digest, sizeof(digest));
			return st;
	}
	return TA_PW_HASH_UNSUPPORTED;
}

/* Say whether a stored hash is weaker than what the policy would make today. */
ta_status
ta_password_needs_rehash(const char *hash, size_t hash_len, const ta_pw_policy *policy,
						 bool *rehash)
{
	ta_pw_parsed parsed;
	ta_status	st;

	st = ta_password_parse(hash, hash_len, &parsed);
	if (st != TA_OK)
		return st;

	/* Another algorithm than today's (yescrypt is never today's) means a rehash. */
	if (parsed.scheme != policy->algorithm)
	{
		*rehash = true;
		return TA_OK;
	}
	switch (parsed.scheme)
	{
		case TA_PW_SCHEME_BCRYPT:
			/* $2a$ and $2y$ are older spellings; today we write $2b$. */
			*rehash = parsed.bcrypt_minor != 'b' || parsed.bcrypt_cost < policy->bcrypt_cost;
			return TA_OK;
		case TA_PW_SCHEME_ARGON2ID:
			*rehash = parsed.memory_kib < policy->argon2_memory_kib ||
				parsed.time < policy->argon2_time ||
				parsed.parallelism < policy->argon2_parallelism ||
				parsed.salt_len < TA_PW_ARGON2_SALT_BYTES ||
				parsed.digest_len < TA_PW_ARGON2_DIGEST_BYTES;
			return TA_OK;
		case TA_PW_SCHEME_YESCRYPT:
			*rehash = true;
			return TA_OK;
	}
	return TA_PW_HASH_UNSUPPORTED;
}
