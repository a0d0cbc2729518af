/*
 * jwk.c: SQL glue for public-key tokens: jwt_verify(token, key jsonb [, audience, issuer]) and
 * jwk_from_pem(pem).
 *
 * The work is done in src/core (jwk.c, asym.c, jws_asym.c); this file reads JWK members out of
 * jsonb, keeps parsed keys, and turns statuses into errors.
 *
 * Parsing a JWK into an OpenSSL key costs far more than verifying one signature with it (an EC
 * key is checked to lie on its curve, an RSA key is imported through the provider layer), so
 * parsed keys are cached per backend, by the exact bytes of the jsonb value (jsonb stores an
 * object's keys sorted and without duplicates, so equal JSON gives equal bytes). The cache holds
 * public keys only; entries live in the caches' context (cache.c), least recently used evicted.
 */
#include "taskauth.h"

#include "jwk.h"
#include "cache.h"

#include "access/xact.h"
#include "core/jws_asym.h"
#include "core/ta_alloc.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define KEYSET_CACHE_SIZE 16
/* Most keys a JWKS may hold: real sets have a handful; this bounds the work a set can cause. */
#define KEYSET_MAX_KEYS 100

typedef struct KeySetCacheEntry
{
	TaskauthSlot slot;			/* first: see taskauth_slot_lookup */
	char	   *bytes;			/* a copy of the jsonb value's bytes */
	size_t		len;
	TaskauthKeySet set;
} KeySetCacheEntry;

static KeySetCacheEntry keyset_cache[KEYSET_CACHE_SIZE];

PG_FUNCTION_INFO_V1(taskauth_jwt_verify_jwk);
PG_FUNCTION_INFO_V1(taskauth_jwk_from_pem);

/* Free the keys of a set. */
static void
keyset_free(TaskauthKeySet *ks)
{
	if (ks->keys != NULL)
	{
		for (size_t i = 0; i < ks->nkeys; i++)
			ta_jwk_free(ks->keys[i]);
		ta_free(ks->keys);
	}
	memset(ks, 0, sizeof(*ks));
}

/* Look up one member of a jsonb object. */
static JsonbValue *
member(JsonbContainer *obj, const char *name, JsonbValue *buf)
{
	return getKeyJsonValueFromContainer(obj, name, (int) strlen(name), buf);
}

/* Fill one string field from a jsonb object member; a non-string member marks it malformed. */
static void
string_member(JsonbContainer *obj, const char *name, ta_jwk_member *out, int *malformed)
{
	JsonbValue	buf;
	JsonbValue *v = member(obj, name, &buf);

	out->p = NULL;
	out->len = 0;
	if (v == NULL)
		return;
	if (v->type != jbvString)
	{
		*malformed = 1;
		return;
	}
	out->p = v->val.string.val;
	out->len = (size_t) v->val.string.len;
}

/* Read what a JWK (a jsonb object container) says into fields that point into it. */
static void
read_fields(JsonbContainer *obj, ta_jwk_fields *f)
{
	static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	JsonbValue	buf;
	JsonbValue *ops;

	memset(f, 0, sizeof(*f));
	if (!JsonContainerIsObject(obj))
	{
		f->malformed = 1;
		return;
	}
	string_member(obj, "kty", &f->kty, &f->malformed);
	string_member(obj, "crv", &f->crv, &f->malformed);
	string_member(obj, "alg", &f->alg, &f->malformed);
	string_member(obj, "kid", &f->kid, &f->malformed);
	string_member(obj, "use", &f->use, &f->malformed);
	string_member(obj, "n", &f->n, &f->malformed);
	string_member(obj, "e", &f->e, &f->malformed);
	string_member(obj, "x", &f->x, &f->malformed);
	string_member(obj, "y", &f->y, &f->malformed);
	for (size_t i = 0; i < lengthof(private_members); i++)
		if (member(obj, private_members[i], &buf) != NULL)
			f->has_private = 1;

	/* RFC 7517 §4.3: key_ops is an array of strings; it must list "verify" for us. */
	ops = member(obj, "key_ops", &buf);
	if (ops != NULL)
	{
		f->key_ops = TA_JWK_OPS_OTHER;
		if (ops->type == jbvBinary && JsonContainerIsArray(ops->val.binary.data))
		{
			JsonbValue	want;

			want.type = jbvString;
			want.val.string.val = "verify";
			want.val.string.len = 6;
			if (findJsonbValueFromContainer(ops->val.binary.data, JB_FARRAY, &want) != NULL)
				f->key_ops = TA_JWK_OPS_VERIFY;
		}
	}
}

