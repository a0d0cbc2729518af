/*
 * Unit tests: the revoked-id sets (put, lookup with expiry, later times kept, growth, sweeping,
 * and a comparison with a plain array over many random ids); the fixed-size table in memory the
 * caller gives (full, in-place sweeps through runs that wrap round, against a model).
 */
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/revoked.h"

/* An id whose 16 bytes are derived from n (distinct for distinct n). */
static void
id_of(uint32_t n, uint8_t id[16])
{
	uint64_t	x = n * UINT64_C(0x2545F4914F6CDD1D) + 12345;

	for (int i = 0; i < 16; i++)
	{
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id[i] = (uint8_t) x;
	}
	memcpy(id, &n, sizeof(n));
}

static void
test_basics(void)
{
	ta_revoked *s = ta_revoked_create();
	uint8_t		a[16],
				b[16];
	int64_t		at = 0;

	id_of(1, a);
	id_of(2, b);
	ok(s != NULL, "created");
	ok(!ta_revoked_get(s, a, 0, &at), "empty set: not revoked");
	ok(ta_revoked_put(s, a, 100, 500), "put a");
	ok(ta_revoked_get(s, a, 200, &at) && at == 100, "a revoked at 100");
	ok(ta_revoked_get(s, a, 500, NULL), "a still counts at its expiry");
	ok(!ta_revoked_get(s, a, 501, NULL), "a no longer counts after its expiry");
	ok(!ta_revoked_get(s, b, 200, NULL), "b was never revoked");
	ok(ta_revoked_put(s, a, 50, 400), "put a again with earlier times");
	ok(ta_revoked_get(s, a, 500, &at) && at == 100, "the later revocation time and expiry are kept");
	ok(ta_revoked_put(s, a, 300, 900), "put a again with later times");
	ok(ta_revoked_get(s, a, 900, &at) && at == 300, "later times replace earlier ones");
	is_int((int) ta_revoked_count(s), 1, "a held once");
	ok(ta_revoked_put(s, b, 10, INT64_MIN), "an expiry equal to the empty marker is accepted");
	is_int((int) ta_revoked_count(s), 2, "two ids");
	ta_revoked_clear(s);
	is_int((int) ta_revoked_count(s), 0, "cleared");
	ok(!ta_revoked_get(s, a, 0, NULL), "cleared: a gone");
	ta_revoked_destroy(s);
	ta_revoked_destroy(NULL);
	ok(ta_revoked_count(NULL) == 0 && !ta_revoked_get(NULL, a, 0, NULL), "NULL set: empty");
}

/* Many ids against a plain array: every answer agrees, through growth and sweeps. */
static void
test_against_array(void)
{
	enum
	{
		N = 100000
	};
	ta_revoked *s = ta_revoked_create();
	int64_t    *expires = malloc(sizeof(int64_t) * N);
	uint8_t		id[16];
	int			wrong = 0;
	size_t		dropped,
				mem;

	for (uint32_t i = 0; i < N; i++)
	{
		expires[i] = 1000 + (int64_t) (i % 1000);
		id_of(i, id);
		if (!ta_revoked_put(s, id, i, expires[i]))
			wrong++;
	}
	is_int(wrong, 0, "100k ids put");
	is_int((int) ta_revoked_count(s), N, "100k ids held");
	mem = ta_revoked_memory(s);
	ok(mem <= (size_t) N * 32 * 2, "memory is at most 64 bytes an id");
	printf("# memory for 100k ids: %zu bytes (%.1f bytes an id)\n", mem, (double) mem / N);
	wrong = 0;
	for (uint32_t i = 0; i < 2 * N; i++)
	{
		int64_t		at = -1;
		bool		want = i < N;

		id_of(i, id);
		if (ta_revoked_get(s, id, 0, &at) != want || (want && at != (int64_t) i))
			wrong++;
	}
	is_int(wrong, 0, "every lookup of 200k ids agrees with the array");

	dropped = ta_revoked_sweep(s, 1500);
	is_int((int) dropped, N / 2, "sweep at 1500 drops the half that expired before it");
	is_int((int) ta_revoked_count(s), N / 2, "half held");
	ok(ta_revoked_memory(s) < mem, "the table shrank");
	wrong = 0;
	for (uint32_t i = 0; i < N; i++)
	{
		bool		want = expires[i] >= 1500;

		id_of(i, id);
		if (ta_revoked_get(s, id, 0, NULL) != want)
			wrong++;
	}
	is_int(wrong, 0, "after the sweep, exactly the unexpired ids remain");
	is_int((int) ta_revoked_sweep(s, 1500), 0, "a second sweep drops nothing");
	is_int((int) ta_revoked_sweep(s, 3000), N / 2, "a sweep after every expiry drops the rest");
	is_int((int) ta_revoked_count(s), 0, "empty");
	id_of(7, id);
	ok(ta_revoked_put(s, id, 1, 2) && ta_revoked_get(s, id, 2, NULL), "usable after emptying");
	free(expires);
	ta_revoked_destroy(s);
}

