/*
 * issuers.c: external issuers for authenticate(): tokens whose iss is registered in
 * taskauth.issuers are verified with that issuer's public keys, and their users can be created
 * on first sight.
 *
 * The token's iss is read before its signature is checked, only to choose the keys; after the
 * signature matched, the claims are checked against that same issuer (iss and aud), so a token
 * cannot borrow another issuer's keys.
 *
 * Per backend, each looked-up iss is cached with its settings and keys (or as "not registered"),
 * in malloc'd memory. A statement trigger on taskauth.issuers sends a relcache invalidation that
 * drops the whole cache in every backend. Keys read from a key table (Better Auth's jwks table)
 * change without any invalidation, so they are read again after taskauth.issuer_keys_refresh
 * seconds, and at once when a token names a kid they do not have.
 */
#include "taskauth.h"

#include <ctype.h>

#include "generation.h"
#include "identity.h"
#include "issuers.h"
#include "jwk.h"

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
int			taskauth_issuer_keys_refresh = 60;

#define ISSUER_CACHE_SIZE 16

typedef struct IssuerEntry	/* NOLINT(clang-analyzer-optin.performance.Padding): 16 entries, fields kept in reading order */
{
	char	   *iss;			/* malloc'd; NULL: free slot */
	bool		registered;
	char	   *audience;		/* malloc'd or NULL */
	Jsonb	   *jwks;			/* malloc'd copy of the key set */
	bool		provision;
	char	   *email_claim;	/* malloc'd */
	bool		has_key_table;
	TimestampTz fetched_at;
	uint64		key_read;		/* names this read of the keys (key tables only) */
	uint64		last_used;
} IssuerEntry;

static IssuerEntry issuer_cache[ISSUER_CACHE_SIZE];
static uint64 issuer_clock = 0;
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
static Oid	issuers_relid = InvalidOid;

/* Whether any issuer is registered: -1 unknown, 0 no, 1 yes. No issuers, no work per token. */
static int	have_issuers = -1;

PG_FUNCTION_INFO_V1(taskauth_issuers_changed);
PG_FUNCTION_INFO_V1(taskauth_check_jwks);

/* Free one cache slot. */
static void
entry_clear(IssuerEntry *e)
{
	free(e->iss);
	free(e->audience);
	free(e->jwks);
	free(e->email_claim);
	memset(e, 0, sizeof(*e));
}

/* Drop the cache when taskauth.issuers (or every relation) is invalidated. */
static void
issuers_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == issuers_relid)
	{
		for (int i = 0; i < ISSUER_CACHE_SIZE; i++)
			entry_clear(&issuer_cache[i]);
		issuers_relid = InvalidOid;
		have_issuers = -1;
		taskauth_generation_bump_keys();
	}
}

