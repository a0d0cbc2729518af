/*
 * identity.c: the verified identity of the current transaction (settings jwt.sub and
 * jwt.claims), the functions that read and set it, and the account settings.
 *
 * Forgery protection rests on three things.
 *   - The settings' check hooks refuse every value unless this file is setting it (or a parallel
 *     worker is copying the leader's state), so SET, SET LOCAL, set_config(), ALTER ROLE/DATABASE
 *     ... SET, function SET clauses and the configuration file all fail, for superusers too; the
 *     settings are also PGC_SUSET, so ordinary roles are stopped even earlier.
 *   - The "jwt" prefix is reserved, so a placeholder made before the library was loaded is
 *     removed when it loads and none can be made afterwards.
 *   - current_user_id() is a C function of this library, so calling it loads the library (and so
 *     runs the two steps above) before the value is read.
 * PGC_INTERNAL would refuse SET as well, but PostgreSQL does not copy PGC_INTERNAL settings into
 * parallel workers, where the identity would then read as anonymous; a PGC_SUSET setting with a
 * refusing check hook is copied, which keeps current_user_id() honestly PARALLEL SAFE.
 */
#include "identity.h"
#include "generation.h"
#include "issuers.h"
#include "revocation.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "core/b64url.h"
#include "core/jws.h"
#include "core/token_cache.h"
#include "access/detoast.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"

/* A uuid in canonical text form: 32 hex digits and 4 dashes. */
#define UUID_TEXT_LEN 36

/* jwt.sub: the verified subject (a uuid in canonical text form), '' when anonymous. */
char	   *taskauth_jwt_sub = NULL;

/* jwt.claims: the verified claims as JSON text, '' when anonymous. */
char	   *taskauth_jwt_claims = NULL;

/* taskauth.min_password_length: shortest password register() accepts, in characters. */
int			taskauth_min_password_length = 8;

/* taskauth.token_lifetime: seconds from iat to exp in the access tokens the server issues. */
int			taskauth_token_lifetime = 15 * 60;

/* taskauth.session_lifetime: seconds a session can be refreshed for, from sign-in. */
int			taskauth_session_lifetime = 30 * 24 * 60 * 60;

/* taskauth.session_idle_lifetime: seconds a session can go without a refresh. */
int			taskauth_session_idle_lifetime = 7 * 24 * 60 * 60;

/* taskauth.token_cache_size: verified tokens remembered per backend; 0 turns the cache off. */
int			taskauth_token_cache_size = 1024;

/* The verified-token cache (core/token_cache.c), malloc'd, and the size it was made for. */
static ta_token_cache *token_cache = NULL;
static int	token_cache_made_for = 0;

/*
 * Value of each byte as a hex digit, or -1: a table rather than comparisons, since the digits
 * of a random uuid defeat branch prediction (two uuids per token were 6% of a first sight).
 */
static const signed char hex_values[256] = {
	['0'] = 0 + 1,['1'] = 1 + 1,['2'] = 2 + 1,['3'] = 3 + 1,['4'] = 4 + 1,
	['5'] = 5 + 1,['6'] = 6 + 1,['7'] = 7 + 1,['8'] = 8 + 1,['9'] = 9 + 1,
	['a'] = 10 + 1,['b'] = 11 + 1,['c'] = 12 + 1,['d'] = 13 + 1,['e'] = 14 + 1,['f'] = 15 + 1,
	['A'] = 10 + 1,['B'] = 11 + 1,['C'] = 12 + 1,['D'] = 13 + 1,['E'] = 14 + 1,['F'] = 15 + 1,
};

/* Value of one hex digit, or -1 (the table holds value + 1, so that 0 marks a non-digit). */
static inline int
hex_value(char c)
{
	return hex_values[(unsigned char) c] - 1;
}

/*
 * Parse a uuid in 8-4-4-4-12 hex form (either case) without raising: true on success. Faster
 * than uuid_in, and the only form a token's sub may take.
 */
static bool
parse_uuid(const char *s, size_t len, pg_uuid_t *out)
{
	/* where each byte's two digits start */
	static const unsigned char at[UUID_LEN] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
	int			bad = 0;

	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	for (int b = 0; b < UUID_LEN; b++)
	{
		int			hi = hex_value(s[at[b]]);
		int			lo = hex_value(s[at[b] + 1]);

		bad |= hi | lo;			/* negative once any is not a digit */
		out->data[b] = (unsigned char) ((unsigned) hi << 4 | (unsigned) lo);
	}
	return bad >= 0;
}

