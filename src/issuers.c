/*
 * issuers.c: external issuers for authenticate(): tokens whose iss is registered in
 * taskauth.issuers are verified with that issuer's public keys, and their users can be created
 * on first sight.
 *
 * The token's iss is read before its signature is checked, only to choose the keys; after the
 * signature matched, the claims are checked against that same issuer (iss and aud), so a token
 * cannot borrow another issuer's keys.
 *
 * Per backend, each looked-up iss is cached with its settings and keys (or as "not registered").
 * A statement trigger on taskauth.issuers sends a relcache invalidation, which moves the
 * registry's generation (cache.c) in every backend; the cache starts again when it has moved.
 * Keys read from a key table (Better Auth's jwks table) change without any invalidation, so they are read again after taskauth.issuer_keys_refresh
 * seconds, and at once when a token names a kid they do not have.
 */
#include "taskauth.h"

#include "cache.h"
#include "identity.h"
#include "issuers.h"
#include "jwk.h"
#include "verified.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "core/jws_asym.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* taskauth.issuer_keys_refresh: seconds a key table's keys are used before being read again. */
#define DEFAULT_ISSUER_KEYS_REFRESH 60
static int	issuer_keys_refresh = DEFAULT_ISSUER_KEYS_REFRESH;

#define ISSUER_CACHE_SIZE 16

typedef struct IssuerEntry	/* NOLINT(clang-analyzer-optin.performance.Padding): 16 entries, fields kept in reading order */
{
	TaskauthSlot slot;			/* first: see taskauth_slot_lookup */
	char	   *iss;			/* in TaskauthCacheContext, as the strings below */
	bool		registered;
	char	   *audience;		/* or NULL */
	Jsonb	   *jwks;			/* a copy of the key set */
	bool		provision;
	char	   *email_claim;
	bool		has_key_table;
	TimestampTz fetched_at;
	uint64		key_read;		/* names this read of the keys (key tables only) */
} IssuerEntry;

/* The issuers looked up, and the registry's generation they were read under. */
static IssuerEntry issuer_cache[ISSUER_CACHE_SIZE];
static uint64 issuer_cache_generation = 0;
static uint64 key_reads = 0;

/* Reads of issuers' keys (key tables and JWKS) by this backend, for backend_stats(). */
uint64
taskauth_issuer_key_reads(void)
{
	return key_reads;
}

/* key_read values with a meaning of their own */
#define KEY_READ_STANDING 0			/* keys in taskauth.issuers */
#define KEY_READ_NEVER PG_UINT64_MAX	/* not to be taken from the cache at all */

/* Whether any issuer is registered: -1 unknown, 0 no, 1 yes. No issuers, no work per token. */
static int	have_issuers = -1;

PG_FUNCTION_INFO_V1(taskauth_issuers_changed);
PG_FUNCTION_INFO_V1(taskauth_check_jwks);

/* Free one cache slot. */
static void
entry_clear(IssuerEntry *e)
{
	if (e->iss != NULL)
		pfree(e->iss);
	if (e->audience != NULL)
		pfree(e->audience);
	if (e->jwks != NULL)
		pfree(e->jwks);
	if (e->email_claim != NULL)
		pfree(e->email_claim);
	memset(e, 0, sizeof(*e));
}

/* Start the cache again when the registry has changed since it was filled. */
static void
issuers_sync(void)
{
	uint64		generation = taskauth_generation(TA_SOURCE_ISSUERS);

	if (generation == issuer_cache_generation)
		return;
	for (int i = 0; i < ISSUER_CACHE_SIZE; i++)
		entry_clear(&issuer_cache[i]);
	have_issuers = -1;
	issuer_cache_generation = generation;
}