/* Define the issuer settings and register the cache's invalidation callback. */
void
TaskauthIssuersInit(void)
{
	DefineCustomIntVariable("taskauth.issuer_keys_refresh",
							"Seconds that keys read from an external issuer's key table are used before being read again.",
							"A token whose kid is not among the keys read makes them be read again at once, "
							"so new keys work immediately; removed or expired keys stop working within this time.",
							&taskauth_issuer_keys_refresh,
							60, 0, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(issuers_relcache_callback, (Datum) 0);
}

/* A malloc'd copy of a string, or an out-of-memory error. */
static char *
dup_or_fail(const char *s, size_t len)
{
	char	   *c = malloc(len + 1);

	if (c == NULL)
		taskauth_report(TA_ERR_NOMEM);
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

/* Remember the registry's Oid, so that its invalidations reach the callback. */
static void
note_relid(void)
{
	if (!OidIsValid(issuers_relid))
		issuers_relid = get_relname_relid("issuers", get_namespace_oid("taskauth", false));
}

/* Whether any external issuer is registered (cached until the registry changes). */
static bool
issuers_exist(void)
{
	if (have_issuers < 0)
	{
		note_relid();
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

	note_relid();

	/* Called through the function manager: it runs as its owner, with no EXECUTE check. */
	rec = OidFunctionCall1(fn, PointerGetDatum(cstring_to_text_with_len(iss, (int) iss_len)));
	th = DatumGetHeapTupleHeader(rec);

	e->iss = dup_or_fail(iss, iss_len);
	e->last_used = ++issuer_clock;
	e->fetched_at = GetCurrentTimestamp();
	e->key_read = ++key_reads;
	d = GetAttributeByNum(th, 2, &isnull);
	if (isnull)
		return;					/* not registered */
	e->registered = true;
	{
		Jsonb	   *j = DatumGetJsonbP(d);

		e->jwks = malloc(VARSIZE(j));
		if (e->jwks == NULL)
			taskauth_report(TA_ERR_NOMEM);
		memcpy(e->jwks, j, VARSIZE(j));
	}
	d = GetAttributeByNum(th, 1, &isnull);
	if (!isnull)
	{
		text	   *t = DatumGetTextPP(d);

		e->audience = dup_or_fail(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	d = GetAttributeByNum(th, 3, &isnull);
	e->provision = !isnull && DatumGetBool(d);
	d = GetAttributeByNum(th, 4, &isnull);
	{
		text	   *t = isnull ? cstring_to_text("email") : DatumGetTextPP(d);

		e->email_claim = dup_or_fail(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	d = GetAttributeByNum(th, 5, &isnull);
	e->has_key_table = !isnull && DatumGetBool(d);
}

/* The cache slot of an iss, looked up or loaded. */
static IssuerEntry *
issuer_get(const char *iss, size_t iss_len)
{
	IssuerEntry *volatile victim = &issuer_cache[0];

	for (int i = 0; i < ISSUER_CACHE_SIZE; i++)
	{
		IssuerEntry *e = &issuer_cache[i];

		if (e->iss != NULL && strlen(e->iss) == iss_len && memcmp(e->iss, iss, iss_len) == 0)
		{
			e->last_used = ++issuer_clock;
			return e;
		}
		if (victim->iss != NULL && (e->iss == NULL || e->last_used < victim->last_used))
			victim = e;
	}
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
provision(IssuerEntry *e, Jsonb *claims)
{
	char	   *sub = string_claim(claims, "sub");
	char	   *email = string_claim(claims, e->email_claim);
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		id;
	bool		ok;

	if (sub == NULL)
		taskauth_report(TA_ID_SUB_MISSING);
	/* The users table keys on uuid: any other sub is refused before it reaches SQL. */
	ok = strlen(sub) == 36;
	for (int i = 0; ok && i < 36; i++)
		ok = (i == 8 || i == 13 || i == 18 || i == 23) ? sub[i] == '-' : isxdigit((unsigned char) sub[i]);
	if (!ok)
		taskauth_report(TA_ID_SUB_NOT_UUID);
	id = DirectFunctionCall1(uuid_in, CStringGetDatum(sub));
	if (email == NULL)
		taskauth_report(TA_ISS_EMAIL_MISSING);
	OidFunctionCall2(internal_function("provision_user", 2, argtypes), id,
					 PointerGetDatum(cstring_to_text(email)));
}

/* Whether iss (unescaped) names a registered external issuer. */
bool
taskauth_issuer_registered(const char *iss, size_t iss_len)
{
	return issuers_exist() && issuer_get(iss, iss_len)->registered;
}

/* Verify a token of a registered external issuer (see issuers.h). */
Jsonb *
taskauth_issuer_verify(const char *token, size_t token_len, uint64 *key_read)
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
		return NULL;
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
			return NULL;
		taskauth_report(TA_JWT_ISSUER_UNKNOWN);
	}
	iss = palloc(v.len);
	TA_CHECK(ta_json_string_unescape(v, iss, v.len, &iss_len));

	e = issuer_get(iss, iss_len);
	if (!e->registered)
	{
		if (hst == TA_JWT_ALG_NOT_ALLOWED)
			return NULL;
		taskauth_report(TA_JWT_ISSUER_UNKNOWN);
	}
	/* A registered issuer's tokens are public-key signed; a MAC never stands in for them. */
	if (hst != TA_OK)
		taskauth_report(hst);

	/* Key table keys: read again when old, or when the token names a kid we lack. */
	if (e->has_key_table &&
		TimestampDifferenceExceeds(e->fetched_at, GetCurrentTimestamp(),
								   taskauth_issuer_keys_refresh * 1000))
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

	opts.audience = e->audience;
	opts.issuer = e->iss;
	opts.times_out = NULL;
	opts.flat_out = NULL;
	/* header and payload were decoded above: verify without decoding them again */
	claims = taskauth_jwt_verify_keyset_decoded(&parts, &hdr, buf + hcap, plen, ks, &opts);
	*key_read = e->has_key_table ? e->key_read : KEY_READ_STANDING;
	/* a read-only transaction cannot create the user's row: let the next use try again */
	if (e->provision && XactReadOnly)
		*key_read = KEY_READ_NEVER;
	if (e->provision)
		provision(e, claims);
	pfree(buf);
	pfree(iss);
	return claims;
}

/* Whether keys of that read still stand (see issuers.h). */
bool
taskauth_issuer_keys_current(uint64 key_read)
{
	if (key_read == KEY_READ_STANDING)
		return true;
	if (key_read == KEY_READ_NEVER)
		return false;
	for (int i = 0; i < ISSUER_CACHE_SIZE; i++)
	{
		IssuerEntry *e = &issuer_cache[i];

		if (e->iss != NULL && e->key_read == key_read)
			return !TimestampDifferenceExceeds(e->fetched_at, GetCurrentTimestamp(),
											   taskauth_issuer_keys_refresh * 1000);
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
