/*
 * keys.c: the server's HMAC signing keys (table taskauth.signing_keys) and a per-backend cache
 * of the active ones.
 *
 * authenticate() runs on every request, so it must not query the table each time; and API roles
 * may not read the table at all. The cache is therefore filled by a direct heap scan in C, which
 * needs no SQL privilege on the table (nothing here hands a secret back to SQL), and dropped when
 * the table changes in any backend: a statement trigger on the table sends a relcache
 * invalidation for it (row changes alone send none), and the callback registered here marks the
 * cache stale when that invalidation arrives.
 */
#include "identity.h"
#include "cache.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core/b64url.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The cache: active keys newest first, and the generation of the table they were read under. */
static TaskauthKey *cache_keys = NULL;
static int	cache_nkeys = 0;
static bool cache_loaded = false;
static uint64 cache_generation = 0;

/* A key read from the table, before sorting. */
typedef struct LoadedKey
{
	TaskauthKey key;
	TimestampTz created_at;
} LoadedKey;

void
taskauth_derive_at_key(const char *secret, size_t secret_len, char out[TASKAUTH_AT_KEY_LEN + 1])
{
	uint8		mac[32];
	unsigned int mac_len = 0;
	size_t		out_len = 0;

	if (HMAC(EVP_sha256(), secret, (int) secret_len, (const unsigned char *) TASKAUTH_AT_KEY_LABEL,
			 strlen(TASKAUTH_AT_KEY_LABEL), mac, &mac_len) == NULL || mac_len != sizeof(mac))
		elog(ERROR, "could not derive the access token key");
	TA_CHECK(ta_b64url_encode(mac, sizeof(mac), out, TASKAUTH_AT_KEY_LEN + 1, &out_len));
	OPENSSL_cleanse(mac, sizeof(mac));
	if (out_len != TASKAUTH_AT_KEY_LEN)
		elog(ERROR, "could not derive the access token key");
	out[TASKAUTH_AT_KEY_LEN] = '\0';
}

/*
 * taskauth.access_token_key(secret text): the key taskauth signs its access tokens with under a
 * signing key of this secret (owner only: it verifies, and forges, those tokens).
 */
PG_FUNCTION_INFO_V1(taskauth_access_token_key);
Datum
taskauth_access_token_key(PG_FUNCTION_ARGS)
{
	text	   *secret = PG_GETARG_TEXT_PP(0);
	char		out[TASKAUTH_AT_KEY_LEN + 1];
	text	   *result;

	taskauth_derive_at_key(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret), out);
	result = cstring_to_text_with_len(out, TASKAUTH_AT_KEY_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	PG_RETURN_TEXT_P(result);
}

/* Wipe and free the cached keys. */
static void
keys_free(TaskauthKey *keys, int nkeys)
{
	for (int i = 0; i < nkeys; i++)
	{
		if (keys[i].secret != NULL)
		{
			OPENSSL_cleanse(keys[i].secret, keys[i].secret_len);
			pfree(keys[i].secret);
		}
		OPENSSL_cleanse(keys[i].at_key, sizeof(keys[i].at_key));
	}
	if (keys != NULL)
		pfree(keys);
}

/* Order keys newest first; equal times fall back to the kid so the order is total. */
static int
loaded_key_cmp(const void *a, const void *b)
{
	const LoadedKey *ka = a;
	const LoadedKey *kb = b;

	if (ka->created_at != kb->created_at)
		return ka->created_at > kb->created_at ? -1 : 1;
	return strcmp(ka->key.kid, kb->key.kid);
}

/* Column number of a named column of the key table; a missing one is a broken install. */
static int
keys_attnum(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	elog(ERROR, "table taskauth.signing_keys has no column \"%s\"", name);
	pg_unreachable();
}