/* A fixed-size table: sizes, refusing when full, and random work against a model. */
static void
test_fixed(void)
{
	enum
	{
		POOL = 90,
		ROUNDS = 200000
	};
	size_t		bytes = ta_rset_size(60);
	void	   *mem = malloc(bytes);
	ta_rset    *s;
	uint8_t		id[16];
	int64_t		model_at[POOL],
				model_exp[POOL];
	bool		held[POOL] = {0};
	int			wrong = 0,
				wrong_count = 0,
				refused_full = 0;
	uint64_t	x = 88172645463325252u;

	ok(ta_rset_size(SIZE_MAX) == 0, "a size that overflows is 0");
	ok(ta_rset_init(mem, 16) == NULL, "too small a block: NULL");
	s = ta_rset_init(mem, bytes);
	ok(s != NULL && ta_rset_capacity(s) >= 60, "the table holds at least what was asked");
	for (uint32_t i = 0; i < ta_rset_capacity(s); i++)
	{
		id_of(1000 + i, id);
		if (!ta_rset_put(s, id, 1, 10))
			wrong++;
	}
	id_of(5000, id);
	ok(wrong == 0 && !ta_rset_put(s, id, 1, 10), "a full table refuses a new id");
	id_of(1000, id);
	ok(ta_rset_put(s, id, 2, 20) && ta_rset_get(s, id, 15, NULL), "but takes one it holds");
	is_int((int) ta_rset_sweep(s, 11), (int) ta_rset_capacity(s) - 1, "sweep drops the expired");
	ok(ta_rset_count(s) == 1 && ta_rset_get(s, id, 20, NULL), "the one that had not expired stays");
	ta_rset_clear(s);
	is_int((int) ta_rset_count(s), 0, "cleared");

	/* ids from a pool larger than the table, random times and sweeps: runs form and wrap */
	for (int r = 0; r < ROUNDS; r++)
	{
		int			n;
		int64_t		now;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (int) ((x >> 8) % POOL);
		now = (int64_t) (r / 50);
		if (x % 97 == 0)
		{
			size_t		want = 0,
						got;

			for (int k = 0; k < POOL; k++)
				if (held[k] && model_exp[k] < now)
				{
					held[k] = false;
					want++;
				}
			got = ta_rset_sweep(s, now);
			if (got != want)
				wrong_count++;
			continue;
		}
		id_of((uint32_t) n, id);
		if (x % 3 == 0)
		{
			int64_t		at = -1;
			bool		want = held[n] && model_exp[n] >= now;
			bool		got = ta_rset_get(s, id, now, &at);

			if (got != want || (want && at != model_at[n]))
				wrong++;
			continue;
		}
		{
			int64_t		a = now,
						e = now + (int64_t) ((x >> 20) % 400);
			size_t		count = 0;
			bool		put;

			for (int k = 0; k < POOL; k++)
				count += held[k];
			put = ta_rset_put(s, id, a, e);
			if (!put)
			{
				if (held[n] || count < ta_rset_capacity(s))
					wrong++;
				refused_full++;
			}
			else if (held[n])
			{
				model_at[n] = a > model_at[n] ? a : model_at[n];
				model_exp[n] = e > model_exp[n] ? e : model_exp[n];
			}
			else
			{
				held[n] = true;
				model_at[n] = a;
				model_exp[n] = e;
			}
		}
	}
	is_int(wrong, 0, "200k random puts and lookups agree with the model");
	is_int(wrong_count, 0, "every in-place sweep drops exactly the expired entries");
	ok(refused_full > 0, "the table was full at times (the path was taken)");
	free(mem);
}

int
main(void)
{
	test_basics();
	test_against_array();
	test_fixed();
	return done_testing();
}