/*
 * Load a JWK or JWKS into ks (keys from ta_malloc, so in the caches' context). Returns TA_OK or the status to raise; on failure
 * nothing is left allocated.
 */
static ta_status
keyset_load(Jsonb *key, TaskauthKeySet *ks)
{
	JsonbContainer *root = &key->root;
	JsonbValue	buf;
	JsonbValue *keys;
	ta_jwk_fields f;
	ta_status	st;

	memset(ks, 0, sizeof(*ks));
	if (!JB_ROOT_IS_OBJECT(key) || JB_ROOT_IS_SCALAR(key))
		return TA_JWK_MALFORMED;

	keys = member(root, "keys", &buf);
	if (keys == NULL)
	{
		/* A lone JWK: it must be usable, or the call is wrong whatever the token. */
		ks->keys = ta_malloc(sizeof(ta_jwk *));
		if (ks->keys == NULL)
			return TA_ERR_NOMEM;
		read_fields(root, &f);
		st = ta_jwk_load(&f, &ks->keys[0]);
		if (ks->keys[0] != NULL)
			ks->nkeys = 1;
		if (st != TA_OK)
			keyset_free(ks);
		return st;
	}

	/* RFC 7517 §5: a JWK Set is an object whose "keys" member is an array of JWKs. */
	if (keys->type != jbvBinary || !JsonContainerIsArray(keys->val.binary.data))
		return TA_JWK_MALFORMED;
	ks->is_set = true;
	{
		JsonbContainer *arr = keys->val.binary.data;
		int			n = (int) JsonContainerSize(arr);

		if (n > KEYSET_MAX_KEYS)
			return TA_JWK_MALFORMED;
		if (n == 0)
			return TA_OK;
		ks->keys = ta_calloc((size_t) n, sizeof(ta_jwk *));
		if (ks->keys == NULL)
			return TA_ERR_NOMEM;
		for (int i = 0; i < n; i++)
		{
			JsonbValue *el = getIthJsonbValueFromContainer(arr, (uint32) i);

			memset(&f, 0, sizeof(f));
			if (el->type == jbvBinary)
				read_fields(el->val.binary.data, &f);
			else
				f.malformed = 1;
			pfree(el);
			/* A key of the set that cannot verify is kept, marked, and skipped at selection. */
			if (ta_jwk_load(&f, &ks->keys[i]) == TA_ERR_NOMEM)
			{
				keyset_free(ks);
				return TA_ERR_NOMEM;
			}
			ks->nkeys++;
		}
	}
	return TA_OK;
}

/* Whether a cached set was parsed from exactly these jsonb bytes. */
static bool
keyset_match(const void *entry, const void *key)
{
	const KeySetCacheEntry *e = entry;
	const Jsonb *jb = key;

	return e->len == VARSIZE_ANY_EXHDR(jb) && memcmp(e->bytes, VARDATA_ANY(jb), e->len) == 0;
}

