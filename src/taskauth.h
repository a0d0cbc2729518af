/*
 * taskauth.h: declarations shared by the SQL glue files in src/.
 */
#ifndef TASKAUTH_H
#define TASKAUTH_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "core/ta_status.h"

/* errors.c: the one place a core status becomes an ereport(ERROR). */
#ifdef pg_noreturn
/* PostgreSQL 18 replaced pg_attribute_noreturn() with this prefix */
extern pg_noreturn void taskauth_report(ta_status st);
#else
extern void taskauth_report(ta_status st) pg_attribute_noreturn();
#endif
#define TA_CHECK(expr) \
	do { ta_status ta_st_ = (expr); if (ta_st_ != TA_OK) taskauth_report(ta_st_); } while (0)

/* Per-area initialisation, called from _PG_init. */
extern void TaskauthJwtInit(void);
extern void TaskauthPasswordInit(void);
extern void TaskauthIdentityInit(void);
extern void TaskauthIssuersInit(void);
extern void TaskauthSessionsInit(void);

/* jwt.c: the checks verification makes beyond the signature. */
typedef struct TaskauthVerifyOptions
{
	const char *audience;		/* NULL: any or no aud */
	const char *issuer;			/* NULL: any or no iss */
	struct ta_jws_times *times_out; /* NULL, or where to store the time claims on success */
} TaskauthVerifyOptions;

/* taskauth.leeway, seconds of clock skew allowed on exp, nbf and iat (jwt.c). */
extern int	taskauth_leeway;

/* taskauth.max_token_size, the largest token in bytes that verification accepts (jwt.c). */
extern int	taskauth_max_token_size;

/*
 * Raises SQLSTATE 28000 when a token argument is longer than taskauth.max_token_size, reading
 * only its header: call it before PG_GETARG_TEXT_PP detoasts the token.
 */
extern void taskauth_check_token_size(Datum token);

/* The statement's start time in seconds since the Unix epoch: the clock of every claim check. */
extern double taskauth_statement_now(void);

/* The core's claim-check options (core/jws.h) from the caller's and the settings (jwt.c). */
struct ta_jws_claim_opts;
extern void taskauth_claim_opts(const TaskauthVerifyOptions *opts, struct ta_jws_claim_opts *co);

/*
 * Verifies an HMAC-signed token with the given secret and returns its claims (opts may be NULL).
 * Raises SQLSTATE 28000 on any failure.
 */
extern Jsonb *taskauth_jwt_verify_hmac(const char *token, size_t token_len,
									   const char *secret, size_t secret_len,
									   const TaskauthVerifyOptions *opts);

/*
 * Signs claims with an HMAC algorithm ("HS256", "HS384", "HS512"); typ (NULL: "JWT") and kid
 * (may be NULL) go into the header. Returns a palloc'd NUL-terminated compact JWS.
 */
extern char *taskauth_jwt_sign_hmac(Jsonb *claims, const char *alg, const char *typ,
									const char *kid, const char *secret, size_t secret_len);

/*
 * Returns the "kid" of a token's protected header (palloc'd, NUL-terminated; NULL when the
 * header has none), for choosing the key to verify with. Checks the token's structure and
 * header exactly as verification does (raising SQLSTATE 28000), but not its signature: the kid
 * is untrusted until taskauth_jwt_verify_hmac succeeds. Verification keeps keyed MAC contexts
 * in a small per-backend cache by (algorithm, secret), so callers need no cache of their own.
 */
extern char *taskauth_jwt_header_kid(const char *token, size_t token_len);

/*
 * Whether a token's protected header is one the server's HMAC keys could verify (well formed,
 * alg HS256, HS384 or HS512), giving its kid as taskauth_jwt_header_kid does and whether its
 * typ is "at+jwt" (one of the server's own access tokens); false, without raising, for any
 * other token.
 */
extern bool taskauth_jwt_header_hmac(const char *token, size_t token_len, char **kid_out,
									 bool *at_jwt_out);

/*
 * The claims of a verified payload, validated UTF-8 JSON object text with a NUL after it, as
 * jsonb, built without jsonb_in's general-purpose parser (SQLSTATE 28000 for a character the
 * database encoding lacks).
 */
extern Jsonb *taskauth_payload_to_jsonb(char *payload, size_t len);

#endif