/* Write the canonical lower-case text form of a uuid (37 bytes with the NUL). */
static void
format_uuid(const pg_uuid_t *u, char *out)
{
	static const char digits[] = "0123456789abcdef";
	char	   *p = out;

	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = digits[u->data[i] >> 4];
		*p++ = digits[u->data[i] & 0xf];
	}
	*p = '\0';
}

/* Changes of jwt.sub's value in this process so far (assign_jwt_sub). */
static uint64 jwt_sub_version = 0;

/* True only while identity_set() is changing jwt.sub and jwt.claims. */
static bool identity_setting = false;

/* Refuse a value for jwt.sub or jwt.claims unless taskauth itself is setting it. */
static bool
identity_check(const char *name, GucSource source)
{
	if (identity_setting || InitializingParallelWorker || source == PGC_S_DEFAULT)
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("parameter \"%s\" can only be set by taskauth.authenticate()", name);
	return false;
}

/* Check hook of jwt.sub. */
static bool
check_jwt_sub(char **newval, void **extra, GucSource source)
{
	return identity_check("jwt.sub", source);
}

/*
 * Assign hook of jwt.sub. PostgreSQL calls it on every change of the value: authenticate()
 * setting it, and the undoing at the end of a transaction or subtransaction, a parallel worker
 * copying its leader's, a reset. current_user_id() keys what it parsed on this count.
 */
static void
assign_jwt_sub(const char *newval, void *extra)
{
	jwt_sub_version++;
}

/* Check hook of jwt.claims. */
static bool
check_jwt_claims(char **newval, void **extra, GucSource source)
{
	return identity_check("jwt.claims", source);
}

/* Define the identity settings and reserve the jwt prefix. */
void
TaskauthIdentityInit(void)
{
	DefineCustomStringVariable("jwt.sub",
							   "Verified user id (JWT sub) of the current transaction.",
							   "Set only by a successful taskauth.authenticate(), transaction-locally; "
							   "empty when the transaction is anonymous. It cannot be set by SET or set_config().",
							   &taskauth_jwt_sub,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_jwt_sub, assign_jwt_sub, NULL);

	DefineCustomStringVariable("jwt.claims",
							   "Verified JWT claims of the current transaction, as JSON text.",
							   "Set only by a successful taskauth.authenticate(), transaction-locally; "
							   "empty when the transaction is anonymous. It cannot be set by SET or set_config().",
							   &taskauth_jwt_claims,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_jwt_claims, NULL, NULL);

	/*
	 * Remove placeholders such as jwt.sub set before this library was loaded, and refuse new
	 * ones under the prefix (PostgreSQL 15 and later; older servers only warn).
	 */
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("jwt");
#else
	EmitWarningsOnPlaceholders("jwt");
#endif

	DefineCustomIntVariable("taskauth.min_password_length",
							"Shortest password, in characters, that taskauth.register() accepts.",
							"Only superusers may change it, so that a client cannot lower it for its own session.",
							&taskauth_min_password_length,
							8, 1, 1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.token_cache_size",
							"Verified tokens that authenticate() remembers in each backend.",
							"A token presented again skips decoding, the MAC and parsing; its exp, nbf and iat "
							"are checked on every use, and any change to the signing keys or the issuer "
							"registry empties the cache; an external issuer's token read from a key table is "
							"verified again once those keys are due to be read again. 0 turns the cache off.",
							&taskauth_token_cache_size,
							1024, 0, 1024 * 1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.token_lifetime",
							"Lifetime of the access tokens that login(), sign_in() and refresh() issue.",
							"The token's exp claim is its iat plus this many seconds. Short, since refresh() "
							"gives a new one; only superusers may change it, so that a client cannot mint "
							"long-lived tokens for itself.",
							&taskauth_token_lifetime,
							15 * 60, 1, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.session_lifetime",
							"How long a session started by sign_in() can be refreshed, from its start.",
							"After this, refresh() refuses its refresh token and the user signs in again.",
							&taskauth_session_lifetime,
							30 * 24 * 60 * 60, 60, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.session_idle_lifetime",
							"How long a session can go without a refresh before refresh() refuses it.",
							NULL,
							&taskauth_session_idle_lifetime,
							7 * 24 * 60 * 60, 60, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	TaskauthKeysInit();
}

/*
 * What one call site of current_user_id() parsed last: called in a policy as a direct call (not
 * the documented subquery), it runs once per row a filter looks at, and parsing jwt.sub every
 * time was most of that. Keyed by jwt_sub_version, never by the setting's address: a freed
 * setting's memory can hold the next transaction's identity.
 */
typedef struct CurrentUserCache
{
	uint64		version;		/* jwt_sub_version when id was parsed */
	pg_uuid_t  *id;				/* in the call site's memory; replaced, never overwritten */
} CurrentUserCache;

/* Return the verified user id of the current transaction, or NULL when anonymous. */
PG_FUNCTION_INFO_V1(taskauth_current_user_id);
Datum
taskauth_current_user_id(PG_FUNCTION_ARGS)
{
	const char *sub = taskauth_jwt_sub;
	FmgrInfo   *flinfo = fcinfo->flinfo;
	CurrentUserCache *c;
	pg_uuid_t  *id;

	if (sub == NULL || sub[0] == '\0')
		PG_RETURN_NULL();
	c = flinfo != NULL ? (CurrentUserCache *) flinfo->fn_extra : NULL;
	if (c != NULL && c->version == jwt_sub_version)
		PG_RETURN_UUID_P(c->id);

	/* only identity_set() writes the value, always in canonical form */
	if (strlen(sub) != UUID_TEXT_LEN)
		elog(ERROR, "jwt.sub does not hold a uuid");
	id = flinfo != NULL ? MemoryContextAlloc(flinfo->fn_mcxt, sizeof(pg_uuid_t)) :
		palloc(sizeof(pg_uuid_t));
	if (!parse_uuid(sub, UUID_TEXT_LEN, id))
		elog(ERROR, "jwt.sub does not hold a uuid");
	if (flinfo != NULL)
	{
		/*
		 * A new uuid for a new identity: a value returned before may still be held by the
		 * caller. Identities change at most a few times within one statement.
		 */
		if (c == NULL)
			flinfo->fn_extra = c = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(CurrentUserCache));
		c->version = jwt_sub_version;
		c->id = id;
	}
	PG_RETURN_UUID_P(id);
}