/* Read the active keys from the table into the cache. */
static void
keys_load(void)
{
	Oid			relid;
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	TupleDesc	desc;
	int			att_kid,
				att_secret,
				att_created,
				att_retired;
	LoadedKey  *volatile loaded;
	volatile int nloaded = 0;
	volatile int cap = 4;
	uint64		generation;
	TaskauthKey *keys;

	relid = taskauth_cache_watch(TA_SOURCE_SIGNING_KEYS);
	if (!OidIsValid(relid))
		elog(ERROR, "table taskauth.signing_keys does not exist");

	/*
	 * Opening the table takes its lock and so processes pending invalidations. Any change whose
	 * invalidation has not arrived yet will arrive later and mark this load stale; changes whose
	 * invalidation did arrive are visible to a snapshot taken now. Hence the latest snapshot,
	 * not the statement's: a key retired and committed elsewhere is never cached as active.
	 */
	rel = table_open(relid, AccessShareLock);
	generation = taskauth_generation(TA_SOURCE_SIGNING_KEYS);
	desc = RelationGetDescr(rel);
	att_kid = keys_attnum(desc, "kid");
	att_secret = keys_attnum(desc, "secret");
	att_created = keys_attnum(desc, "created_at");
	att_retired = keys_attnum(desc, "retired_at");

	loaded = palloc(sizeof(LoadedKey) * cap);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);

	/* the secrets copied so far live in the cache's context: an error must not leave them there */
	PG_TRY();
	{
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			Datum		d;
			text	   *kid;
			text	   *secret;
			LoadedKey  *lk;

			(void) slot_getattr(slot, att_retired, &isnull);
			if (!isnull)
				continue;			/* retired */
			d = slot_getattr(slot, att_kid, &isnull);
			if (isnull)
				continue;
			kid = DatumGetTextPP(d);
			if (VARSIZE_ANY_EXHDR(kid) == 0 || VARSIZE_ANY_EXHDR(kid) > TASKAUTH_KID_MAX_LEN)
				continue;			/* the table's CHECK forbids this */
			d = slot_getattr(slot, att_secret, &isnull);
			if (isnull)
				continue;
			secret = DatumGetTextPP(d);

			if (nloaded == cap)
			{
				cap *= 2;
				loaded = repalloc(loaded, sizeof(LoadedKey) * cap);
			}
			lk = &loaded[nloaded++];
			memset(lk, 0, sizeof(*lk));
			lk->key.kid_len = VARSIZE_ANY_EXHDR(kid);
			memcpy(lk->key.kid, VARDATA_ANY(kid), lk->key.kid_len);
			lk->key.kid[lk->key.kid_len] = '\0';
			lk->key.secret_len = VARSIZE_ANY_EXHDR(secret);
			lk->key.secret = MemoryContextAlloc(TaskauthCacheContext, lk->key.secret_len + 1);
			memcpy(lk->key.secret, VARDATA_ANY(secret), lk->key.secret_len);
			lk->key.secret[lk->key.secret_len] = '\0';
			taskauth_derive_at_key(lk->key.secret, lk->key.secret_len, lk->key.at_key);
			if ((Pointer) secret != DatumGetPointer(d))
			{
				/* a detoasted copy of the secret: wipe it */
				OPENSSL_cleanse(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
				pfree(secret);
			}
			d = slot_getattr(slot, att_created, &isnull);
			lk->created_at = isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
		}
	}
	PG_CATCH();
	{
		for (int i = 0; i < nloaded; i++)
		{
			if (loaded[i].key.secret != NULL)
			{
				OPENSSL_cleanse(loaded[i].key.secret, loaded[i].key.secret_len);
				pfree(loaded[i].key.secret);
			}
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	qsort(loaded, nloaded, sizeof(LoadedKey), loaded_key_cmp);
	keys = MemoryContextAllocZero(TaskauthCacheContext, sizeof(TaskauthKey) * Max(nloaded, 1));
	for (int i = 0; i < nloaded; i++)
		keys[i] = loaded[i].key;
	pfree(loaded);

	keys_free(cache_keys, cache_nkeys);
	cache_keys = keys;
	cache_nkeys = nloaded;
	/* an invalidation that arrived while reading makes this load good for one use only */
	cache_generation = generation;
	cache_loaded = true;
}

/* The active keys, newest first; loads them when the cache is stale. */
const TaskauthKey *
taskauth_keys_active(int *nkeys)
{
	/* pick up key changes other backends committed since this transaction last looked */
	AcceptInvalidationMessages();
	if (!cache_loaded || cache_generation != taskauth_generation(TA_SOURCE_SIGNING_KEYS))
		keys_load();
	*nkeys = cache_nkeys;
	return cache_keys;
}

/* The active key with this kid, or NULL. */
const TaskauthKey *
taskauth_keys_find(const char *kid, size_t kid_len)
{
	int			n;
	const TaskauthKey *keys = taskauth_keys_active(&n);

	for (int i = 0; i < n; i++)
	{
		if (keys[i].kid_len == kid_len && memcmp(keys[i].kid, kid, kid_len) == 0)
			return &keys[i];
	}
	return NULL;
}

/*
 * Statement trigger on taskauth.signing_keys: send a relcache invalidation for the table so that
 * every backend (this one at once, the others when the change commits) drops its cached keys.
 */
PG_FUNCTION_INFO_V1(taskauth_signing_keys_changed);
Datum
taskauth_signing_keys_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "taskauth_signing_keys_changed must be called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
