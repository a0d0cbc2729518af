/*
 * ta_status.h: status codes returned by the Postgres-free core.
 *
 * Core functions never raise errors; they return one of these and the SQL glue turns it into an
 * ereport in exactly one place (src/errors.c). Each area owns a block of codes; ta_status.c
 * holds the message and class of each. Messages are short, lowercase, and never carry input data.
 */
#ifndef TASKAUTH_TA_STATUS_H
#define TASKAUTH_TA_STATUS_H

typedef enum ta_status
{
	TA_OK = 0,

	/* generic */
	TA_ERR_NOMEM,				/* out of memory */
	TA_ERR_CRYPTO,				/* OpenSSL call failed */
	TA_ERR_BUFFER,				/* caller buffer too small (a bug) */

	/* tokens (class TA_CLASS_TOKEN: SQLSTATE 28000) */
	TA_JWT_MALFORMED,			/* not three dot-separated segments */
	TA_JWT_TOO_LARGE,
	TA_JWT_BAD_BASE64,
	TA_JWT_BAD_UTF8,
	TA_JWT_BAD_JSON,
	TA_JWT_HEADER_NOT_OBJECT,
	TA_JWT_PAYLOAD_NOT_OBJECT,
	TA_JWT_ALG_MISSING,
	TA_JWT_ALG_NONE,
	TA_JWT_ALG_UNSUPPORTED,
	TA_JWT_ALG_NOT_ALLOWED,		/* algorithm not permitted for this key */
	TA_JWT_CRIT_UNSUPPORTED,
	TA_JWT_SIGNATURE_MISMATCH,
	TA_JWT_EXPIRED,
	TA_JWT_NOT_YET_VALID,
	TA_JWT_IAT_FUTURE,
	TA_JWT_EXP_NOT_NUMBER,
	TA_JWT_NBF_NOT_NUMBER,
	TA_JWT_IAT_NOT_NUMBER,
	TA_JWT_EXP_OUT_OF_RANGE,	/* not finite or beyond year 9999 */
	TA_JWT_NBF_OUT_OF_RANGE,
	TA_JWT_IAT_OUT_OF_RANGE,
	TA_JWT_AUD_MISMATCH,
	TA_JWT_ISS_MISMATCH,
	TA_JWT_KID_UNKNOWN,
	TA_JWT_NO_KEY,
	TA_JWT_KID_NOT_STRING,
	TA_JWT_ENCODING,			/* claims not representable in the database encoding */

	/* public keys and external issuers (asym area; JWK codes are class TA_CLASS_ARGUMENT) */
	TA_JWT_ISSUER_UNKNOWN,		/* no registered external issuer for the token's iss */
	TA_ISS_EMAIL_MISSING,		/* provisioning needs the email claim */
	TA_ARG_SECRET_IS_PUBLIC_KEY,	/* an HMAC secret that is PEM or JWK text (class ARGUMENT) */
	TA_JWK_MALFORMED,
	TA_JWK_KTY_UNSUPPORTED,
	TA_JWK_CRV_UNSUPPORTED,
	TA_JWK_ALG_MISMATCH,		/* "alg" member does not fit the key type or is unknown */
	TA_JWK_NOT_FOR_SIGNATURES,	/* "use"/"key_ops" exclude signature verification */
	TA_JWK_PRIVATE,
	TA_JWK_BAD_KEY,				/* key material does not form a valid public key */
	TA_JWK_RSA_TOO_SMALL,
	TA_JWK_RSA_TOO_LARGE,
	TA_JWK_PEM_INVALID,
	TA_JWK_PEM_PRIVATE,
	/* end of the asym area block */

	/* identity area: authenticate() and the server's signing keys */
	TA_ID_SUB_MISSING,			/* verified token has no string sub claim */
	TA_ID_SUB_NOT_UUID,			/* sub is not a uuid */
	TA_ID_NO_SIGNING_KEY,		/* class TA_CLASS_STATE: no active key to sign with */
	TA_ID_TOKEN_REVOKED,		/* its session ended or its user was revoked after it was issued */
	/* end of the identity area block */

	/* sessions area: refresh tokens (refresh_token.h) */
	TA_REFRESH_TOKEN_INVALID,	/* not a refresh token of this database's key */
	/* end of the sessions area block */

	/* arguments (class TA_CLASS_ARGUMENT: SQLSTATE 22023) */
	TA_ARG_ALG_UNSUPPORTED,		/* jwt_sign asked for an algorithm it cannot make */
	TA_ARG_SECRET_EMPTY,
	TA_ARG_SECRET_TOO_SHORT,
	TA_ARG_CLAIMS_NOT_OBJECT,	/* jwt_sign claims that are not a json object */

	/* passwords (class TA_CLASS_ARGUMENT: SQLSTATE 22023 unless noted in ta_status.c) */
	TA_PW_TOO_LONG,				/* bcrypt password over 72 bytes */
	TA_PW_HAS_NUL,
	TA_PW_COST_RANGE,			/* cost outside 4..31 */
	TA_PW_COST_OVER_MAX,		/* cost above taskauth.max_bcrypt_cost */
	TA_PW_HASH_MALFORMED,
	TA_PW_HASH_UNSUPPORTED,		/* unknown or disabled scheme prefix */
	TA_PW_ARGON2_PARAMS_OVER_MAX,
	TA_PW_ARGON2_PARAMS_RANGE,
	TA_PW_YESCRYPT_OVER_MAX,		/* yescrypt memory above taskauth.max_argon2_memory_kib */
	TA_PW_RANDOM_FAILED,

	TA_STATUS_COUNT
} ta_status;

/* Which SQLSTATE family a status belongs to; the glue maps classes to error codes. */
typedef enum ta_status_class
{
	TA_CLASS_OK,
	TA_CLASS_INTERNAL,			/* XX000 / 53200 */
	TA_CLASS_TOKEN,				/* 28000 */
	TA_CLASS_ARGUMENT,			/* 22023 */
	TA_CLASS_STATE				/* 55000: the server lacks what the call needs */
} ta_status_class;

extern const char *ta_status_message(ta_status st);
extern ta_status_class ta_status_class_of(ta_status st);

#endif
