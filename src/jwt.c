/*
 * jwt.c: SQL glue for JWT signing and verification (HS256/384/512).
 *
 * The token work is done by src/core/jws.c; this file adds what needs the server: the
 * taskauth.leeway setting, the statement clock, per-backend caches, and jsonb conversion.
 *
 * Caches (all per backend, outliving transactions; memory from the caches' context, cache.c):
 *   - keyed HMAC contexts by (algorithm, secret bytes), a few entries, least recently used
 *     evicted and its secret copy wiped; keying HMAC costs more than MACing a short token;
 *   - the last header segment that passed the header checks, with its algorithm and kid, since
 *     one issuer's tokens almost always share the same header;
 *   - a payload buffer reused for small tokens.
 * Nothing is cached before it has been fully checked, so a cache hit never skips a check.
 */
#include "taskauth.h"
#include "cache.h"
#include "verified.h"

#include <openssl/crypto.h>

#include "core/b64url.h"
#include "core/jws.h"
#include "core/jwk.h"
#include "access/detoast.h"
#include "access/xact.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* taskauth.leeway: seconds of clock skew allowed on exp, nbf and iat. */
#define DEFAULT_LEEWAY 30
int			taskauth_leeway = DEFAULT_LEEWAY;

/* taskauth.max_token_size: the largest token, in bytes, that verification looks at. */
#define DEFAULT_MAX_TOKEN_SIZE 16384
int			taskauth_max_token_size = DEFAULT_MAX_TOKEN_SIZE;

#define KEY_CACHE_SIZE 8
#define HEADER_CACHE_MAX 1024
#define PAYLOAD_BUF_SIZE 8192
#define MAX_MEMBERS 32			/* top-level claims recorded in one pass; more fall back */

typedef struct KeyCacheEntry
{
	TaskauthSlot slot;			/* first: see taskauth_slot_lookup */
	ta_hmac    *hmac;
	ta_jws_alg	alg;
	uint8	   *secret;			/* a copy, wiped on eviction */
	size_t		secret_len;
} KeyCacheEntry;

/* What get_hmac looks for. */
typedef struct KeyCacheKey
{
	ta_jws_alg	alg;
	const char *secret;
	size_t		secret_len;
} KeyCacheKey;

static KeyCacheEntry key_cache[KEY_CACHE_SIZE];

/* The last header segment that passed ta_jws_parse_header, and what it said. */
static struct
{
	char		seg[HEADER_CACHE_MAX];
	size_t		len;			/* 0: empty */
	ta_jws_alg	alg;
	bool		has_kid;
	bool		at_jwt;
	char		kid[HEADER_CACHE_MAX];
	size_t		kid_len;
}			header_cache;

static char payload_buf[PAYLOAD_BUF_SIZE];

PG_FUNCTION_INFO_V1(taskauth_jwt_sign);
PG_FUNCTION_INFO_V1(taskauth_jwt_verify);

