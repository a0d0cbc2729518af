/*
 * password.c: SQL glue for password hashing and verification, and the password settings.
 *
 * The work happens in src/core/password.c; this file reads the settings, hands text arguments to
 * the core as pointer + length, and turns statuses into errors through TA_CHECK. The libraries'
 * inner loops cannot be interrupted, so interrupts are serviced right before and after them and
 * the maxima below bound how long one call can run.
 */
#include "taskauth.h"

#include <limits.h>

#include <openssl/crypto.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "core/password.h"
#include "scrypt.h"

/* Defaults: bcrypt cost 12; argon2id as OWASP's Password Storage Cheat Sheet recommends. */
#define DEFAULT_BCRYPT_COST			12
#define DEFAULT_MAX_BCRYPT_COST		14
#define DEFAULT_ARGON2_MEMORY_KIB	19456
#define DEFAULT_ARGON2_TIME			2
#define DEFAULT_ARGON2_PARALLELISM	1
#define DEFAULT_MAX_ARGON2_MEMORY	262144
#define DEFAULT_MAX_ARGON2_TIME		10
#define DEFAULT_MAX_ARGON2_LANES	8

/* taskauth.min_password_length: shortest password register() accepts, in characters. */
#define DEFAULT_MIN_PASSWORD_LENGTH 8
static int	min_password_length = DEFAULT_MIN_PASSWORD_LENGTH;

static int	taskauth_password_algorithm = TA_PW_SCHEME_BCRYPT;
static int	taskauth_bcrypt_cost = DEFAULT_BCRYPT_COST;
static int	taskauth_max_bcrypt_cost = DEFAULT_MAX_BCRYPT_COST;
static int	taskauth_argon2_memory_kib = DEFAULT_ARGON2_MEMORY_KIB;
static int	taskauth_argon2_time = DEFAULT_ARGON2_TIME;
static int	taskauth_argon2_parallelism = DEFAULT_ARGON2_PARALLELISM;
static int	taskauth_max_argon2_memory_kib = DEFAULT_MAX_ARGON2_MEMORY;
static int	taskauth_max_argon2_time = DEFAULT_MAX_ARGON2_TIME;
static int	taskauth_max_argon2_parallelism = DEFAULT_MAX_ARGON2_LANES;

static const struct config_enum_entry password_algorithm_options[] = {
	{"bcrypt", TA_PW_SCHEME_BCRYPT, false},
	{"argon2id", TA_PW_SCHEME_ARGON2ID, false},
	{NULL, 0, false}
};

