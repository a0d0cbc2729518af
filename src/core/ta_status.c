/*
 * ta_status.c: the message and class of each core status code.
 */
#include "core/ta_status.h"

#include <stddef.h>

typedef struct
{
	const char *message;
	ta_status_class klass;
} ta_status_info;

static const ta_status_info infos[TA_STATUS_COUNT] = {
	[TA_OK] = {"ok", TA_CLASS_OK},

	[TA_ERR_NOMEM] = {"out of memory", TA_CLASS_INTERNAL},
	[TA_ERR_CRYPTO] = {"cryptographic library call failed", TA_CLASS_INTERNAL},
	[TA_ERR_BUFFER] = {"internal buffer too small", TA_CLASS_INTERNAL},

	[TA_JWT_MALFORMED] = {"jwt is malformed", TA_CLASS_TOKEN},
	[TA_JWT_TOO_LARGE] = {"jwt is too large", TA_CLASS_TOKEN},
	[TA_JWT_BAD_BASE64] = {"jwt segment is not valid base64url", TA_CLASS_TOKEN},
	[TA_JWT_BAD_UTF8] = {"jwt segment is not valid utf-8", TA_CLASS_TOKEN},
	[TA_JWT_BAD_JSON] = {"jwt segment is not valid json", TA_CLASS_TOKEN},
	[TA_JWT_HEADER_NOT_OBJECT] = {"jwt header is not a json object", TA_CLASS_TOKEN},
	[TA_JWT_PAYLOAD_NOT_OBJECT] = {"jwt payload is not a json object", TA_CLASS_TOKEN},
	[TA_JWT_ALG_MISSING] = {"jwt header has no algorithm", TA_CLASS_TOKEN},
	[TA_JWT_ALG_NONE] = {"jwt algorithm none is not accepted", TA_CLASS_TOKEN},
	[TA_JWT_ALG_UNSUPPORTED] = {"jwt algorithm is not supported", TA_CLASS_TOKEN},
	[TA_JWT_ALG_NOT_ALLOWED] = {"jwt algorithm is not allowed for this key", TA_CLASS_TOKEN},
	[TA_JWT_CRIT_UNSUPPORTED] = {"jwt critical header is not supported", TA_CLASS_TOKEN},
	[TA_JWT_SIGNATURE_MISMATCH] = {"jwt signature does not match", TA_CLASS_TOKEN},
	[TA_JWT_EXPIRED] = {"jwt expired", TA_CLASS_TOKEN},
	[TA_JWT_NOT_YET_VALID] = {"jwt not yet valid", TA_CLASS_TOKEN},
	[TA_JWT_IAT_FUTURE] = {"jwt issued in the future", TA_CLASS_TOKEN},
	[TA_JWT_EXP_NOT_NUMBER] = {"jwt exp claim is not a number", TA_CLASS_TOKEN},
	[TA_JWT_NBF_NOT_NUMBER] = {"jwt nbf claim is not a number", TA_CLASS_TOKEN},
	[TA_JWT_IAT_NOT_NUMBER] = {"jwt iat claim is not a number", TA_CLASS_TOKEN},
	[TA_JWT_EXP_OUT_OF_RANGE] = {"jwt exp claim is out of range", TA_CLASS_TOKEN},
	[TA_JWT_NBF_OUT_OF_RANGE] = {"jwt nbf claim is out of range", TA_CLASS_TOKEN},
	[TA_JWT_IAT_OUT_OF_RANGE] = {"jwt iat claim is out of range", TA_CLASS_TOKEN},
	[TA_JWT_AUD_MISMATCH] = {"jwt audience does not match", TA_CLASS_TOKEN},
	[TA_JWT_ISS_MISMATCH] = {"jwt issuer does not match", TA_CLASS_TOKEN},
	[TA_JWT_KID_UNKNOWN] = {"jwt key id is not known", TA_CLASS_TOKEN},
	[TA_JWT_NO_KEY] = {"no active key to verify the jwt", TA_CLASS_TOKEN},
	[TA_JWT_KID_NOT_STRING] = {"jwt key id is not a string", TA_CLASS_TOKEN},
	[TA_JWT_ENCODING] = {"jwt claims cannot be represented in the database encoding", TA_CLASS_TOKEN},

	/* public keys and external issuers (asym area) */
	[TA_JWT_ISSUER_UNKNOWN] = {"jwt issuer is not trusted", TA_CLASS_TOKEN},
	[TA_ISS_EMAIL_MISSING] = {"jwt has no email claim to create the user with", TA_CLASS_TOKEN},
	[TA_ARG_SECRET_IS_PUBLIC_KEY] = {"secret is a public key, not an hmac secret", TA_CLASS_ARGUMENT},
	[TA_JWK_MALFORMED] = {"jwk is malformed", TA_CLASS_ARGUMENT},
	[TA_JWK_KTY_UNSUPPORTED] = {"jwk key type is not supported", TA_CLASS_ARGUMENT},
	[TA_JWK_CRV_UNSUPPORTED] = {"jwk curve is not supported", TA_CLASS_ARGUMENT},
	[TA_JWK_ALG_MISMATCH] = {"jwk algorithm does not fit its key type", TA_CLASS_ARGUMENT},
	[TA_JWK_NOT_FOR_SIGNATURES] = {"jwk is not meant for signature verification", TA_CLASS_ARGUMENT},
	[TA_JWK_PRIVATE] = {"jwk contains private key material", TA_CLASS_ARGUMENT},
	[TA_JWK_BAD_KEY] = {"jwk does not hold a valid public key", TA_CLASS_ARGUMENT},
	[TA_JWK_RSA_TOO_SMALL] = {"rsa key is shorter than 2048 bits", TA_CLASS_ARGUMENT},
	[TA_JWK_RSA_TOO_LARGE] = {"rsa key is longer than 16384 bits", TA_CLASS_ARGUMENT},
	[TA_JWK_PEM_INVALID] = {"pem text does not hold a supported public key", TA_CLASS_ARGUMENT},
	[TA_JWK_PEM_PRIVATE] = {"pem text holds a private key", TA_CLASS_ARGUMENT},
	/* end of the asym area block */

	/* identity area */
	[TA_ID_SUB_MISSING] = {"jwt has no sub claim", TA_CLASS_TOKEN},
	[TA_ID_SUB_NOT_UUID] = {"jwt sub claim is not a uuid", TA_CLASS_TOKEN},
	[TA_ID_NO_SIGNING_KEY] = {"no active signing key", TA_CLASS_STATE},
	[TA_ID_TOKEN_REVOKED] = {"token revoked", TA_CLASS_TOKEN},
	/* end of the identity area block */

	/* sessions area */
	[TA_REFRESH_TOKEN_INVALID] = {"refresh token is not valid", TA_CLASS_TOKEN},
	/* end of the sessions area block */

	[TA_ARG_ALG_UNSUPPORTED] = {"unsupported jwt algorithm", TA_CLASS_ARGUMENT},
	[TA_ARG_SECRET_EMPTY] = {"secret must not be empty", TA_CLASS_ARGUMENT},
	[TA_ARG_SECRET_TOO_SHORT] = {"secret is too short", TA_CLASS_ARGUMENT},
	[TA_ARG_CLAIMS_NOT_OBJECT] = {"jwt claims must be a json object", TA_CLASS_ARGUMENT},

	[TA_PW_TOO_LONG] = {"password is longer than 72 bytes", TA_CLASS_ARGUMENT},
	[TA_PW_HAS_NUL] = {"password contains a zero byte", TA_CLASS_ARGUMENT},
	[TA_PW_COST_RANGE] = {"bcrypt cost must be between 4 and 31", TA_CLASS_ARGUMENT},
	[TA_PW_COST_OVER_MAX] = {"bcrypt cost exceeds taskauth.max_bcrypt_cost", TA_CLASS_ARGUMENT},
	[TA_PW_HASH_MALFORMED] = {"password hash is malformed", TA_CLASS_ARGUMENT},
	[TA_PW_HASH_UNSUPPORTED] = {"password hash scheme is not supported", TA_CLASS_ARGUMENT},
	[TA_PW_ARGON2_PARAMS_OVER_MAX] = {"argon2 parameters exceed the configured maxima", TA_CLASS_ARGUMENT},
	[TA_PW_ARGON2_PARAMS_RANGE] = {"argon2 parameters are out of range", TA_CLASS_ARGUMENT},
	[TA_PW_YESCRYPT_OVER_MAX] = {"yescrypt memory exceeds taskauth.max_argon2_memory_kib", TA_CLASS_ARGUMENT},
	[TA_PW_RANDOM_FAILED] = {"could not generate a random salt", TA_CLASS_INTERNAL},
};

/* Message for a status; never NULL. */
const char *
ta_status_message(ta_status st)
{
	if ((int) st < 0 || st >= TA_STATUS_COUNT || infos[st].message == NULL)
		return "unknown taskauth status";
	return infos[st].message;
}

/* SQLSTATE family of a status. */
ta_status_class
ta_status_class_of(ta_status st)
{
	if ((int) st < 0 || st >= TA_STATUS_COUNT || infos[st].message == NULL)
		return TA_CLASS_INTERNAL;
	return infos[st].klass;
}