/* Define the issuer settings. */
void
TaskauthIssuersInit(void)
{
	DefineCustomIntVariable("taskauth.issuer_keys_refresh",
							"Seconds that keys read from an external issuer's key table are used before being read again.",
							"A token whose kid is not among the keys read makes them be read again at once, "
							"so new keys work immediately; removed or expired keys stop working within this time.",
							&issuer_keys_refresh,
							DEFAULT_ISSUER_KEYS_REFRESH, 0, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* A copy of a string in the cache's context. */
static char *
cache_strdup(const char *s, size_t len)
{
	char	   *c = MemoryContextAlloc(TaskauthCacheContext, len + 1);

	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* The Oid of taskauth.<name>(argtypes), or an error when the extension is damaged. */
static Oid
internal_function(const char *name, int nargs, Oid *argtypes)
{
	/* cppcheck-suppress unknownEvaluationOrder ; the two makeString calls are independent */
	List	   *qname = list_make2(makeString("taskauth"), makeString((char *) name));

	return LookupFuncName(qname, nargs, argtypes, false);
}

/* Whether any external issuer is registered (cached until the registry changes). */
static bool
issuers_exist(void)
{
	issuers_sync();
	if (have_issuers < 0)
	{
		(void) taskauth_cache_watch(TA_SOURCE_ISSUERS);
		have_issuers = DatumGetBool(OidFunctionCall0(internal_function("has_issuers", 0, NULL)));
	}
	return have_issuers > 0;
}

/* Read an issuer's settings and keys into a (cleared) cache slot. */
static void
issuer_load(IssuerEntry *e, const char *iss, size_t iss_len)
{
	Oid			argtypes[1] = {TEXTOID};
	Oid			fn = internal_function("issuer_config", 1, argtypes);
	Datum		rec;
	HeapTupleHeader th;
	bool		isnull;
	Datum		d;

	(void) taskauth_cache_watch(TA_SOURCE_ISSUERS);

	/* Called through the function manager: it runs as its owner, with no EXECUTE check. */
	rec = OidFunctionCall1(fn, PointerGetDatum(cstring_to_text_with_len(iss, (int) iss_len)));
	th = DatumGetHeapTupleHeader(rec);

	e->iss = cache_strdup(iss, iss_len);
	taskauth_slot_fill(&e->slot);
	e->fetched_at = GetCurrentTimestamp();
	e->key_read = ++key_reads;
	d = GetAttributeByNum(th, 2, &isnull);
	if (isnull)
		return;					/* not registered */
	e->registered = true;
	{
		Jsonb	   *j = DatumGetJsonbP(d);

		e->jwks = MemoryContextAlloc(TaskauthCacheContext, VARSIZE(j));
		memcpy(e->jwks, j, VARSIZE(j));
	}
	d = GetAttributeByNum(th, 1, &isnull);
	if (!isnull)
	{
		text	   *t = DatumGetTextPP(d);

		e->audience = cache_strdup(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	d = GetAttributeByNum(th, 3, &isnull);
	e->provision = !isnull && DatumGetBool(d);
	d = GetAttributeByNum(th, 4, &isnull);
	{
		text	   *t = isnull ? cstring_to_text("email") : DatumGetTextPP(d);

		e->email_claim = cache_strdup(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	d = GetAttributeByNum(th, 5, &isnull);
	e->has_key_table = !isnull && DatumGetBool(d);
}

/* An iss looked for in the cache: its bytes and length. */
typedef struct IssuerKey
{
	const char *iss;
	size_t		len;
} IssuerKey;

static bool
issuer_match(const void *entry, const void *key)
{
	const IssuerEntry *e = entry;
	const IssuerKey *k = key;

	return strlen(e->iss) == k->len && memcmp(e->iss, k->iss, k->len) == 0;
}

/* The cache slot of an iss, looked up or loaded. */
static IssuerEntry *
issuer_get(const char *iss, size_t iss_len)
{
	IssuerKey	key = {.iss = iss,.len = iss_len};
	IssuerEntry *found;
	void	   *slot;
	IssuerEntry *volatile victim;

	issuers_sync();
	found = taskauth_slot_lookup(issuer_cache, ISSUER_CACHE_SIZE, sizeof(IssuerEntry),
								 issuer_match, &key, &slot);
	if (found != NULL)
		return found;
	victim = slot;
	entry_clear(victim);
	PG_TRY();
	{
		issuer_load(victim, iss, iss_len);
	}
	PG_CATCH();
	{
		entry_clear(victim);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return victim;
}

/* Read the entry's keys again (its settings stay until the registry changes). */
static IssuerEntry *
issuer_reload(IssuerEntry *e)
{
	char	   *iss = pstrdup(e->iss);

	entry_clear(e);
	return issuer_get(iss, strlen(iss));
}

/* Whether a key set holds a usable key with this kid. */
static bool
keyset_has_kid(const TaskauthKeySet *ks, const char *kid, size_t kid_len)
{
	for (size_t i = 0; i < ks->nkeys; i++)
	{
		const ta_jwk *k = ks->keys[i];

		if (k->kid != NULL && k->kid_len == kid_len && memcmp(k->kid, kid, kid_len) == 0)
			return true;
	}
	return false;
}

/* A string claim of a jsonb object, palloc'd, or NULL when absent or not a string. */
static char *
string_claim(Jsonb *claims, const char *name)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(&claims->root, name, (int) strlen(name), &buf);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Create the users row of an external user when it does not exist yet. */
static void
provision(IssuerEntry *e, Jsonb *claims, TaskauthClaimString sub)
{
	char	   *email = string_claim(claims, e->email_claim);
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

	if (sub.val == NULL)
		taskauth_report(TA_ID_SUB_MISSING);
	/* The users table keys on uuid: any other sub is refused before it reaches SQL. */
	if (!taskauth_parse_uuid(sub.val, sub.len, id))
		taskauth_report(TA_ID_SUB_NOT_UUID);
	if (email == NULL)
		taskauth_report(TA_ISS_EMAIL_MISSING);
	OidFunctionCall2(internal_function("provision_user", 2, argtypes), UUIDPGetDatum(id),
					 PointerGetDatum(cstring_to_text(email)));
}

/* Whether iss (unescaped) names a registered external issuer. */
bool
taskauth_issuer_registered(const char *iss, size_t iss_len)
{
	return issuers_exist() && issuer_get(iss, iss_len)->registered;
}

/* Verify a token of a registered external issuer (see issuers.h). */
bool
taskauth_issuer_verify(const char *token, size_t token_len, TaskauthVerifiedToken *out)
{
	ta_jws_parts parts;
	ta_jws_asym_header hdr;
	ta_status	hst;
	char	   *buf;
	size_t		hcap,
				cap,
				plen;
	ta_json_span obj,
				v;
	ta_json_type t;
	char	   *iss;
	size_t		iss_len;
	IssuerEntry *e;
	const TaskauthKeySet *ks;
	TaskauthVerifyOptions opts;
	Jsonb	   *claims;
	bool		reloaded = false;

	/* Without registered issuers every token is the server's own: cost nothing. */
	if (!issuers_exist())
		return false;
	TA_CHECK(ta_jws_split(token, token_len, &parts));
	/* The header (and its kid) go first in buf, the payload after them. */
	hcap = TA_JWS_ASYM_HEADER_CAP(parts.header_len);
	cap = hcap + TA_B64URL_DECODED_MAX(parts.payload_len) + 1;
	buf = palloc(cap);
	hst = ta_jws_asym_parse_header(&parts, buf, hcap, &hdr);
	/* An HMAC token: the server's keys verify it unless its iss is registered here. */
	if (hst != TA_OK && hst != TA_JWT_ALG_NOT_ALLOWED)
		taskauth_report(hst);

	/* The iss, unverified, only picks the keys; the claim checks below hold it to them. */
	TA_CHECK(ta_jws_decode_payload(&parts, buf + hcap, cap - hcap, &plen));
	obj.ptr = buf + hcap;
	obj.len = plen;
	while (obj.len > 0 && *obj.ptr != '{')
		obj.ptr++, obj.len--;
	if (!ta_json_object_get(obj, "iss", 3, &t, &v) || t != TA_JSON_STRING)
	{
		if (hst == TA_JWT_ALG_NOT_ALLOWED)
			return false;
		taskauth_report(TA_JWT_ISSUER_UNKNOWN);
	}
	iss = palloc(v.len);
	TA_CHECK(ta_json_string_unescape(v, iss, v.len, &iss_len));

	e = issuer_get(iss, iss_len);
	if (!e->registered)
	{
		if (hst == TA_JWT_ALG_NOT_ALLOWED)
			return false;
		taskauth_report(TA_JWT_ISSUER_UNKNOWN);
	}
	/* A registered issuer's tokens are public-key signed; a MAC never stands in for them. */
	if (hst != TA_OK)
		taskauth_report(hst);

	/* Key table keys: read again when old, or when the token names a kid we lack. */
	if (e->has_key_table &&
		TimestampDifferenceExceeds(e->fetched_at, GetCurrentTimestamp(),
								   issuer_keys_refresh * 1000))
	{
		e = issuer_reload(e);
		reloaded = true;
	}
	ks = taskauth_keyset_get(e->jwks);
	if (e->has_key_table && !reloaded && hdr.has_kid && !keyset_has_kid(ks, hdr.kid, hdr.kid_len))
	{
		e = issuer_reload(e);
		if (!e->registered)
			taskauth_report(TA_JWT_ISSUER_UNKNOWN);
		ks = taskauth_keyset_get(e->jwks);
	}

	memset(out, 0, sizeof(*out));
	opts = (TaskauthVerifyOptions)
	{
		.audience = e->audience,.issuer = e->iss,.times_out = &out->times
	};
	/* header and payload were decoded above: verify without decoding them again */
	claims = taskauth_jwt_verify_keyset_decoded(&parts, &hdr, buf + hcap, plen, ks, &opts);
	taskauth_verified_from_jsonb(claims, out);
	out->key_read = e->has_key_table ? e->key_read : KEY_READ_STANDING;
	/* a read-only transaction cannot create the user's row: let the next use try again */
	if (e->provision && XactReadOnly)
		out->key_read = KEY_READ_NEVER;
	if (e->provision)
		provision(e, claims, out->sub);
	pfree(buf);
	pfree(iss);
	return true;
}

/* Whether keys of that read still stand (see issuers.h). */
bool
taskauth_issuer_keys_current(uint64 key_read)
{
	if (key_read == KEY_READ_STANDING)
		return true;
	if (key_read == KEY_READ_NEVER)
		return false;
	issuers_sync();
	for (int i = 0; i < ISSUER_CACHE_SIZE; i++)
	{
		IssuerEntry *e = &issuer_cache[i];

		if (e->slot.used && e->key_read == key_read)
			return !TimestampDifferenceExceeds(e->fetched_at, GetCurrentTimestamp(),
											   issuer_keys_refresh * 1000);
	}
	return false;				/* read again since, or the issuer dropped from the cache */
}

/*
 * Statement trigger on taskauth.issuers: send a relcache invalidation for the table so that every
 * backend drops its cached issuers (this one at once, the others when the change commits).
 */
Datum
taskauth_issuers_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "taskauth_issuers_changed must be called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/* taskauth.check_jwks(jwks jsonb): raise for the first key that cannot verify; count the keys. */
Datum
taskauth_check_jwks(PG_FUNCTION_ARGS)
{
	const TaskauthKeySet *ks = taskauth_keyset_get(PG_GETARG_JSONB_P(0));

	for (size_t i = 0; i < ks->nkeys; i++)
		if (ks->keys[i]->status != TA_OK)
			taskauth_report(ks->keys[i]->status);
	PG_RETURN_INT32((int32) ks->nkeys);
}