/* Define the jwt settings. */
void
TaskauthJwtInit(void)
{
	DefineCustomIntVariable("taskauth.leeway",
							"Seconds of clock skew allowed when checking a token's exp, nbf and iat claims.",
							"A token counts as expired only once the current time reaches exp plus this "
							"many seconds, and nbf and iat may lie this far in the future.",
							&taskauth_leeway,
							DEFAULT_LEEWAY, 0, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("taskauth.max_token_size",
							"Largest token, in bytes, that authenticate() and jwt_verify() accept.",
							"A longer token is refused with SQLSTATE 28000 before any of it is "
							"decoded, and before it is decompressed when it is stored compressed. "
							"Real tokens stay far below the default; the maximum is 1 MB.",
							&taskauth_max_token_size,
							DEFAULT_MAX_TOKEN_SIZE, 1024, TA_JWS_MAX_TOKEN_LEN,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/*
 * Refuse a token argument longer than taskauth.max_token_size. toast_raw_datum_size reads the
 * length from the varlena header, so an oversized token is neither detoasted nor decompressed.
 */
void
taskauth_check_token_size(Datum token)
{
	if (toast_raw_datum_size(token) - VARHDRSZ > (Size) taskauth_max_token_size)
		taskauth_report(TA_JWT_TOO_LARGE);
}

/* Drop a key cache slot, wiping its secret. */
static void
key_cache_evict(KeyCacheEntry *e)
{
	if (e->hmac != NULL)
		ta_hmac_free(e->hmac);
	if (e->secret != NULL)
	{
		OPENSSL_cleanse(e->secret, e->secret_len);
		pfree(e->secret);
	}
	memset(e, 0, sizeof(*e));
}

static bool
key_cache_match(const void *entry, const void *key)
{
	const KeyCacheEntry *e = entry;
	const KeyCacheKey *k = key;

	return e->alg == k->alg && e->secret_len == k->secret_len &&
		CRYPTO_memcmp(e->secret, k->secret, k->secret_len) == 0;
}

/* Return a keyed HMAC context for (alg, secret), from the cache or newly made. */
static ta_hmac *
get_hmac(ta_jws_alg alg, const char *secret, size_t secret_len)
{
	KeyCacheKey key = {.alg = alg,.secret = secret,.secret_len = secret_len};
	KeyCacheEntry *found;
	KeyCacheEntry *victim;
	void	   *slot;
	ta_hmac    *h;
	uint8	   *copy;

	found = taskauth_slot_lookup(key_cache, KEY_CACHE_SIZE, sizeof(KeyCacheEntry),
								 key_cache_match, &key, &slot);
	if (found != NULL)
		return found->hmac;
	victim = slot;

	/*
	 * A public key's text is known to everyone: as an HMAC secret it would let anyone sign.
	 * Checked here, once per secret a backend meets, since recognising every spelling of a key
	 * (base64 DER included) costs more than verifying a token.
	 */
	if (ta_jwk_text_is_public_key(secret, secret_len))
		taskauth_report(TA_ARG_SECRET_IS_PUBLIC_KEY);
	TA_CHECK(ta_hmac_new(alg, (const uint8 *) secret, secret_len, &h));
	copy = MemoryContextAllocExtended(TaskauthCacheContext, Max(secret_len, 1), MCXT_ALLOC_NO_OOM);
	if (copy == NULL)
	{
		ta_hmac_free(h);
		taskauth_report(TA_ERR_NOMEM);
	}
	memcpy(copy, secret, secret_len);
	key_cache_evict(victim);
	victim->hmac = h;
	victim->alg = alg;
	victim->secret = copy;
	victim->secret_len = secret_len;
	taskauth_slot_fill(&victim->slot);
	return h;
}

/*
 * Parse and check the header segment, via the one-entry cache; returns the algorithm. With
 * kid_out, also gives the header's kid unescaped (palloc'd, NUL-terminated) or NULL; with
 * at_jwt_out, whether its typ is "at+jwt".
 */
static ta_jws_alg
checked_header(const ta_jws_parts *parts, char **kid_out, bool *at_jwt_out)
{
	ta_jws_header hdr;
	size_t		cap,
				kid_len = 0;
	char	   *buf;
	char	   *kid = NULL;

	if (header_cache.len != 0 && parts->header_len == header_cache.len &&
		memcmp(parts->header, header_cache.seg, header_cache.len) == 0)
	{
		if (kid_out != NULL)
			*kid_out = header_cache.has_kid ?
				pnstrdup(header_cache.kid, header_cache.kid_len) : NULL;
		if (at_jwt_out != NULL)
			*at_jwt_out = header_cache.at_jwt;
		return header_cache.alg;
	}

	cap = TA_B64URL_DECODED_MAX(parts->header_len);
	buf = palloc(cap);
	TA_CHECK(ta_jws_parse_header(parts, buf, cap, &hdr));
	if (hdr.has_kid)
	{
		/* unescaping never makes a string longer */
		kid = palloc(hdr.kid.len + 1);
		TA_CHECK(ta_json_string_unescape(hdr.kid, kid, hdr.kid.len, &kid_len));
		kid[kid_len] = '\0';
	}
	/* a kid is shorter than its header, so it fits the cache whenever the header does */
	if (parts->header_len <= HEADER_CACHE_MAX)
	{
		memcpy(header_cache.seg, parts->header, parts->header_len);
		header_cache.len = parts->header_len;
		header_cache.alg = hdr.alg;
		header_cache.has_kid = hdr.has_kid;
		header_cache.at_jwt = hdr.at_jwt;
		header_cache.kid_len = kid_len;
		if (kid != NULL)
			memcpy(header_cache.kid, kid, kid_len);
	}
	pfree(buf);
	if (kid_out != NULL)
		*kid_out = kid;
	else if (kid != NULL)
		pfree(kid);
	if (at_jwt_out != NULL)
		*at_jwt_out = hdr.at_jwt;
	return hdr.alg;
}

/* The statement start time in seconds since the Unix epoch (stable within a statement). */
double
taskauth_statement_now(void)
{
	TimestampTz ts = GetCurrentStatementStartTimestamp();

	return (double) ts / USECS_PER_SEC +
		(double) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
}

/* Order object pairs as jsonb stores them: shorter keys first, then bytewise; ties by input. */
static int
pair_cmp(const void *a, const void *b)
{
	const JsonbPair *pa = a;
	const JsonbPair *pb = b;
	int			la = pa->key.val.string.len,
				lb = pb->key.val.string.len;
	int			r;

	if (la != lb)
		return la < lb ? -1 : 1;
	r = memcmp(pa->key.val.string.val, pb->key.val.string.val, la);
	if (r != 0)
		return r;
	/* later duplicates first, so that keeping the first of a run keeps the last one given */
	return pa->order > pb->order ? -1 : 1;
}

/* Fill a jbvString from a validated JSON string that may hold escapes. */
static void
build_string_known(ta_json_span v, bool escaped, JsonbValue *out)
{
	out->type = jbvString;
	if (!escaped)
	{
		/* points into the payload buffer, which outlives JsonbValueToJsonb */
		out->val.string.val = (char *) v.ptr + 1;
		out->val.string.len = (int) v.len - 2;
	}
	else
	{
		char	   *buf = palloc(v.len);
		size_t		n;

		TA_CHECK(ta_json_string_unescape(v, buf, v.len, &n));
		out->val.string.val = buf;
		out->val.string.len = (int) n;
	}
}

/* Fill a jbvString from a validated JSON string, unescaping only when it has escapes. */
static void
build_string(ta_json_span v, JsonbValue *out)
{
	build_string_known(v, memchr(v.ptr, '\\', v.len) != NULL, out);
}

/*
 * The numeric of an integer of up to 18 digits, byte for byte as int64_to_numeric makes it
 * (the short format: base-10000 digits without leading or trailing zero digits, scale 0),
 * without its general-purpose variable and the copy and free around it.
 */
static Numeric
small_int_numeric(bool neg, uint64 u)
{
	int16		digs[5];		/* base 10000, least significant first; 10^18 < 10000^5 */
	int			nd = 0,
				lo = 0,
				i;
	uint16		header;
	Numeric		res;
	int16	   *out;

	while (u != 0)
	{
		digs[nd++] = (int16) (u % 10000);
		u /= 10000;
	}
	while (lo < nd && digs[lo] == 0)
		lo++;
	/* zero: no digits, weight 0, positive; otherwise weight nd - 1 (0..4) */
	header = 0x8000;			/* NUMERIC_SHORT */
	if (nd > 0)
	{
		if (neg)
			header |= 0x2000;	/* NUMERIC_SHORT_SIGN_MASK */
		header |= (uint16) (nd - 1);	/* NUMERIC_SHORT_WEIGHT_MASK bits */
	}
	res = (Numeric) palloc(VARHDRSZ + sizeof(uint16) + (nd - lo) * sizeof(int16));
	SET_VARSIZE(res, VARHDRSZ + sizeof(uint16) + (nd - lo) * sizeof(int16));
	memcpy((char *) res + VARHDRSZ, &header, sizeof(uint16));
	out = (int16 *) ((char *) res + VARHDRSZ + sizeof(uint16));
	for (i = nd - 1; i >= lo; i--)
		/* cppcheck-suppress uninitvar ; digs[lo..nd) were all written by the loop above */
		*out++ = digs[i];
	return res;
}

/* Whether a validated JSON number is a plain integer: no fraction, no exponent. */
static inline bool
json_number_is_integer(ta_json_span v)
{
	return memchr(v.ptr, '.', v.len) == NULL && memchr(v.ptr, 'e', v.len) == NULL &&
		memchr(v.ptr, 'E', v.len) == NULL;
}

/* Fill a jbvNumeric from a validated JSON number, exactly as numeric_in reads it. */
static void
build_number(ta_json_span v, JsonbValue *out)
{
	char	   *cstr;

	out->type = jbvNumeric;
#if PG_VERSION_NUM >= 140000 && !defined(TASKAUTH_SERVER_NUMERIC)
	/* plain integers of up to 18 digits: same value and scale as numeric_in gives */
	if (v.len <= 18 && json_number_is_integer(v))
	{
		const char *p = v.ptr;
		const char *end = v.ptr + v.len;
		bool		neg = (*p == '-');
		int64		n = 0;

		if (neg)
			p++;
		while (p < end)
			n = n * 10 + (*p++ - '0');
		out->val.numeric = small_int_numeric(neg, (uint64) n);
		return;
	}
#endif
	cstr = pnstrdup(v.ptr, v.len);
	out->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cstr),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
	pfree(cstr);
}

/* Make out a jbvObject of pairs[0..n), sorted and with one pair per key as jsonb keeps them. */
static void
finish_object(JsonbPair *pairs, int n, JsonbValue *out)
{
	int			kept = n;
	int			i;

	if (n > 1)
	{
		if (n <= MAX_MEMBERS)
		{
			/*
			 * Claims sets are small: an insertion sort moving whole structs is several times
			 * cheaper here than qsort, which swaps these large elements byte by byte.
			 */
			for (i = 1; i < n; i++)
			{
				JsonbPair	tmp = pairs[i];
				int			j = i;

				while (j > 0 && pair_cmp(&pairs[j - 1], &tmp) > 0)
				{
					pairs[j] = pairs[j - 1];
					j--;
				}
				pairs[j] = tmp;
			}
		}
		else
			qsort(pairs, n, sizeof(JsonbPair), pair_cmp);
		/* jsonb keeps one pair per key, the last one given (sorted first) */
		kept = 1;
		for (i = 1; i < n; i++)
		{
			if (pairs[i].key.val.string.len != pairs[kept - 1].key.val.string.len ||
				memcmp(pairs[i].key.val.string.val, pairs[kept - 1].key.val.string.val,
					   pairs[i].key.val.string.len) != 0)
				pairs[kept++] = pairs[i];
		}
	}
	out->type = jbvObject;
	out->val.object.nPairs = kept;
	out->val.object.pairs = pairs;
}

/*
 * Serialize an object whose values are all scalars straight into jsonb's on-disk format, as
 * JsonbValueToJsonb would (keys' entries then values' entries, an offset in every
 * JB_OFFSET_STRIDE'th entry, numerics int-aligned), in one palloc sized up front rather than a
 * growing buffer. Returns NULL when some value is an array or object.
 */
static Jsonb *
flat_object_to_jsonb(const JsonbValue *obj)
{
	int			n = obj->val.object.nPairs;
	const JsonbPair *pairs = obj->val.object.pairs;
	size_t		cap = VARHDRSZ + sizeof(uint32) + 2 * (size_t) n * sizeof(JEntry);
	size_t		off;
	uint32		totallen = 0;
	char	   *buf;
	JEntry	   *je;
	int			i;

	for (i = 0; i < n; i++)
	{
		const JsonbValue *v = &pairs[i].value;

		cap += pairs[i].key.val.string.len;
		if (v->type == jbvString)
			cap += v->val.string.len;
		else if (v->type == jbvNumeric)
			cap += (sizeof(int32) - 1) + VARSIZE_ANY(v->val.numeric);
		else if (v->type != jbvBool && v->type != jbvNull)
			return NULL;
	}
	if (cap > JENTRY_OFFLENMASK)
		return NULL;

	buf = palloc(cap);
	*(uint32 *) (buf + VARHDRSZ) = (uint32) n | JB_FOBJECT;
	je = (JEntry *) (buf + VARHDRSZ + sizeof(uint32));
	off = VARHDRSZ + sizeof(uint32) + 2 * (size_t) n * sizeof(JEntry);
	for (i = 0; i < 2 * n; i++)
	{
		const JsonbValue *v = i < n ? &pairs[i].key : &pairs[i - n].value;
		uint32		len = 0;
		JEntry		meta;

		switch (v->type)
		{
			case jbvString:
				len = (uint32) v->val.string.len;
				memcpy(buf + off, v->val.string.val, len);
				off += len;
				meta = JENTRY_ISSTRING | len;
				break;
			case jbvNumeric:
				{
					/* the padding to an int boundary counts in the entry's length */
					size_t		pad = INTALIGN(off) - off;
					size_t		numlen = VARSIZE_ANY(v->val.numeric);

					memset(buf + off, 0, pad);
					memcpy(buf + off + pad, v->val.numeric, numlen);
					off += pad + numlen;
					len = (uint32) (pad + numlen);
					meta = JENTRY_ISNUMERIC | len;
					break;
				}
			case jbvBool:
				meta = v->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
				break;
			default:
				meta = JENTRY_ISNULL;
				break;
		}
		totallen += len;
		if (i % JB_OFFSET_STRIDE == 0)
			meta = (meta & JENTRY_TYPEMASK) | totallen | JENTRY_HAS_OFF;
		je[i] = meta;
	}
	SET_VARSIZE(buf, off);
	return (Jsonb *) buf;
}

/*
 * Build the JsonbValue tree of a validated JSON value, the way jsonb_in would, without its
 * general-purpose lexer: the core validator has already refused everything jsonb_in refuses.
 */
static void
build_jsonb_value(ta_json_type t, ta_json_span v, JsonbValue *out)	/* NOLINT(misc-no-recursion): validated JSON, at most TA_JSON_MAX_DEPTH deep */
{
	ta_json_iter it;
	ta_json_span k,
				e;
	ta_json_type et;
	int			n;

	switch (t)
	{
		case TA_JSON_STRING:
			build_string(v, out);
			break;
		case TA_JSON_NUMBER:
			build_number(v, out);
			break;
		case TA_JSON_TRUE:
		case TA_JSON_FALSE:
			out->type = jbvBool;
			out->val.boolean = (t == TA_JSON_TRUE);
			break;
		case TA_JSON_NULL:
			out->type = jbvNull;
			break;
		case TA_JSON_ARRAY:
			{
				int			cap = 8;
				JsonbValue *elems;

				check_stack_depth();
				elems = palloc(sizeof(JsonbValue) * cap);

				n = 0;
				ta_json_iter_init(&it, v);
				while (ta_json_iter_element(&it, &et, &e))
				{
					if (n == cap)
						elems = repalloc(elems, sizeof(JsonbValue) * (cap *= 2));
					build_jsonb_value(et, e, &elems[n++]);
				}
				out->type = jbvArray;
				out->val.array.nElems = n;
				out->val.array.rawScalar = false;
				out->val.array.elems = elems;
				break;
			}
		case TA_JSON_OBJECT:
			{
				int			cap = 16;
				JsonbPair  *pairs;

				check_stack_depth();
				pairs = palloc(sizeof(JsonbPair) * cap);

				n = 0;
				ta_json_iter_init(&it, v);
				while (ta_json_iter_member(&it, &k, &et, &e))
				{
					if (n == cap)
						pairs = repalloc(pairs, sizeof(JsonbPair) * (cap *= 2));
					build_string(k, &pairs[n].key);
					build_jsonb_value(et, e, &pairs[n].value);
					pairs[n].order = n;
					n++;
				}
				finish_object(pairs, n, out);
				break;
			}
		default:
			elog(ERROR, "unexpected json value type %d", (int) t);
	}
}

/*
 * The jsonb of a validated, NUL-terminated UTF-8 JSON object text. members[0..count) are its
 * top-level members as the validator recorded them, or members is NULL.
 */
static Jsonb *
payload_to_jsonb(char *payload, size_t len, const ta_json_member *members, size_t count)
{
	JsonbValue	root;
	ta_json_span obj;

	/*
	 * Another database encoding needs the text converted, and \u escapes too, which jsonb_in
	 * does along with parsing. A character the encoding lacks makes those raise their own error
	 * (a data exception, class 22); it is replaced by a token error so that every failure of
	 * verification is SQLSTATE 28000. Any other error (a cancel, out of memory) goes on as it is.
	 */
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		MemoryContext mcxt = CurrentMemoryContext;
		Jsonb	   *volatile jb = NULL;

		PG_TRY();
		{
			char	   *conv = pg_any_to_server(payload, (int) len, PG_UTF8);
#if PG_VERSION_NUM >= 160000
			/* jsonb_in's own errors come back softly, without unwinding */
			ErrorSaveContext escontext = {T_ErrorSaveContext};
			Datum		d;

			if (DirectInputFunctionCallSafe(jsonb_in, conv, InvalidOid, -1,
											(Node *) &escontext, &d))
				jb = DatumGetJsonbP(d);
#else
			jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(conv)));
#endif
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(mcxt);
			edata = CopyErrorData();
			if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			{
				FreeErrorData(edata);
				PG_RE_THROW();
			}
			FreeErrorData(edata);
			FlushErrorState();
			jb = NULL;
		}
		PG_END_TRY();
		if (jb == NULL)
			taskauth_report(TA_JWT_ENCODING);
		return jb;
	}