/* Return the verified claims of the current transaction, or NULL when anonymous. */
PG_FUNCTION_INFO_V1(taskauth_claims);
Datum
taskauth_claims(PG_FUNCTION_ARGS)
{
	if (taskauth_jwt_claims == NULL || taskauth_jwt_claims[0] == '\0')
		PG_RETURN_NULL();
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(taskauth_jwt_claims));
}

/*
 * Append a JSON string literal, escaped exactly as escape_json() does (so the text equals
 * JsonbToCString's), but copying runs of plain bytes at once instead of one byte at a time.
 * Jsonb strings hold no NUL, so len bounds the value.
 */
static void
claims_append_string(StringInfo buf, const char *s, int len)
{
	int			run = 0;

	appendStringInfoChar(buf, '"');
	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *esc;

		if (c >= ' ' && c != '"' && c != '\\')
			continue;
		appendBinaryStringInfo(buf, s + run, i - run);
		run = i + 1;
		switch (c)
		{
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			default:
				appendStringInfo(buf, "\\u%04x", (int) c);
				continue;
		}
		appendStringInfoString(buf, esc);
	}
	appendBinaryStringInfo(buf, s + run, len - run);
	appendStringInfoChar(buf, '"');
}

/* Append a scalar as JsonbToCString writes it. */
static void
claims_append_scalar(StringInfo buf, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(buf, "null", 4);
			break;
		case jbvString:
			claims_append_string(buf, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(buf, "true", 4);
			else
				appendBinaryStringInfo(buf, "false", 5);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d in claims", (int) v->type);
	}
}

/*
 * The claims as JSON text, byte for byte what JsonbToCString (jsonb_out) gives: ", " between
 * members and elements, ": " after keys. jwt.claims is a setting, so it must hold text (parallel
 * workers copy it); this writer is cheaper than JsonbToCString, whose escaping goes a byte at a
 * time and which was the largest part of authenticate() outside verification.
 */
