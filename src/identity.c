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
#include "cache.h"
#include "issuers.h"
#include "revocation.h"
#include "verified.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "core/b64url.h"
#include "core/jws.h"
#include "core/token_cache.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* jwt.sub: the verified subject (a uuid in canonical text form), '' when anonymous. */
static char *jwt_sub = NULL;

/* jwt.claims: the verified claims as JSON text, '' when anonymous. */
static char *jwt_claims = NULL;

/* taskauth.token_lifetime: seconds from iat to exp in the access tokens the server issues. */
#define DEFAULT_TOKEN_LIFETIME (15 * 60)
static int	token_lifetime = DEFAULT_TOKEN_LIFETIME;

/*
 * Value of each byte as a hex digit, or -1: a table rather than comparisons, since the digits
 * of a random uuid defeat branch prediction, and two uuids are parsed per first sight.
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
bool
taskauth_parse_uuid(const char *s, size_t len, pg_uuid_t *out)
{
	/* where each byte's two digits start */
	static const unsigned char at[UUID_LEN] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
	int			bad = 0;

	if (len != UUID_TEXT_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
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

/* Write the canonical lower-case text form of a uuid (UUID_TEXT_LEN bytes and a NUL). */
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

/* The generation of jwt.sub: its changes in this process so far (assign_jwt_sub). */
static uint64 jwt_sub_generation = 0;

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
	jwt_sub_generation++;
}

bool
taskauth_identity_verified(void)
{
	return jwt_sub != NULL && jwt_sub[0] != '\0';
}

/*
 * Show hooks of jwt.sub and jwt.claims: current_setting() and SHOW read the identity through
 * them, so a policy written current_setting('jwt.sub') takes the lazy identity as
 * current_user_id() does.
 */
static const char *
show_jwt_sub(void)
{
	if (!taskauth_identity_verified())
		(void) taskauth_lazy_identity();
	return jwt_sub != NULL ? jwt_sub : "";
}

static const char *
show_jwt_claims(void)
{
	if (!taskauth_identity_verified())
		(void) taskauth_lazy_identity();
	return jwt_claims != NULL ? jwt_claims : "";
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
							   &jwt_sub,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_jwt_sub, assign_jwt_sub, show_jwt_sub);

	DefineCustomStringVariable("jwt.claims",
							   "Verified JWT claims of the current transaction, as JSON text.",
							   "Set only by a successful taskauth.authenticate(), transaction-locally; "
							   "empty when the transaction is anonymous. It cannot be set by SET or set_config().",
							   &jwt_claims,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   check_jwt_claims, NULL, show_jwt_claims);

	/*
	 * Remove placeholders such as jwt.sub set before this library was loaded, and refuse new
	 * ones under the prefix (PostgreSQL 15 and later; older servers only warn).
	 */
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("jwt");
#else
	EmitWarningsOnPlaceholders("jwt");
#endif

	DefineCustomIntVariable("taskauth.token_lifetime",
							"Lifetime of the access tokens that login(), sign_in() and refresh() issue.",
							"The token's exp claim is its iat plus this many seconds. Short, since refresh() "
							"gives a new one; only superusers may change it, so that a client cannot mint "
							"long-lived tokens for itself.",
							&token_lifetime,
							DEFAULT_TOKEN_LIFETIME, 1, 10 * 366 * 24 * 60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	TaskauthLazyInit();
}

/*
 * What one call site of current_user_id() parsed last: called in a policy as a direct call (not
 * the documented subquery), it runs once per row a filter looks at, and parsing jwt.sub every
 * time was most of that. Keyed by jwt_sub_generation, never by the setting's address: a freed
 * setting's memory can hold the next transaction's identity.
 */
typedef struct CurrentUserCache
{
	uint64		generation;		/* jwt_sub_generation when id was parsed */
	pg_uuid_t  *id;				/* in the call site's memory; replaced, never overwritten */
} CurrentUserCache;

/* Return the verified user id of the current transaction, or NULL when anonymous. */
PG_FUNCTION_INFO_V1(taskauth_current_user_id);
Datum
taskauth_current_user_id(PG_FUNCTION_ARGS)
{
	const char *sub = jwt_sub;
	FmgrInfo   *flinfo = fcinfo->flinfo;
	CurrentUserCache *c;
	pg_uuid_t  *id;

	if (sub == NULL || sub[0] == '\0')
	{
		/* nothing verified yet: the bearer token of request.headers, if any */
		if (!taskauth_lazy_identity())
			PG_RETURN_NULL();
		sub = jwt_sub;
	}
	c = flinfo != NULL ? (CurrentUserCache *) flinfo->fn_extra : NULL;
	if (c != NULL && c->generation == jwt_sub_generation)
		PG_RETURN_UUID_P(c->id);

	/* only identity_set() writes the value, always in canonical form */
	if (strlen(sub) != UUID_TEXT_LEN)
		elog(ERROR, "jwt.sub does not hold a uuid");
	id = flinfo != NULL ? MemoryContextAlloc(flinfo->fn_mcxt, sizeof(pg_uuid_t)) :
		palloc(sizeof(pg_uuid_t));
	if (!taskauth_parse_uuid(sub, UUID_TEXT_LEN, id))
		elog(ERROR, "jwt.sub does not hold a uuid");
	if (flinfo != NULL)
	{
		/*
		 * A new uuid for a new identity: a value returned before may still be held by the
		 * caller. Identities change at most a few times within one statement.
		 */
		if (c == NULL)
			flinfo->fn_extra = c = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(CurrentUserCache));
		c->generation = jwt_sub_generation;
		c->id = id;
	}
	PG_RETURN_UUID_P(id);
}