#ifdef TASKAUTH_SERVER_JSONB
	/* bench/jsonb_writers.sh's baseline: the server's own parser instead of the builder below */
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(payload)));
#endif
	if (members != NULL)
	{
		/* the top level was scanned already, escapes noted: no second pass over it */
		JsonbPair  *pairs = palloc(sizeof(JsonbPair) * Max(count, 1));
		size_t		i;

		for (i = 0; i < count; i++)
		{
			build_string_known(members[i].key, members[i].key_escaped, &pairs[i].key);
			if (members[i].type == TA_JSON_STRING)
				build_string_known(members[i].value, members[i].value_escaped,
								   &pairs[i].value);
			else
				build_jsonb_value(members[i].type, members[i].value, &pairs[i].value);
			pairs[i].order = (uint32) i;
		}
		finish_object(pairs, (int) count, &root);
		{
			Jsonb	   *flat = flat_object_to_jsonb(&root);

#ifdef TASKAUTH_SERVER_JSONB_WRITER
			/* bench/jsonb_writers.sh's baseline: the server's writer for flat objects too */
			flat = NULL;
#endif
			return flat != NULL ? flat : JsonbValueToJsonb(&root);
		}
	}
	obj.ptr = payload;
	obj.len = len;
	while (*obj.ptr != '{')
		obj.ptr++, obj.len--;
	while (obj.ptr[obj.len - 1] != '}')
		obj.len--;
	build_jsonb_value(TA_JSON_OBJECT, obj, &root);
	return JsonbValueToJsonb(&root);
}

