/*
 * issuers.h: external issuers for authenticate() (src/issuers.c).
 */
#ifndef TASKAUTH_ISSUERS_H
#define TASKAUTH_ISSUERS_H

#include "taskauth.h"

/*
 * Verify a token of a registered external issuer and fill out, creating the user's row first
 * when the issuer provisions users. Returns false, filling nothing, for a token no registered
 * issuer signs that the server's own keys may verify (an HMAC token whose iss is not
 * registered, or any token while no issuer is); any other token whose iss is not registered
 * raises "jwt issuer is not trusted". Failures are SQLSTATE 28000. out->key_read names the read
 * of the keys the token was verified with, which taskauth_issuer_keys_current() tells apart.
 */
struct TaskauthVerifiedToken;
extern bool taskauth_issuer_verify(const char *token, size_t token_len,
								   struct TaskauthVerifiedToken *out);

/*
 * Whether iss names a registered external issuer, whose tokens only its public keys verify (an
 * HMAC token naming it is refused).
 */
extern bool taskauth_issuer_registered(const char *iss, size_t iss_len);

/*
 * Whether keys of that read would still verify tokens without being read again: keys read from a
 * key table stand until taskauth.issuer_keys_refresh has passed (of the moment) or the issuer's
 * keys are read again for another reason, exactly as verification itself would use them.
 */
extern bool taskauth_issuer_keys_current(uint64 key_read);

/* How many times this backend has read issuers' keys. */
extern uint64 taskauth_issuer_key_reads(void);

#endif