static char *
claims_to_text(Jsonb *claims)
{
	StringInfoData buf;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	bool		first = true;
	bool		raw_scalar = false;

	initStringInfo(&buf);
	it = JsonbIteratorInit(&claims->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				if (!first)
					appendBinaryStringInfo(&buf, ", ", 2);
				/* a raw scalar is a one-element pseudo array, written bare */
				raw_scalar = v.val.array.rawScalar;
				if (!raw_scalar)
					appendStringInfoChar(&buf, '[');
				first = true;
				break;
			case WJB_BEGIN_OBJECT:
				if (!first)
					appendBinaryStringInfo(&buf, ", ", 2);
				appendStringInfoChar(&buf, '{');
				first = true;
				break;
			case WJB_KEY:
				if (!first)
					appendBinaryStringInfo(&buf, ", ", 2);
				claims_append_string(&buf, v.val.string.val, v.val.string.len);
				appendBinaryStringInfo(&buf, ": ", 2);
				/* the value follows: a scalar as WJB_VALUE, a container as WJB_BEGIN_* */
				tok = JsonbIteratorNext(&it, &v, false);
				if (tok == WJB_VALUE)
				{
					claims_append_scalar(&buf, &v);
					first = false;
				}
				else if (tok == WJB_BEGIN_OBJECT)
				{
					appendStringInfoChar(&buf, '{');
					first = true;
				}
				else if (tok == WJB_BEGIN_ARRAY)
				{
					appendStringInfoChar(&buf, '[');
					first = true;
				}
				else
					elog(ERROR, "unexpected jsonb iterator token %d in claims", (int) tok);
				break;
			case WJB_ELEM:
				if (!first)
					appendBinaryStringInfo(&buf, ", ", 2);
				claims_append_scalar(&buf, &v);
				first = false;
				break;
			case WJB_END_ARRAY:
				/* the iterator sets no value here; only the top level can be a raw scalar */
				if (!raw_scalar)
					appendStringInfoChar(&buf, ']');
				first = false;
				break;
			case WJB_END_OBJECT:
				appendStringInfoChar(&buf, '}');
				first = false;
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d in claims", (int) tok);
		}
	}
	return buf.data;
}

/*
 * Make sub and claims the identity of the current transaction. GUC_ACTION_LOCAL puts the values
 * on the GUC stack at the current nesting level, so they are undone at COMMIT and ROLLBACK, and
 * by the rollback of a subtransaction they were set in, exactly like SET LOCAL.
 */
static void
identity_set(const char *sub, const char *claims_json)
{
	int			ok1 = 0,
				ok2 = 0;

	identity_setting = true;
	PG_TRY();
	{
		ok1 = set_config_option("jwt.claims", claims_json, PGC_SUSET, PGC_S_SESSION,
								GUC_ACTION_LOCAL, true, ERROR, false);
		ok2 = set_config_option("jwt.sub", sub, PGC_SUSET, PGC_S_SESSION,
								GUC_ACTION_LOCAL, true, ERROR, false);
	}
	PG_FINALLY();
	{
		identity_setting = false;
	}
	PG_END_TRY();
	if (ok1 <= 0 || ok2 <= 0)
		elog(ERROR, "could not set the identity of the transaction");
}

/* The verified-token cache as taskauth.token_cache_size asks, or NULL when it is off. */
static ta_token_cache *
token_cache_get(void)
{
	if (token_cache != NULL && token_cache_made_for == taskauth_token_cache_size)
		return token_cache;
	ta_token_cache_destroy(token_cache);
	token_cache = NULL;
	token_cache_made_for = 0;
	if (taskauth_token_cache_size > 0)
	{
		/* out of memory only costs speed: tokens are then verified every time */
		token_cache = ta_token_cache_create((size_t) taskauth_token_cache_size);
		if (token_cache != NULL)
			token_cache_made_for = taskauth_token_cache_size;
	}
	return token_cache;
}

/* The bytes a key verifies a token with: its derived access-token key for at+jwt, else its secret. */
static inline const char *
key_bytes(const TaskauthKey *key, bool at_jwt, size_t *len)
{
	*len = at_jwt ? TASKAUTH_AT_KEY_LEN : key->secret_len;
	return at_jwt ? key->at_key : key->secret;
}

/*
 * taskauth.backend_stats(): this backend's caches, for operators and for tests that must show
 * a path was taken (a cache hit, a read of new revocations). Owner only.
 */