/* The core's claim checks as the caller's options and the settings ask (opts may be NULL). */
void
taskauth_claim_opts(const TaskauthVerifyOptions *opts, ta_jws_claim_opts *co)
{
	co->now = taskauth_statement_now();
	co->leeway = taskauth_leeway;
	co->audience = (opts && opts->audience) ? opts->audience : NULL;
	co->audience_len = co->audience ? strlen(co->audience) : 0;
	co->issuer = (opts && opts->issuer) ? opts->issuer : NULL;
	co->issuer_len = co->issuer ? strlen(co->issuer) : 0;
	co->times_out = opts ? opts->times_out : NULL;
}

/* Whether two unescaped keys, quotes included, are in jsonb's order: shorter first, then bytes. */
static inline int
raw_key_cmp(ta_json_span a, ta_json_span b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return memcmp(a.ptr, b.ptr, a.len);
}

/* Whether an unescaped key, quotes included, is name (three letters). */
static inline bool
raw_key_is(ta_json_span k, const char *name)
{
	return k.len == 5 && memcmp(k.ptr + 1, name, 3) == 0;
}

/*
 * Fill out from the top-level members of verified claims when every value is a scalar and no
 * key or string holds an escape; false otherwise. The text is byte for byte what jsonb_out
 * gives for the claims' jsonb: members in jsonb's key order, one per key (the last given),
 * ", " and ": " between them; a key, a string, true, false and null as the token spells them
 * (without escapes JSON and jsonb_out spell them alike); an integer as its digits (numeric_out
 * writes the same, but for "-0"); any other number through numeric_in and numeric_out.
 */
