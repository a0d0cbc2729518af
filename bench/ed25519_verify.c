/*
 * ed25519_verify.c: the cost of one Ed25519 verification, side by side in one process:
 *
 *   openssl   OpenSSL's EVP one-shot DigestVerify, its context set up again for every signature
 *             (what taskauth did before libsodium);
 *   libsodium crypto_sign_verify_detached;
 *   taskauth  ta_asym_verifier_verify of src/core (libsodium behind a length check).
 *
 * MSGS distinct JWT-sized signing inputs under one key (a key is loaded once; each token is new),
 * verified by each implementation in turn, ROUNDS times, the order rotating every round so none
 * is always first; prints the median, the quartiles and the minimum of the per-round means, in
 * microseconds per verification. Timing only: every verification must succeed, or it stops.
 * `make bench-ed25519` builds and runs it; ROUNDS and MSGS from the environment.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "core/asym.h"

#define NIMPL 3
static const char *const impl_names[NIMPL] = {"openssl", "libsodium", "taskauth"};

typedef struct bench_msg
{
	uint8_t		input[400];
	size_t		len;
	uint8_t		sig[64];
} bench_msg;

static EVP_PKEY *pkey;
static EVP_MD_CTX *mctx;
static uint8_t pk[32];
static ta_asym_verifier *verifier;

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Verify one message with implementation i; 1 when it verifies. */
static int
verify(int i, const bench_msg *m)
{
	switch (i)
	{
		case 0:
			return EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) == 1 &&
				EVP_DigestVerify(mctx, m->sig, 64, m->input, m->len) == 1;
		case 1:
			return crypto_sign_verify_detached(m->sig, m->input, m->len, pk) == 0;
		default:
			return ta_asym_verifier_verify(verifier, m->input, m->len, m->sig, 64) == TA_OK;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(void)
{
	int			rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 41;
	int			nmsg = getenv("MSGS") ? atoi(getenv("MSGS")) : 200;
	bench_msg  *msgs;
	double	   *us[NIMPL],
			   *ratio;
	size_t		pk_len = sizeof(pk);
	EVP_MD_CTX *sctx = EVP_MD_CTX_new();

	if (rounds < 1 || nmsg < 1 || sodium_init() < 0)
		return 2;
	msgs = calloc((size_t) nmsg, sizeof(*msgs));
	for (int i = 0; i < NIMPL; i++)
		us[i] = calloc((size_t) rounds, sizeof(double));
	ratio = calloc((size_t) rounds, sizeof(double));
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	mctx = EVP_MD_CTX_new();
	if (msgs == NULL || ratio == NULL || pkey == NULL || mctx == NULL || sctx == NULL ||
		EVP_PKEY_get_raw_public_key(pkey, pk, &pk_len) != 1 ||
		ta_asym_verifier_new(pkey, TA_ASYM_EDDSA, &verifier) != TA_OK)
		return 2;

	/* JWT-shaped signing inputs, each different (about 250 octets, like an issuer's token) */
	for (int j = 0; j < nmsg; j++)
	{
		size_t		siglen = 64;
		int			n = snprintf((char *) msgs[j].input, sizeof(msgs[j].input),
								 "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAt"
								 "ODAwMC0wMDAwMDAwMCVkIiwiZW1haWwiOiJ1c2VyJWRAYmVuY2guZXhhbXBsZSIsImlzcyI6Imh0"
								 "dHBzOi8vYmVuY2guZXhhbXBsZSIsImlhdCI6MTc2NDAwMDAwMCwiZXhwIjoxNzY0MDAzNjAwfQ%08d", j);

		msgs[j].len = (size_t) n;
		if (EVP_DigestSignInit(sctx, NULL, NULL, NULL, pkey) != 1 ||
			EVP_DigestSign(sctx, msgs[j].sig, &siglen, msgs[j].input, msgs[j].len) != 1)
			return 2;
	}

	for (int r = 0; r < rounds; r++)
	{
		for (int k = 0; k < NIMPL; k++)
		{
			int			i = (r + k) % NIMPL;
			double		t0 = now();

			for (int j = 0; j < nmsg; j++)
			{
				if (!verify(i, &msgs[j]))
				{
					fprintf(stderr, "%s refused a good signature\n", impl_names[i]);
					return 1;
				}
			}
			us[i][r] = (now() - t0) * 1e6 / nmsg;
		}
	}

	/* the per-round ratio, before the sorting below separates the rounds */
	for (int r = 0; r < rounds; r++)
		ratio[r] = us[0][r] / us[1][r];
	qsort(ratio, (size_t) rounds, sizeof(double), cmp_double);

	printf("Ed25519 verify, %d rounds x %d distinct messages, us per verification\n", rounds, nmsg);
	printf("%s; libsodium %s\n", OpenSSL_version(OPENSSL_VERSION), sodium_version_string());
	printf("%-10s %8s %8s %8s %8s\n", "impl", "median", "q1", "q3", "min");
	for (int i = 0; i < NIMPL; i++)
	{
		qsort(us[i], (size_t) rounds, sizeof(double), cmp_double);
		printf("%-10s %8.2f %8.2f %8.2f %8.2f\n", impl_names[i], us[i][rounds / 2],
			   us[i][rounds / 4], us[i][(3 * rounds) / 4], us[i][0]);
	}
	printf("openssl / libsodium, paired by round: median %.2fx (q1 %.2fx, q3 %.2fx)\n",
		   ratio[rounds / 2], ratio[rounds / 4], ratio[(3 * rounds) / 4]);
	ta_asym_verifier_free(verifier);
	EVP_MD_CTX_free(mctx);
	EVP_MD_CTX_free(sctx);
	EVP_PKEY_free(pkey);
	free(msgs);
	free(ratio);
	for (int i = 0; i < NIMPL; i++)
		free(us[i]);
	return 0;
}
