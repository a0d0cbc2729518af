/*
 * issuers.h: external issuers for authenticate() (src/issuers.c).
 */
#ifndef TASKAUTH_ISSUERS_H
#define TASKAUTH_ISSUERS_H

#include "taskauth.h"

/*
 * Verify a token of a registered external issuer and return its claims, creating the user's
 * row first when the issuer provisions users. Returns NULL for an HMAC token (alg HS256/384/512)
 * whose iss is not registered, which the server's own keys then verify; any other token whose
 * iss is not registered raises "jwt issuer is not trusted". Failures are SQLSTATE 28000.
 */
extern Jsonb *taskauth_issuer_verify(const char *token, size_t token_len);

#endif