static bool
flat_claims(const ta_json_member *members, size_t count, TaskauthVerifiedToken *out)
{
	int			order[MAX_MEMBERS];
	const char *numtext[MAX_MEMBERS];
	int			kept;
	size_t		size = 2;
	size_t		i;
	char	   *p;

	Assert(count <= MAX_MEMBERS);
#ifdef TASKAUTH_SERVER_JSONB
	/* bench/jsonb_writers.sh's baseline: jsonb_in, then jsonb_out's text */
	return false;
#endif
	for (i = 0; i < count; i++)
	{
		const ta_json_member *m = &members[i];

		if (m->key_escaped || m->type == TA_JSON_OBJECT || m->type == TA_JSON_ARRAY ||
			(m->type == TA_JSON_STRING && m->value_escaped))
			return false;
	}

	/* jsonb's order; of equal keys the later first, so that keeping the first keeps the last */
	for (i = 0; i < count; i++)
	{
		int			j = (int) i;

		while (j > 0 && raw_key_cmp(members[order[j - 1]].key, members[i].key) >= 0)
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = (int) i;
	}
	/* one per key */
	kept = count > 0 ? 1 : 0;
	for (i = 1; i < count; i++)
		if (raw_key_cmp(members[order[i]].key, members[order[kept - 1]].key) != 0)
			order[kept++] = order[i];

	/* the size, writing out the numbers numeric_out spells differently */
	for (int k = 0; k < kept; k++)
	{
		const ta_json_member *m = &members[order[k]];
		ta_json_span v = m->value;

		numtext[k] = NULL;
		if (m->type == TA_JSON_NUMBER && !json_number_is_integer(v))
		{
			char	   *cstr = pnstrdup(v.ptr, v.len);
			Datum		num = DirectFunctionCall3(numeric_in, CStringGetDatum(cstr),
												  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

			numtext[k] = DatumGetCString(DirectFunctionCall1(numeric_out, num));
		}
		else if (m->type == TA_JSON_NUMBER && v.len == 2 && v.ptr[0] == '-' && v.ptr[1] == '0')
			numtext[k] = "0";	/* JSON has no leading zeros: only minus zero differs */
		size += (k > 0 ? 2 : 0) + m->key.len + 2 + (numtext[k] != NULL ? strlen(numtext[k]) : v.len);
	}

	out->sub.val = out->sid.val = out->iss.val = NULL;
	out->sub.len = out->sid.len = out->iss.len = 0;
	out->claims_text = p = palloc(size + 1);
	*p++ = '{';
	for (int k = 0; k < kept; k++)
	{
		const ta_json_member *m = &members[order[k]];
		ta_json_span v = m->value;

		if (k > 0)
		{
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, m->key.ptr, m->key.len);
		p += m->key.len;
		memcpy(p, ": ", 2);
		p += 2;
		if (m->type == TA_JSON_STRING)
		{
			/* the value without its quotes, where it lands in the text */
			const char *val = p + 1;
			int			len = (int) v.len - 2;

			if (raw_key_is(m->key, "sub"))
				out->sub.val = val, out->sub.len = len;
			else if (raw_key_is(m->key, "sid"))
				out->sid.val = val, out->sid.len = len;
			else if (raw_key_is(m->key, "iss"))
				out->iss.val = val, out->iss.len = len;
		}
		if (numtext[k] != NULL)
		{
			size_t		n = strlen(numtext[k]);

			memcpy(p, numtext[k], n);
			p += n;
		}
		else
		{
			memcpy(p, v.ptr, v.len);
			p += v.len;
		}
	}
	*p++ = '}';
	*p = '\0';
	Assert((size_t) (p - out->claims_text) <= size);
	return true;
}

/*
 * Verify an HMAC-signed token with the given secret and return its claims; raises SQLSTATE
 * 28000 on any failure. opts may be NULL (no audience or issuer check). With flat, claims that
 * flat_claims can write come back there instead, and NULL is returned.
 */
static Jsonb *
verify_hmac(const char *token, size_t token_len, const char *secret, size_t secret_len,
			const TaskauthVerifyOptions *opts, TaskauthVerifiedToken *flat)
{
	ta_jws_parts parts;
	ta_jws_alg	alg;
	ta_jws_claim_opts co;
	char	   *payload;
	size_t		cap,
				payload_len,
				count;
	ta_json_member members[MAX_MEMBERS];
	Jsonb	   *result;

	if (token_len > (size_t) taskauth_max_token_size)
		taskauth_report(TA_JWT_TOO_LARGE);
	TA_CHECK(ta_jws_split(token, token_len, &parts));
	alg = checked_header(&parts, NULL, NULL);
	if (secret_len == 0)
		taskauth_report(TA_JWT_SIGNATURE_MISMATCH);
	TA_CHECK(ta_jws_check_signature(&parts, alg, get_hmac(alg, secret, secret_len)));

	cap = TA_B64URL_DECODED_MAX(parts.payload_len) + 1;
	payload = cap <= sizeof(payload_buf) ? payload_buf : palloc(cap);
	TA_CHECK(ta_jws_decode_payload_members(&parts, payload, cap, &payload_len,
										   members, MAX_MEMBERS, &count));

	taskauth_claim_opts(opts, &co);
	if (count <= MAX_MEMBERS)
		TA_CHECK(ta_jws_check_claims_members(members, count, &co));
	else
		TA_CHECK(ta_jws_check_claims(payload, payload_len, &co));

	/* flat claims, as authenticate() asks: no jsonb at all */
	if (flat != NULL)
	{
		if (count <= MAX_MEMBERS && GetDatabaseEncoding() == PG_UTF8 &&
			flat_claims(members, count, flat))
		{
			if (payload != payload_buf)
				pfree(payload);
			return NULL;
		}
	}

	/* The core validator only passes JSON that jsonb accepts: no error can arise here. */
	result = payload_to_jsonb(payload, payload_len, count <= MAX_MEMBERS ? members : NULL, count);
	if (payload != payload_buf)
		pfree(payload);
	return result;
}

Jsonb *
taskauth_jwt_verify_hmac(const char *token, size_t token_len, const char *secret,
						 size_t secret_len, const TaskauthVerifyOptions *opts)
{
	return verify_hmac(token, token_len, secret, secret_len, opts, NULL);
}

/* A string member of a jsonb object, pointing into the jsonb; val NULL when absent or not one. */
static TaskauthClaimString
jsonb_string_claim(Jsonb *claims, const char *name)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(&claims->root, name, (int) strlen(name), &buf);
	TaskauthClaimString out = {0};

	/* a string's bytes lie in the jsonb, not in buf */
	if (v != NULL && v->type == jbvString)
	{
		out.val = v->val.string.val;
		out.len = v->val.string.len;
	}
	return out;
}