/* Define the password settings. */
void
TaskauthPasswordInit(void)
{
	DefineCustomIntVariable("taskauth.min_password_length",
							"Shortest password, in characters, that taskauth.register() accepts.",
							"Only superusers may change it, so that a client cannot lower it for its own session.",
							&min_password_length,
							DEFAULT_MIN_PASSWORD_LENGTH, 1, 1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("taskauth.password_algorithm",
							 "Algorithm that hash_password(password) uses.",
							 "Either bcrypt or argon2id. Changing it makes password_needs_rehash "
							 "report hashes of the other algorithm.",
							 &taskauth_password_algorithm,
							 TA_PW_SCHEME_BCRYPT,
							 password_algorithm_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.bcrypt_cost",
							"bcrypt cost (log2 of the rounds) that hash_password uses.",
							"Each step up doubles the time of one hash and one verification. "
							"It cannot exceed taskauth.max_bcrypt_cost when a hash is made.",
							&taskauth_bcrypt_cost,
							DEFAULT_BCRYPT_COST,
							TA_PW_BCRYPT_MIN_COST, TA_PW_BCRYPT_MAX_COST,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.max_bcrypt_cost",
							"Highest bcrypt cost that is hashed or verified.",
							"A stored hash or a requested cost above it is refused before any work, "
							"so that a hostile hash cannot hold a backend for hours.",
							&taskauth_max_bcrypt_cost,
							DEFAULT_MAX_BCRYPT_COST,
							TA_PW_BCRYPT_MIN_COST, TA_PW_BCRYPT_MAX_COST,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.argon2_memory_kib",
							"Memory in KiB that new argon2id hashes use.",
							"The default of 19456 KiB (19 MiB) with two passes and one lane "
							"follows the OWASP Password Storage Cheat Sheet.",
							&taskauth_argon2_memory_kib,
							DEFAULT_ARGON2_MEMORY_KIB,
							TA_PW_ARGON2_MIN_MEMORY_KIB, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.argon2_time",
							"Number of passes over memory that new argon2id hashes use.",
							NULL,
							&taskauth_argon2_time,
							DEFAULT_ARGON2_TIME,
							1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.argon2_parallelism",
							"Number of lanes that new argon2id hashes use.",
							"Lanes are computed one after another in the backend; more lanes do "
							"not make a hash faster here, they only change its result.",
							&taskauth_argon2_parallelism,
							DEFAULT_ARGON2_PARALLELISM,
							1, TA_PW_ARGON2_MAX_LANES,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.max_argon2_memory_kib",
							"Most memory in KiB that one argon2id or yescrypt hash may use.",
							"A stored hash or requested parameters above it are refused before "
							"any memory is allocated.",
							&taskauth_max_argon2_memory_kib,
							DEFAULT_MAX_ARGON2_MEMORY,
							TA_PW_ARGON2_MIN_MEMORY_KIB, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.max_argon2_time",
							"Most passes over memory that one argon2id hash may make.",
							"A stored hash or requested parameters above it are refused before "
							"any work.",
							&taskauth_max_argon2_time,
							DEFAULT_MAX_ARGON2_TIME,
							1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taskauth.max_argon2_parallelism",
							"Most lanes that one argon2id hash may have.",
							"A stored hash or requested parameters above it are refused before "
							"any work.",
							&taskauth_max_argon2_parallelism,
							DEFAULT_MAX_ARGON2_LANES,
							1, TA_PW_ARGON2_MAX_LANES,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* The maxima as the core wants them. */
static ta_pw_limits
current_limits(void)
{
	ta_pw_limits l;

	l.max_bcrypt_cost = taskauth_max_bcrypt_cost;
	l.max_argon2_memory_kib = (uint32_t) taskauth_max_argon2_memory_kib;
	l.max_argon2_time = (uint32_t) taskauth_max_argon2_time;
	l.max_argon2_parallelism = (uint32_t) taskauth_max_argon2_parallelism;
	return l;
}

/* Wipe and free a detoasted copy of a password argument, when detoasting made one. */
static void
wipe_password_arg(text *arg, Datum original)
{
	if ((Pointer) arg != DatumGetPointer(original))
	{
		OPENSSL_cleanse(arg, VARSIZE_ANY(arg));
		pfree(arg);
	}
}

/* A non-negative SQL int as the core's unsigned parameter; negatives become 0, which it refuses. */
static uint32_t
to_param(int32 v)
{
	return v < 0 ? 0 : (uint32_t) v;
}

/* Hash with argon2id at the given parameters and return the PHC string as text. */
static text *
hash_argon2id(FunctionCallInfo fcinfo, uint32_t m, uint32_t t, uint32_t p)
{
	text	   *pw;
	ta_pw_limits limits = current_limits();
	char		out[TA_PW_HASH_BUFSIZE];
	ta_status	st;

	/* before the password is detoasted: nothing between here and its wipe can raise */
	CHECK_FOR_INTERRUPTS();
	pw = PG_GETARG_TEXT_PP(0);
	st = ta_password_hash_argon2id(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw), m, t, p,
								   &limits, out, sizeof(out));
	wipe_password_arg(pw, PG_GETARG_DATUM(0));
	CHECK_FOR_INTERRUPTS();
	TA_CHECK(st);
	return cstring_to_text(out);
}

/* Hash with bcrypt at the given cost and return the $2b$ string as text. */
static text *
hash_bcrypt(FunctionCallInfo fcinfo, int cost)
{
	text	   *pw;
	ta_pw_limits limits = current_limits();
	char		out[TA_PW_HASH_BUFSIZE];
	ta_status	st;

	/* before the password is detoasted: nothing between here and its wipe can raise */
	CHECK_FOR_INTERRUPTS();
	pw = PG_GETARG_TEXT_PP(0);
	st = ta_password_hash_bcrypt(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw), cost,
								 &limits, out, sizeof(out));
	wipe_password_arg(pw, PG_GETARG_DATUM(0));
	CHECK_FOR_INTERRUPTS();
	TA_CHECK(st);
	return cstring_to_text(out);
}

/* Hash a password with the algorithm and parameters the settings name. */
PG_FUNCTION_INFO_V1(taskauth_hash_password);
Datum
taskauth_hash_password(PG_FUNCTION_ARGS)
{
	if (taskauth_password_algorithm == TA_PW_SCHEME_ARGON2ID)
		PG_RETURN_TEXT_P(hash_argon2id(fcinfo,
									   to_param(taskauth_argon2_memory_kib),
									   to_param(taskauth_argon2_time),
									   to_param(taskauth_argon2_parallelism)));
	PG_RETURN_TEXT_P(hash_bcrypt(fcinfo, taskauth_bcrypt_cost));
}

/* Hash a password with bcrypt at an explicit cost. */
PG_FUNCTION_INFO_V1(taskauth_hash_password_cost);
Datum
taskauth_hash_password_cost(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(hash_bcrypt(fcinfo, PG_GETARG_INT32(1)));
}

/* Hash a password with argon2id at the parameters the settings name. */
PG_FUNCTION_INFO_V1(taskauth_hash_password_argon2id);
Datum
taskauth_hash_password_argon2id(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(hash_argon2id(fcinfo,
								   to_param(taskauth_argon2_memory_kib),
								   to_param(taskauth_argon2_time),
								   to_param(taskauth_argon2_parallelism)));
}

/* Hash a password with argon2id at explicit memory (KiB), passes and lanes. */
PG_FUNCTION_INFO_V1(taskauth_hash_password_argon2id_params);
Datum
taskauth_hash_password_argon2id_params(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(hash_argon2id(fcinfo,
								   to_param(PG_GETARG_INT32(1)),
								   to_param(PG_GETARG_INT32(2)),
								   to_param(PG_GETARG_INT32(3))));
}

/* Check a password against a stored bcrypt, argon2id or yescrypt hash. */
PG_FUNCTION_INFO_V1(taskauth_verify_password);
Datum
taskauth_verify_password(PG_FUNCTION_ARGS)
{
	text	   *pw = PG_GETARG_TEXT_PP(0);
	text	   *hash = PG_GETARG_TEXT_PP(1);
	ta_pw_limits limits = current_limits();
	volatile bool match = false;
	volatile ta_status st = TA_OK;

	/* the password's detoasted copy is wiped however this ends, errors included */
	PG_TRY();
	{
		bool		m = false;

		/* Better Auth's "<salt hex>:<key hex>" scrypt hashes (src/scrypt.c). */
		if (taskauth_scrypt_is_hash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)))
			m = taskauth_scrypt_verify(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw),
									   VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash));
		else
		{
			CHECK_FOR_INTERRUPTS();
			st = ta_password_verify(VARDATA_ANY(pw), VARSIZE_ANY_EXHDR(pw),
									VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash),
									&limits, &m);
		}
		match = m;
	}
	PG_FINALLY();
	{
		wipe_password_arg(pw, PG_GETARG_DATUM(0));
	}
	PG_END_TRY();
	CHECK_FOR_INTERRUPTS();
	TA_CHECK(st);
	PG_RETURN_BOOL(match);
}