PG_FUNCTION_INFO_V1(taskauth_backend_stats);
Datum
taskauth_backend_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[13];
	bool		nulls[13] = {0};
	ta_token_cache_counts tc = {0};
	TaskauthRevocationStats rs;
	int			i = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "backend_stats must return a record");
	desc = BlessTupleDesc(desc);
	if (token_cache != NULL)
		ta_token_cache_counters(token_cache, &tc);
	taskauth_revocation_stats(&rs);
	values[i++] = Int32GetDatum(MyProcPid);
	values[i++] = Int64GetDatum((int64) tc.hits);
	values[i++] = Int64GetDatum((int64) tc.misses);
	values[i++] = Int64GetDatum((int64) tc.evictions);
	values[i++] = Int64GetDatum((int64) tc.entries);
	values[i++] = Int64GetDatum((int64) tc.bytes);
	values[i++] = Int64GetDatum((int64) rs.full_loads);
	values[i++] = Int64GetDatum((int64) rs.loads);
	values[i++] = Int64GetDatum((int64) rs.sweeps);
	values[i++] = Int64GetDatum((int64) rs.sessions);
	values[i++] = Int64GetDatum((int64) rs.users);
	values[i++] = Int64GetDatum((int64) rs.bytes);
	values[i++] = Int64GetDatum((int64) taskauth_issuer_key_reads());
	Assert(i == lengthof(values));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * Pick the key for a token without a kid: the newest active key whose MAC matches. Only the
 * signature is checked here, with the non-raising core calls; the caller verifies fully.
 */
static const TaskauthKey *
key_for_kidless_token(const char *token, size_t len, const TaskauthKey *keys, int nkeys,
					  bool at_jwt)
{
	ta_jws_parts parts;
	ta_jws_header hdr;
	char	   *buf;
	size_t		cap;

	if (nkeys == 1)
		return &keys[0];
	TA_CHECK(ta_jws_split(token, len, &parts));
	cap = TA_B64URL_DECODED_MAX(parts.header_len);
	buf = palloc(cap);
	TA_CHECK(ta_jws_parse_header(&parts, buf, cap, &hdr));
	pfree(buf);
	for (int i = 0; i < nkeys; i++)
	{
		ta_hmac    *h;
		ta_status	st;

		size_t		klen;
		const char *k = key_bytes(&keys[i], at_jwt, &klen);

		TA_CHECK(ta_hmac_new(hdr.alg, (const uint8 *) k, klen, &h));
		st = ta_jws_check_signature(&parts, hdr.alg, h);
		ta_hmac_free(h);
		if (st == TA_OK)
			return &keys[i];
	}
	taskauth_report(TA_JWT_SIGNATURE_MISMATCH);
}

/* A claim of the verified claims, or NULL; buf holds it when it is a scalar. */
static JsonbValue *
claim_value(Jsonb *claims, const char *name, JsonbValue *buf)
{
	return getKeyJsonValueFromContainer(&claims->root, name, (int) strlen(name), buf);
}

/*
 * A string claim of the verified claims, or NULL when it is absent or not a string: from the
 * flat view (flat_val, flat_len) when there is no jsonb, else looked up in the jsonb.
 */
static const char *
claim_string(Jsonb *claims, const char *flat_val, int flat_len, const char *name, int *len)
{
	JsonbValue	buf;
	JsonbValue *v;

	if (claims == NULL)
	{
		*len = flat_len;
		return flat_val;
	}
	v = claim_value(claims, name, &buf);
	if (v == NULL || v->type != jbvString)
		return NULL;
	/* a string's bytes lie in the jsonb, not in buf */
	*len = v->val.string.len;
	return v->val.string.val;
}

/* A numeric claim as a double, or false. */
static bool
claim_number(Jsonb *claims, const char *name, double *out)
{
	JsonbValue	buf;
	JsonbValue *v = claim_value(claims, name, &buf);

	if (v == NULL || v->type != jbvNumeric)
		return false;
	*out = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	return true;
}

/*
 * Verify a token with the server's active keys, make its sub (a uuid) and claims the identity
 * of the current transaction, and return the sub. Every failure is SQLSTATE 28000.
 */