void
taskauth_verified_from_jsonb(Jsonb *claims, TaskauthVerifiedToken *out)
{
	out->sub = jsonb_string_claim(claims, "sub");
	out->sid = jsonb_string_claim(claims, "sid");
	out->iss = jsonb_string_claim(claims, "iss");
	out->claims_text = JsonbToCString(NULL, &claims->root, VARSIZE(claims));
}

void
taskauth_jwt_verify_hmac_token(const char *token, size_t token_len, const char *key,
							   size_t key_len, const char *audience, TaskauthVerifiedToken *out)
{
	TaskauthVerifyOptions opts = {.audience = audience,.times_out = &out->times};
	Jsonb	   *claims;

	memset(out, 0, sizeof(*out));
	claims = verify_hmac(token, token_len, key, key_len, &opts, out);
	if (claims != NULL)
		taskauth_verified_from_jsonb(claims, out);
}

/*
 * Return the "kid" of a token's protected header (palloc'd, NUL-terminated) or NULL when it
 * has none. Checks structure and header like verification does; checks no signature.
 */
char *
taskauth_jwt_header_kid(const char *token, size_t token_len)
{
	ta_jws_parts parts;
	char	   *kid;

	TA_CHECK(ta_jws_split(token, token_len, &parts));
	(void) checked_header(&parts, &kid, NULL);
	return kid;
}

