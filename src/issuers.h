/*
 * issuers.h: external issuers for authenticate() (src/issuers.c).
 */
#ifndef TASKAUTH_ISSUERS_H
#define TASKAUTH_ISSUERS_H

#include "taskauth.h"

#include "datatype/timestamp.h"

/*
 * Verify a token of a registered external issuer and return its claims, creating the user's
 * row first when the issuer provisions users. Returns NULL for an HMAC token (alg HS256/384/512)
 * whose iss is not registered, which the server's own keys then verify; any other token whose
 * iss is not registered raises "jwt issuer is not trusted". Failures are SQLSTATE 28000.
 *
 * *keys_until receives the time until which the keys it was verified with stand unread: keys
 * read from a key table are read again after taskauth.issuer_keys_refresh, so a token verified
 * with them may be taken on trust only until then; keys kept in taskauth.issuers change only
 * through the table, whose invalidation empties every cache (DT_NOEND).
 */
extern Jsonb *taskauth_issuer_verify(const char *token, size_t token_len, TimestampTz *keys_until);

#endif