PG_FUNCTION_INFO_V1(taskauth_authenticate);
Datum
taskauth_authenticate(PG_FUNCTION_ARGS)
{
	text	   *token;
	const char *tok;
	size_t		toklen;
	char	   *kid;
	bool		hmac;
	const TaskauthKey *key;
	Jsonb	   *claims;
	char		subtext[37];
	char	   *claims_text;
	pg_uuid_t  *id;
	uint64		generation;
	ta_token_cache *cache;
	ta_jws_times times;
	TaskauthFlatClaims flat = {0};
	TaskauthVerifyOptions opts = {NULL, NULL, &times, &flat};
	const char *sub_str;
	int			sub_len;
	pg_uuid_t	sid;
	bool		has_sid = false;
	bool		external;
	bool		at_jwt = false;
	uint64		key_read = 0;
	const char *kbytes;
	size_t		klen;

	/* refuse an oversized token before detoasting it */
	taskauth_check_token_size(PG_GETARG_DATUM(0));
	token = PG_GETARG_TEXT_PP(0);
	tok = VARDATA_ANY(token);
	toklen = VARSIZE_ANY_EXHDR(token);

	/* key, issuer and revocation changes committed elsewhere arrive before anything is read */
	AcceptInvalidationMessages();
	taskauth_revocations_sync();
	generation = taskauth_generation_keys();
	id = palloc(sizeof(pg_uuid_t));

	/* A token verified before under the same keys: only its time claims can have changed. */
	cache = token_cache_get();
	if (cache != NULL)
	{
		ta_cached_token *hit = ta_token_cache_get(cache, tok, toklen, generation);

		/* an external issuer's token is taken on trust only while its keys stand unread */
		if (hit != NULL && hit->key_read != 0 && !taskauth_issuer_keys_current(hit->key_read))
			hit = NULL;
		if (hit != NULL)
		{
			TA_CHECK(ta_jws_check_times(&hit->times, taskauth_statement_now(),
										(double) taskauth_leeway));
			/* looked up again only once the revoked sets may have changed */
			if (hit->revocations_checked != taskauth_revocations_epoch())
			{
				if (taskauth_token_revoked(hit->id, hit->has_sid ? hit->sid : NULL,
										   hit->times.has_iat, hit->times.iat))
					taskauth_report(TA_ID_TOKEN_REVOKED);
				hit->revocations_checked = taskauth_revocations_epoch();
			}
			memcpy(id->data, hit->id, UUID_LEN);
			format_uuid(id, subtext);
			identity_set(subtext, hit->claims);
			PG_RETURN_UUID_P(id);
		}
	}

	/*
	 * An HMAC token is the server's own, verified with its keys; any other is an external
	 * issuer's, verified with that issuer's public keys (issuers.c).
	 */
	hmac = taskauth_jwt_header_hmac(tok, toklen, &kid, &at_jwt);
	claims = hmac ? NULL : taskauth_issuer_verify(tok, toklen, &key_read);
	external = (claims != NULL);
	if (!external)
	{
		/* not HMAC and no issuer's: raises what is wrong with its header */
		if (!hmac)
			kid = taskauth_jwt_header_kid(tok, toklen);
		if (kid != NULL)
		{
			key = taskauth_keys_find(kid, strlen(kid));
			if (key == NULL)
				taskauth_report(TA_JWT_KID_UNKNOWN);
		}
		else
		{
			int			nkeys;
			const TaskauthKey *keys = taskauth_keys_active(&nkeys);

			if (nkeys == 0)
				taskauth_report(TA_JWT_NO_KEY);
			key = key_for_kidless_token(tok, toklen, keys, nkeys, at_jwt);
		}

		/*
		 * One key per kind of token (RFC 8725 §3.11): the server's own access tokens (typ
		 * at+jwt, aud taskauth) verify only with the key derived from a secret; any other HMAC
		 * token only with the secret itself, as an issuer that shares it signs them.
		 */
		kbytes = key_bytes(key, at_jwt, &klen);
		if (at_jwt)
			opts.audience = TASKAUTH_AT_AUDIENCE;
		/* NULL when the claims are flat: then flat holds what is needed, and no jsonb is built */
		claims = taskauth_jwt_verify_hmac(tok, toklen, kbytes, klen, &opts);

		/* a registered issuer's tokens are public-key signed: a MAC never stands in for them */
		if (hmac)
		{
			int			iss_len;
			const char *iss = claim_string(claims, flat.iss, flat.iss_len, "iss", &iss_len);

			if (iss != NULL && taskauth_issuer_registered(iss, iss_len))
				taskauth_report(TA_JWT_ALG_NOT_ALLOWED);
		}
	}

	sub_str = claim_string(claims, flat.sub, flat.sub_len, "sub", &sub_len);
	if (sub_str == NULL)
		taskauth_report(TA_ID_SUB_MISSING);
	if (!parse_uuid(sub_str, sub_len, id))
		taskauth_report(TA_ID_SUB_NOT_UUID);

	/*
	 * Revoked? A token names its session in sid: the server's own session, or an external
	 * issuer's whose session table taskauth follows (follow_issuer_sessions); a sid that is not a
	 * uuid names no session taskauth can revoke. The user's revocation (by iat) applies to all.
	 */
	if (external)
	{
		int			sid_len;
		const char *sid_str = claim_string(claims, NULL, 0, "sid", &sid_len);

		/* verified already; kept for the checks on every later use */
		memset(&times, 0, sizeof(times));
		times.has_exp = claim_number(claims, "exp", &times.exp);
		times.has_nbf = claim_number(claims, "nbf", &times.nbf);
		times.has_iat = claim_number(claims, "iat", &times.iat);
		has_sid = sid_str != NULL && parse_uuid(sid_str, sid_len, &sid);
		if (taskauth_token_revoked(id->data, has_sid ? sid.data : NULL, times.has_iat, times.iat))
			taskauth_report(TA_ID_TOKEN_REVOKED);
	}
	else
	{
		int			sid_len;
		const char *sid_str = claim_string(claims, flat.sid, flat.sid_len, "sid", &sid_len);

		has_sid = sid_str != NULL && parse_uuid(sid_str, sid_len, &sid);
		if (taskauth_token_revoked(id->data, has_sid ? sid.data : NULL, times.has_iat, times.iat))
			taskauth_report(TA_ID_TOKEN_REVOKED);
	}

	/* store the canonical (lower-case) form */
	format_uuid(id, subtext);
	/* the verifier writes the text of the server's own tokens' claims from the token itself */
	claims_text = claims == NULL ? flat.text : claims_to_text(claims);
	identity_set(subtext, claims_text);

	/* remember it, unless the keys changed while it was being verified */
	if (cache != NULL && generation == taskauth_generation_keys())
	{
		ta_cached_token value;

		memset(&value, 0, sizeof(value));
		memcpy(value.id, id->data, UUID_LEN);
		value.has_sid = has_sid;
		if (has_sid)
			memcpy(value.sid, sid.data, UUID_LEN);
		value.times = times;
		value.key_read = key_read;
		value.claims = claims_text;
		value.claims_len = strlen(claims_text);
		value.revocations_checked = taskauth_revocations_epoch();
		(void) ta_token_cache_put(cache, tok, toklen, generation, &value);
	}
	PG_RETURN_UUID_P(id);
}