/*
 * Whether a token's header is one the server's keys could verify: well formed, alg HS256, HS384
 * or HS512. Then *kid_out is as taskauth_jwt_header_kid gives it; otherwise NULL, and nothing
 * is raised, since such a token may be an external issuer's. Tokens of one signer share their
 * header, so this is nearly always a comparison with the one-entry header cache.
 */
bool
taskauth_jwt_header_hmac(const char *token, size_t token_len, char **kid_out, bool *at_jwt_out)
{
	ta_jws_parts parts;

	*kid_out = NULL;
	*at_jwt_out = false;
	if (ta_jws_split(token, token_len, &parts) != TA_OK)
		return false;
	if (header_cache.len == 0 || parts.header_len != header_cache.len ||
		memcmp(parts.header, header_cache.seg, header_cache.len) != 0)
	{
		ta_jws_header hdr;
		size_t		cap = TA_B64URL_DECODED_MAX(parts.header_len);
		char	   *buf = palloc(cap);
		bool		hmac = ta_jws_parse_header(&parts, buf, cap, &hdr) == TA_OK;

		pfree(buf);
		if (!hmac)
			return false;
	}
	(void) checked_header(&parts, kid_out, at_jwt_out);
	return true;
}

/* The jsonb of a verified payload (validated, NUL-terminated UTF-8 JSON object text). */
Jsonb *
taskauth_payload_to_jsonb(char *payload, size_t len)
{
	return payload_to_jsonb(payload, len, NULL, 0);
}