/* What hash_password would make today, as the core wants it. */
static ta_pw_policy
current_policy(void)
{
	ta_pw_policy policy;

	memset(&policy, 0, sizeof(policy));
	policy.algorithm = (ta_pw_scheme) taskauth_password_algorithm;
	policy.bcrypt_cost = taskauth_bcrypt_cost;
	policy.argon2_memory_kib = to_param(taskauth_argon2_memory_kib);
	policy.argon2_time = to_param(taskauth_argon2_time);
	policy.argon2_parallelism = to_param(taskauth_argon2_parallelism);
	return policy;
}

/* Say whether a stored hash is weaker than what hash_password would make today. */
PG_FUNCTION_INFO_V1(taskauth_password_needs_rehash);
Datum
taskauth_password_needs_rehash(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);
	ta_pw_policy policy = current_policy();
	bool		rehash = false;

	/* A Better Auth scrypt hash is never today's algorithm. */
	if (taskauth_scrypt_is_hash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)))
		PG_RETURN_BOOL(true);
	TA_CHECK(ta_password_needs_rehash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash),
									  &policy, &rehash));
	PG_RETURN_BOOL(rehash);
}

/*
 * Login's password check, made so that its time does not tell whether an account exists.
 *
 * Every call does one check and then waits until it has taken as long as one check at today's
 * algorithm and parameters takes in this backend (the median of recent such checks; the
 * first call of a backend, or the first after the settings change, measures it with one extra
 * check, whatever the input). With no stored hash (no such account), a hash that is malformed
 * or above the maxima, or a NULL password, the check runs against a fixed hash of today's
 * parameters that no password matches. A stored hash of another algorithm or a lower cost is
 * checked as it is and the wait makes up the difference; one costlier than today's settings
 * still takes its own longer time (docs/identity.md, "Login timing").
 */