/* The parsed form of a JWK or JWKS jsonb, cached per backend. */
const TaskauthKeySet *
taskauth_keyset_get(Jsonb *key)
{
	KeySetCacheEntry *found;
	KeySetCacheEntry *victim;
	void	   *slot;
	TaskauthKeySet ks;
	char	   *copy;
	ta_status	st;

	found = taskauth_slot_lookup(keyset_cache, KEYSET_CACHE_SIZE, sizeof(KeySetCacheEntry),
								 keyset_match, key, &slot);
	if (found != NULL)
		return &found->set;

	st = keyset_load(key, &ks);
	if (st != TA_OK)
		taskauth_report(st);
	copy = MemoryContextAllocExtended(TaskauthCacheContext, VARSIZE_ANY_EXHDR(key),
									  MCXT_ALLOC_NO_OOM);
	if (copy == NULL)
	{
		keyset_free(&ks);
		taskauth_report(TA_ERR_NOMEM);
	}
	memcpy(copy, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	victim = slot;
	if (victim->slot.used)
	{
		pfree(victim->bytes);
		keyset_free(&victim->set);
	}
	victim->bytes = copy;
	victim->len = VARSIZE_ANY_EXHDR(key);
	victim->set = ks;
	taskauth_slot_fill(&victim->slot);
	return &victim->set;
}

/* Verify a public-key signed token with a key set and return its claims. */
Jsonb *
taskauth_jwt_verify_keyset(const char *token, size_t token_len, const TaskauthKeySet *ks,
						   const TaskauthVerifyOptions *opts)
{
	ta_jws_claim_opts co;
	char	   *buf;
	size_t		payload_len;

	taskauth_claim_opts(opts, &co);

	/* The size check comes first so the buffer below is bounded. */
	if (token_len > (size_t) taskauth_max_token_size)
		taskauth_report(TA_JWT_TOO_LARGE);
	buf = palloc(2 * token_len + 8);
	TA_CHECK(ta_jws_asym_verify(token, token_len, ks->keys, ks->nkeys, ks->is_set, &co,
								buf, 2 * token_len + 8, &payload_len));

	/* the core validator passes only JSON that jsonb input accepts */
	return taskauth_payload_to_jsonb(buf, payload_len);
}

/* The same for a token split, its header parsed and its payload decoded by the caller. */
Jsonb *
taskauth_jwt_verify_keyset_decoded(const ta_jws_parts *parts, const ta_jws_asym_header *hdr,
								   char *payload, size_t payload_len, const TaskauthKeySet *ks,
								   const TaskauthVerifyOptions *opts)
{
	ta_jws_claim_opts co;

	taskauth_claim_opts(opts, &co);
	TA_CHECK(ta_jws_asym_verify_decoded(parts, hdr, ks->keys, ks->nkeys, ks->is_set, &co,
										payload, payload_len));
	return taskauth_payload_to_jsonb(payload, payload_len);
}

/*
 * taskauth.jwt_verify(token text, key jsonb [, audience text, issuer text]): the claims of a
 * token signed with a public-key algorithm, checked with a JWK or a JWKS. NULL token or key
 * gives NULL; NULL audience or issuer skips that check.
 */
Datum
taskauth_jwt_verify_jwk(PG_FUNCTION_ARGS)
{
	text	   *token;
	const TaskauthKeySet *ks;
	TaskauthVerifyOptions opts = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	taskauth_check_token_size(PG_GETARG_DATUM(0));
	token = PG_GETARG_TEXT_PP(0);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		opts.audience = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		opts.issuer = text_to_cstring(PG_GETARG_TEXT_PP(3));
	ks = taskauth_keyset_get(PG_GETARG_JSONB_P(1));
	PG_RETURN_JSONB_P(taskauth_jwt_verify_keyset(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token),
												 ks, &opts));
}

/* taskauth.jwk_from_pem(pem text): the public JWK of a PEM public key. */
Datum
taskauth_jwk_from_pem(PG_FUNCTION_ARGS)
{
	text	   *pem = PG_GETARG_TEXT_PP(0);
	char		out[TA_JWK_JSON_MAX];
	size_t		len;

	TA_CHECK(ta_jwk_from_pem(VARDATA_ANY(pem), VARSIZE_ANY_EXHDR(pem), out, sizeof(out), &len));
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out)));
}