/* Append a jsonb scalar as JSON text. */
static void
append_scalar(StringInfo out, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(out, "null");
			break;
		case jbvBool:
			appendStringInfoString(out, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																			NumericGetDatum(v->val.numeric))));
			break;
		case jbvString:
			{
				char	   *str = pnstrdup(v->val.string.val, v->val.string.len);

				escape_json(out, str);
				pfree(str);
				break;
			}
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

/*
 * Write a jsonb value as compact JSON (no insignificant whitespace, as JWT libraries emit it);
 * jsonb's own output puts a space after every ':' and ','.
 */
static void
jsonb_to_compact(StringInfo out, Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	v;
	JsonbIteratorToken r;
	bool		need_comma = false;

	while ((r = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (r)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				if (need_comma)
					appendStringInfoChar(out, ',');
				appendStringInfoChar(out, r == WJB_BEGIN_OBJECT ? '{' : '[');
				need_comma = false;
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				appendStringInfoChar(out, r == WJB_END_OBJECT ? '}' : ']');
				need_comma = true;
				break;
			case WJB_KEY:
				if (need_comma)
					appendStringInfoChar(out, ',');
				append_scalar(out, &v);
				appendStringInfoChar(out, ':');
				need_comma = false;
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				if (need_comma)
					appendStringInfoChar(out, ',');
				append_scalar(out, &v);
				need_comma = true;
				break;
			default:
				break;
		}
	}
}

/*
 * Sign claims with an HMAC algorithm ("HS256", "HS384", "HS512"); kid (may be NULL) goes into
 * the header. Returns a palloc'd NUL-terminated compact JWS.
 */
char *
taskauth_jwt_sign_hmac(Jsonb *claims, const char *alg_name, const char *typ, const char *kid,
					   const char *secret, size_t secret_len)
{
	ta_jws_alg	alg = ta_jws_alg_from_name(alg_name, strlen(alg_name));
	StringInfoData hdr;
	StringInfoData body;
	char	   *payload;
	size_t		payload_len,
				cap,
				outlen;
	char	   *out;

	if (alg == TA_JWS_ALG_INVALID)
		taskauth_report(TA_ARG_ALG_UNSUPPORTED);
	if (secret_len == 0)
		taskauth_report(TA_ARG_SECRET_EMPTY);
	if (!JB_ROOT_IS_OBJECT(claims) || JB_ROOT_IS_SCALAR(claims))
		taskauth_report(TA_ARG_CLAIMS_NOT_OBJECT);

	initStringInfo(&hdr);
	appendStringInfo(&hdr, "{\"alg\":\"%s\",\"typ\":", ta_jws_alg_name(alg));
	escape_json(&hdr, typ != NULL ? typ : "JWT");
	if (kid != NULL)
	{
		appendStringInfoString(&hdr, ",\"kid\":");
		escape_json(&hdr, kid);
	}
	appendStringInfoChar(&hdr, '}');

	initStringInfo(&body);
	jsonb_to_compact(&body, claims);
	payload = body.data;
	payload_len = body.len;
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		payload = pg_server_to_any(payload, (int) payload_len, PG_UTF8);
		payload_len = strlen(payload);
	}

	cap = ta_jws_signed_len(alg, hdr.len, payload_len) + 1;
	out = palloc(cap);
	TA_CHECK(ta_jws_sign(alg, get_hmac(alg, secret, secret_len), hdr.data, hdr.len,
						 payload, payload_len, out, cap, &outlen));
	pfree(hdr.data);
	pfree(payload);
	return out;
}

/* taskauth.jwt_sign(claims jsonb, secret text, algorithm text): a compact JWS. */
Datum
taskauth_jwt_sign(PG_FUNCTION_ARGS)
{
	Jsonb	   *claims = PG_GETARG_JSONB_P(0);
	text	   *secret = PG_GETARG_TEXT_PP(1);
	char	   *alg = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *tok;

	tok = taskauth_jwt_sign_hmac(claims, alg, NULL, NULL,
								 VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
	PG_RETURN_TEXT_P(cstring_to_text(tok));
}

/*
 * taskauth.jwt_verify(token text, secret text [, audience text, issuer text]): the claims of a
 * valid token. NULL token or secret gives NULL; NULL audience or issuer skips that check.
 */
Datum
taskauth_jwt_verify(PG_FUNCTION_ARGS)
{
	text	   *token;
	text	   *secret;
	TaskauthVerifyOptions opts = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	taskauth_check_token_size(PG_GETARG_DATUM(0));
	token = PG_GETARG_TEXT_PP(0);
	secret = PG_GETARG_TEXT_PP(1);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		opts.audience = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		opts.issuer = text_to_cstring(PG_GETARG_TEXT_PP(3));

	PG_RETURN_JSONB_P(taskauth_jwt_verify_hmac(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
											   VARDATA_ANY(secret),
											   VARSIZE_ANY_EXHDR(secret), &opts));
}