#define LOGIN_BCRYPT_MAX_PASSWORD	72
/* the estimate is the median of this many recent checks at today's parameters */
#define LOGIN_SAMPLES				9

static struct
{
	double		estimate_us;	/* -1: none yet */
	ta_pw_policy policy;		/* the policy the samples were taken under */
	double		samples[LOGIN_SAMPLES];
	int			nsamples;
	int			next_sample;
}			login = {.estimate_us = -1};

/*
 * Remember one check's duration and make the estimate the median of the recent ones: a check
 * that the machine's load stretched moves the estimate no more than one that ran undisturbed.
 */
static void
login_estimate_add(double us)
{
	double		sorted[LOGIN_SAMPLES];
	int			n;

	login.samples[login.next_sample] = us;
	login.next_sample = (login.next_sample + 1) % LOGIN_SAMPLES;
	if (login.nsamples < LOGIN_SAMPLES)
		login.nsamples++;
	n = login.nsamples;
	memcpy(sorted, login.samples, sizeof(double) * n);
	for (int i = 1; i < n; i++)
	{
		double		v = sorted[i];
		int			j = i - 1;

		for (; j >= 0 && sorted[j] > v; j--)
			sorted[j + 1] = sorted[j];
		sorted[j + 1] = v;
	}
	login.estimate_us = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* A hash of today's parameters with a fixed salt and digest: it matches no password in use. */
static void
login_dummy_hash(const ta_pw_policy *p, char *out, size_t cap)
{
	if (p->algorithm == TA_PW_SCHEME_ARGON2ID)
		snprintf(out, cap, "$argon2id$v=19$m=%u,t=%u,p=%u$D3+w3Gn4S8+S4aeQxfcmRw$"
				 "7FkwkfM6ac6QCor8HSS4pIfr78d/MZpCQwbZYAHJkDk",
				 p->argon2_memory_kib, p->argon2_time, p->argon2_parallelism);
	else
		snprintf(out, cap, "$2b$%02d$SIfIXG7KSCztEqVw.TeSmelWRMiPXgpwbcrChJ796FgtnQ.0CTQ76",
				 p->bcrypt_cost);
}

/*
 * One check; false with *usable false when the hash cannot be checked. A bcrypt hash never
 * matches a password over 72 bytes, but the work is still done on its first 72 bytes, so that
 * a long password costs what any other does.
 */
static bool
login_check_once(const char *pw, size_t pw_len, const char *hash, size_t hash_len,
				 const ta_pw_limits *limits, bool *usable)
{
	bool		m = false;
	bool		too_long = false;
	ta_status	st;

	*usable = true;
	if (taskauth_scrypt_is_hash(hash, hash_len))
		return taskauth_scrypt_verify(pw, pw_len, hash, hash_len);
	if (pw_len > LOGIN_BCRYPT_MAX_PASSWORD && hash_len > 4 && hash[0] == '$' && hash[1] == '2')
	{
		too_long = true;
		pw_len = LOGIN_BCRYPT_MAX_PASSWORD;
	}
	CHECK_FOR_INTERRUPTS();
	st = ta_password_verify(pw, pw_len, hash, hash_len, limits, &m);
	CHECK_FOR_INTERRUPTS();
	if (st != TA_OK)
	{
		*usable = false;
		return false;
	}
	return m && !too_long;
}

/* Microseconds since start. */
static double
login_elapsed_us(instr_time start)
{
	instr_time	end;

	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_SUBTRACT(end, start);
	return INSTR_TIME_GET_MICROSEC(end);
}

/* Check a login's password (NULL: none) against a stored hash (NULL: no account), evenly timed. */
PG_FUNCTION_INFO_V1(taskauth_login_check);
Datum
taskauth_login_check(PG_FUNCTION_ARGS)
{
	ta_pw_policy policy = current_policy();
	ta_pw_limits limits = current_limits();
	char		dummy[TA_PW_HASH_BUFSIZE];
	text	   *pw = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	text	   *hash = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	const char *pw_data = pw ? VARDATA_ANY(pw) : "";
	size_t		pw_len = pw ? VARSIZE_ANY_EXHDR(pw) : 0;
	volatile bool match = false;
	bool		at_policy = false;
	instr_time	start;
	double		elapsed;

	login_dummy_hash(&policy, dummy, sizeof(dummy));
	PG_TRY();
	{
		bool		usable = false;
		bool		rehash = true;

		if (login.estimate_us < 0 ||
			memcmp(&policy, &login.policy, sizeof(policy)) != 0)
		{
			/* measure today's check once; every kind of input pays for it alike */
			INSTR_TIME_SET_CURRENT(start);
			(void) login_check_once(pw_data, pw_len, dummy, strlen(dummy), &limits, &usable);
			login.nsamples = login.next_sample = 0;
			login_estimate_add(login_elapsed_us(start));
			login.policy = policy;
		}

		INSTR_TIME_SET_CURRENT(start);
		if (hash != NULL)
		{
			match = login_check_once(pw_data, pw_len, VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash),
									 &limits, &usable);
			at_policy = usable &&
				!taskauth_scrypt_is_hash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)) &&
				ta_password_needs_rehash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash),
										 &policy, &rehash) == TA_OK && !rehash;
		}
		if (hash == NULL || !usable)
		{
			(void) login_check_once(pw_data, pw_len, dummy, strlen(dummy), &limits, &usable);
			match = false;
			at_policy = true;
		}
		if (pw == NULL)
			match = false;
	}
	PG_FINALLY();
	{
		if (pw != NULL)
			wipe_password_arg(pw, PG_GETARG_DATUM(0));
	}
	PG_END_TRY();

	/* cppcheck-suppress uninitvar ; set in PG_TRY, and an error there is rethrown, never past here */
	elapsed = login_elapsed_us(start);
	/* checks at today's parameters keep the estimate current (load changes during a day) */
	if (at_policy)
		login_estimate_add(elapsed);
	/* wait out the rest, a little at a time so that a cancel is served */
	while (elapsed < login.estimate_us)
	{
		double		rest = login.estimate_us - elapsed;

		pg_usleep((long) (rest < 10000 ? rest : 10000));
		CHECK_FOR_INTERRUPTS();
		elapsed = login_elapsed_us(start);
	}
	PG_RETURN_BOOL(match);
}