/* taskauth.load_library(): calling it loads the library, which is all it is for. */
PG_FUNCTION_INFO_V1(taskauth_load_library);
Datum
taskauth_load_library(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}

/* Return the verified claims of the current transaction, or NULL when anonymous. */
PG_FUNCTION_INFO_V1(taskauth_claims);
Datum
taskauth_claims(PG_FUNCTION_ARGS)
{
	if ((jwt_claims == NULL || jwt_claims[0] == '\0') && !taskauth_lazy_identity())
		PG_RETURN_NULL();
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(jwt_claims));
}

/*
 * Make a verified token's sub and claims the identity of the current transaction, and return
 * the sub. GUC_ACTION_LOCAL puts the values on the GUC stack at the current nesting level, so
 * they are undone at COMMIT and ROLLBACK, and by the rollback of a subtransaction they were set
 * in, exactly like SET LOCAL.
 */
static pg_uuid_t *
identity_set(const ta_cached_token *t)
{
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	char		sub[UUID_TEXT_LEN + 1];
	const char *claims_json = t->claims;
	int			ok1 = 0,
				ok2 = 0;

	memcpy(id->data, t->id, UUID_LEN);
	/* the canonical (lower-case) form */
	format_uuid(id, sub);

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
	return id;
}

/* The bytes a key verifies a token with: its derived access-token key for at+jwt, else its secret. */
static inline const char *
key_bytes(const TaskauthKey *key, bool at_jwt, size_t *len)
{
	*len = at_jwt ? TASKAUTH_AT_KEY_LEN : key->secret_len;
	return at_jwt ? key->at_key : key->secret;
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

/* The server key a token names in its kid (kid NULL: the newest whose MAC matches). */
static const TaskauthKey *
server_key(const char *token, size_t len, const char *kid, bool at_jwt)
{
	int			nkeys;
	const TaskauthKey *keys;

	if (kid != NULL)
	{
		const TaskauthKey *key = taskauth_keys_find(kid, strlen(kid));

		if (key == NULL)
			taskauth_report(TA_JWT_KID_UNKNOWN);
		return key;
	}
	keys = taskauth_keys_active(&nkeys);
	if (nkeys == 0)
		taskauth_report(TA_JWT_NO_KEY);
	return key_for_kidless_token(token, len, keys, nkeys, at_jwt);
}

/*
 * Verify a token with the key it is meant for: an HMAC token with one of the server's keys, any
 * other with a registered issuer's public keys (issuers.c). Raises SQLSTATE 28000 on failure.
 */
static void
verify_token(const char *token, size_t len, TaskauthVerifiedToken *vt)
{
	char	   *kid;
	bool		at_jwt;
	bool		hmac = taskauth_jwt_header_hmac(token, len, &kid, &at_jwt);
	const TaskauthKey *key;
	const char *kbytes;
	size_t		klen;

	if (!hmac && taskauth_issuer_verify(token, len, vt))
		return;
	/* not HMAC and no issuer's: raises what is wrong with its header */
	if (!hmac)
		kid = taskauth_jwt_header_kid(token, len);
	key = server_key(token, len, kid, at_jwt);

	/*
	 * One key per kind of token (RFC 8725 §3.11): the server's own access tokens (typ at+jwt, aud
	 * taskauth) verify only with the key derived from a secret; any other HMAC token only with
	 * the secret itself, as an issuer that shares it signs them.
	 */
	kbytes = key_bytes(key, at_jwt, &klen);
	taskauth_jwt_verify_hmac_token(token, len, kbytes, klen,
								   at_jwt ? TASKAUTH_AT_AUDIENCE : NULL, vt);
	/* a registered issuer's tokens are public-key signed: a MAC never stands in for them */
	if (vt->iss.val != NULL && taskauth_issuer_registered(vt->iss.val, vt->iss.len))
		taskauth_report(TA_JWT_ALG_NOT_ALLOWED);
}

/*
 * What authenticate() keeps of a verified token: its sub as a uuid (or an error), its session
 * when sid is a uuid (a token names its session in sid: the server's own, or an external
 * issuer's whose session table taskauth follows; any other sid names no session taskauth can
 * revoke), its time claims, the keys' read and the claims' text.
 */
static void
identity_of(const TaskauthVerifiedToken *vt, ta_cached_token *out)
{
	pg_uuid_t	u;

	memset(out, 0, sizeof(*out));
	if (vt->sub.val == NULL)
		taskauth_report(TA_ID_SUB_MISSING);
	if (!taskauth_parse_uuid(vt->sub.val, vt->sub.len, &u))
		taskauth_report(TA_ID_SUB_NOT_UUID);
	memcpy(out->id, u.data, UUID_LEN);
	out->has_sid = vt->sid.val != NULL && taskauth_parse_uuid(vt->sid.val, vt->sid.len, &u);
	if (out->has_sid)
		memcpy(out->sid, u.data, UUID_LEN);
	out->times = vt->times;
	out->key_read = vt->key_read;
	out->claims = vt->claims_text;
	out->claims_len = strlen(vt->claims_text);
}

/*
 * Refuse a revoked token: its session was ended, or its user revoked after its iat. Looked up
 * only when the revoked sets have changed since the token was last found unrevoked.
 */
static void
check_revoked(ta_cached_token *t)
{
	uint64		sets = taskauth_revoked_sets_generation();

	if (t->revocations_checked == sets)
		return;
	if (taskauth_token_revoked(t->id, t->has_sid ? t->sid : NULL, t->times.has_iat, t->times.iat))
		taskauth_report(TA_ID_TOKEN_REVOKED);
	t->revocations_checked = sets;
}

/* A cached token verified under these keys whose keys still stand, or NULL. */
static ta_cached_token *
cached_token(ta_token_cache *cache, const char *token, size_t len, uint64 generation)
{
	ta_cached_token *hit;

	if (cache == NULL)
		return NULL;
	hit = ta_token_cache_get(cache, token, len, generation);
	/* an external issuer's token is taken on trust only while its keys stand unread */
	if (hit != NULL && hit->key_read != 0 && !taskauth_issuer_keys_current(hit->key_read))
		return NULL;
	return hit;
}

/* Verify a token and make it the transaction's identity (see identity.h). */
pg_uuid_t *
taskauth_authenticate_token(const char *tok, size_t len)
{
	uint64		generation;
	ta_token_cache *cache;
	ta_cached_token *hit;
	ta_cached_token fresh;
	TaskauthVerifiedToken vt;

	if (len > (size_t) taskauth_max_token_size)
		taskauth_report(TA_JWT_TOO_LARGE);
	/* key, issuer and revocation changes committed elsewhere arrive before anything is read */
	AcceptInvalidationMessages();
	taskauth_revocations_sync();
	generation = taskauth_verifier_generation();
	cache = taskauth_token_cache();

	/* seen before under the same keys: only its time claims and revocation can have changed */
	hit = cached_token(cache, tok, len, generation);
	if (hit != NULL)
	{
		TA_CHECK(ta_jws_check_times(&hit->times, taskauth_statement_now(),
									(double) taskauth_leeway));
		check_revoked(hit);
		return identity_set(hit);
	}

	verify_token(tok, len, &vt);
	identity_of(&vt, &fresh);
	check_revoked(&fresh);
	/* remember it, unless the keys changed while it was being verified */
	if (cache != NULL && generation == taskauth_verifier_generation())
		(void) ta_token_cache_put(cache, tok, len, generation, &fresh);
	return identity_set(&fresh);
}

/*
 * Verify a token (the server's own, or a registered issuer's), make its sub (a uuid) and claims
 * the identity of the current transaction, and return the sub. Every failure is SQLSTATE 28000.
 */
PG_FUNCTION_INFO_V1(taskauth_authenticate);
Datum
taskauth_authenticate(PG_FUNCTION_ARGS)
{
	text	   *token;
	pg_uuid_t  *id;

	/* refuse an oversized token before detoasting it */
	taskauth_check_token_size(PG_GETARG_DATUM(0));
	token = PG_GETARG_TEXT_PP(0);
	id = taskauth_authenticate_token(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token));
	/* explicit: it takes precedence over request.headers, which are no longer held to it */
	taskauth_lazy_forget();
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
	char		idtext[UUID_TEXT_LEN + 1];
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
		char		sidtext[UUID_TEXT_LEN + 1];

		format_uuid(PG_GETARG_UUID_P(2), sidtext);
		appendStringInfoString(&buf, ",\"sid\":");
		escape_json(&buf, sidtext);
	}
	appendStringInfo(&buf, ",\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT "}",
					 iat, iat + (int64) token_lifetime);
	claims = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));

	/* never with the secret itself, which another issuer may sign other tokens with */
	tok = taskauth_jwt_sign_hmac(DatumGetJsonbP(claims), "HS256", "at+jwt", keys[0].kid,
								 keys[0].at_key, TASKAUTH_AT_KEY_LEN);
	PG_RETURN_TEXT_P(cstring_to_text(tok));
}