/*
 * Sign {aud, sub, email, iat, exp} as an access token (typ at+jwt, aud "taskauth") with the key
 * derived from the newest active key (its kid in the header); iat is the transaction's start,
 * exp is iat plus taskauth.token_lifetime. The three-argument form names the token's session:
 * {aud, sub, email, sid, iat, exp}.
 */
PG_FUNCTION_INFO_V1(taskauth_issue_token);
Datum
taskauth_issue_token(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id = PG_GETARG_UUID_P(0);
	char		idtext[37];
	text	   *email = PG_GETARG_TEXT_PP(1);
	int			nkeys;
	const TaskauthKey *keys = taskauth_keys_active(&nkeys);
	int64		iat;
	StringInfoData buf;
	Datum		claims;
	char	   *tok;

	if (nkeys == 0)
		taskauth_report(TA_ID_NO_SIGNING_KEY);

	/* whole seconds, rounded down, so iat is never later than the statement's clock */
	iat = (int64) (timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"aud\":\"" TASKAUTH_AT_AUDIENCE "\",\"sub\":");
	format_uuid(id, idtext);
	escape_json(&buf, idtext);
	appendStringInfoString(&buf, ",\"email\":");
	escape_json(&buf, text_to_cstring(email));
	if (PG_NARGS() > 2)
	{
		char		sidtext[37];

		format_uuid(PG_GETARG_UUID_P(2), sidtext);
		appendStringInfoString(&buf, ",\"sid\":");
		escape_json(&buf, sidtext);
	}
	appendStringInfo(&buf, ",\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT "}",
					 iat, iat + (int64) taskauth_token_lifetime);
	claims = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));

	/* never with the secret itself, which another issuer may sign other tokens with */
	tok = taskauth_jwt_sign_hmac(DatumGetJsonbP(claims), "HS256", "at+jwt", keys[0].kid,
								 keys[0].at_key, TASKAUTH_AT_KEY_LEN);
	PG_RETURN_TEXT_P(cstring_to_text(tok));
}
