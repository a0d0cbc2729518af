-- Server signing keys: adding (and refusing short secrets), rotation without logging anyone
-- out, retirement, selection by kid, tokens from an external issuer sharing a secret.
SET client_min_messages = error;
BEGIN;
SELECT plan(43);

SET LOCAL taskauth.bcrypt_cost = 4;

-- header and payload of a compact JWS as jsonb
CREATE FUNCTION pg_temp.jws_part(token text, n int) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT convert_from(decode(rpad(translate(split_part(token, '.', n), '-_', '+/'),
                                    (length(split_part(token, '.', n)) + 3) / 4 * 4, '='),
                               'base64'), 'UTF8')::jsonb
$$;

-- adding keys
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('x', 31))$$, '22023',
                 'signing key secret must be at least 32 bytes', 'a 31-byte secret is refused');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('é', 15) || 'x')$$, '22023',
                 'signing key secret must be at least 32 bytes',
                 'the length is counted in bytes, not characters (31 bytes)');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('a', 40))$$, '22023',
                 'signing key secret is too predictable', 'a secret of one repeated character is refused');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('changeme', 5))$$, '22023',
                 'signing key secret is too predictable', 'a short word repeated is refused (7 different characters)');
SELECT lives_ok($$SELECT taskauth.retire_signing_key(taskauth.add_signing_key(repeat('abcdefgh', 4), 'eight-chars'))$$,
                'eight different characters are enough for the check');
SELECT throws_ok($$SELECT taskauth.add_signing_key(NULL)$$, '22023',
                 'signing key secret must be at least 32 bytes', 'a NULL secret is refused');
SELECT throws_ok($$SELECT taskauth.add_signing_key(E'-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE')$$,
                 '22023', 'signing key secret is a public key, not an hmac secret',
                 'a PEM public key is refused as an HMAC secret');
SELECT throws_ok($$SELECT taskauth.add_signing_key('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}')$$,
                 '22023', 'signing key secret is a public key, not an hmac secret',
                 'a JWK is refused as an HMAC secret');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('x-01234567', 4), 'bad kid')$$, '22023',
                 'key id must be 1 to 64 characters from A-Z, a-z, 0-9, ".", "_" and "-"',
                 'a kid with a blank is refused');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('x-01234567', 4), repeat('k', 65))$$, '22023',
                 'key id must be 1 to 64 characters from A-Z, a-z, 0-9, ".", "_" and "-"',
                 'a 65-character kid is refused');
SELECT matches(taskauth.add_signing_key(repeat('r-0123456789', 4)), '^[A-Za-z0-9_-]{16}$',
               'without a kid, a random 16-character base64url kid is made');
SELECT isnt(taskauth.add_signing_key(repeat('r-0123456789', 4)), taskauth.add_signing_key(repeat('r-0123456789', 4)),
            'random kids differ');
DELETE FROM taskauth.signing_keys;
SELECT throws_ok($$SELECT taskauth.authenticate(taskauth.jwt_sign('{"sub":"6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}', repeat('x', 32)))$$,
                 '28000', 'no active key to verify the jwt', 'with no key, nothing authenticates');
SELECT is(taskauth.add_signing_key('first-key-secret-0123456789abcdefghij', 'k1'), 'k1',
          'add_signing_key returns the given kid');
SELECT throws_ok($$SELECT taskauth.add_signing_key(repeat('y-01234567', 4), 'k1')$$, '23505', NULL,
                 'a kid is unique');

SELECT taskauth.register('keys@example.test', 'keys-password') AS uid \gset
SELECT taskauth.login('keys@example.test', 'keys-password') AS t1 \gset
SELECT is(pg_temp.jws_part(:'t1', 1), '{"alg":"HS256","typ":"at+jwt","kid":"k1"}'::jsonb,
          'login puts the signing key''s kid in the header');

-- rotation: a new key signs new tokens, the old key keeps verifying old ones
SELECT is(taskauth.add_signing_key('second-key-secret-0123456789abcdefghi', 'k2'), 'k2', 'add a second key');
SELECT taskauth.login('keys@example.test', 'keys-password') AS t2 \gset
SELECT is(pg_temp.jws_part(:'t2', 1) ->> 'kid', 'k2', 'login signs with the newest key');
SELECT is(taskauth.authenticate(:'t1'), :'uid'::uuid, 'a token of the older key still authenticates');
SELECT is(taskauth.authenticate(:'t2'), :'uid'::uuid, 'a token of the newest key authenticates');
SELECT is(taskauth.jwt_verify(:'t2', taskauth.access_token_key('second-key-secret-0123456789abcdefghi'),
                             audience => 'taskauth') ->> 'sub', :'uid',
          'the newest key''s token verifies with the access-token key derived from its secret, for aud taskauth');

-- One key per kind of token (RFC 8725 §3.9, §3.11): the secret, which an issuer such as Better
-- Auth may share and sign its own tokens with, never signs or verifies taskauth's access tokens.
SELECT throws_ok(format('SELECT taskauth.jwt_verify(%L, %L)', :'t2', 'second-key-secret-0123456789abcdefghi'),
                 '28000', 'jwt signature does not match',
                 'an access token does not verify with the secret itself, so another verifier of that secret refuses it');
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE FUNCTION pg_temp.mk(header text, payload text, key text) RETURNS text LANGUAGE sql AS $$
    SELECT h || '.' || p || '.' || rtrim(translate(encode(hmac(h || '.' || p, key, 'sha256'), 'base64'), E'+/\n', '-_'), '=')
      FROM (SELECT rtrim(translate(encode(convert_to(header, 'UTF8'), 'base64'), E'+/\n', '-_'), '=') AS h,
                   rtrim(translate(encode(convert_to(payload, 'UTF8'), 'base64'), E'+/\n', '-_'), '=') AS p) x
$$;
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        pg_temp.mk('{"alg":"HS256","typ":"at+jwt","kid":"k2"}',
                                   format('{"aud":"taskauth","sub":"%s"}', :'uid'),
                                   'second-key-secret-0123456789abcdefghi')),
                 '28000', 'jwt signature does not match',
                 'an at+jwt token MAC''d with the secret itself (as its sharer could) is refused');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        pg_temp.mk('{"alg":"HS256","typ":"JWT","kid":"k2"}',
                                   format('{"aud":"taskauth","sub":"%s"}', :'uid'),
                                   taskauth.access_token_key('second-key-secret-0123456789abcdefghi'))),
                 '28000', 'jwt signature does not match',
                 'a token of another type MAC''d with the access-token key is refused');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        pg_temp.mk('{"alg":"HS256","typ":"at+jwt","kid":"k2"}',
                                   format('{"sub":"%s"}', :'uid'),
                                   taskauth.access_token_key('second-key-secret-0123456789abcdefghi'))),
                 '28000', 'jwt audience does not match',
                 'an at+jwt token without aud taskauth is refused');
SELECT is(taskauth.authenticate(pg_temp.mk('{"alg":"HS256","typ":"application/AT+JWT","kid":"k2"}',
                                           format('{"aud":["x","taskauth"],"sub":"%s"}', :'uid'),
                                           taskauth.access_token_key('second-key-secret-0123456789abcdefghi'))),
          :'uid'::uuid, 'typ is a media type: compared ignoring case, application/ optional');

-- selection by kid: the kid decides which key is tried
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.' ||
                        split_part(:'t2', '.', 2) || '.' || split_part(:'t2', '.', 3)),
                 '28000', 'jwt signature does not match',
                 'a k2 signature under a k1 header is checked with k1 and refused');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im5vcGUifQ.' ||
                        split_part(:'t2', '.', 2) || '.' || split_part(:'t2', '.', 3)),
                 '28000', 'jwt key id is not known', 'an unknown kid is refused');

-- tokens without a kid (an external issuer sharing the secret) try every active key
SELECT is(taskauth.authenticate(taskauth.jwt_sign(json_build_object('sub', :'uid')::jsonb,
                                                  'first-key-secret-0123456789abcdefghij')),
          :'uid'::uuid, 'a kid-less token signed with the older key authenticates');
SELECT is(taskauth.authenticate(taskauth.jwt_sign(json_build_object('sub', :'uid')::jsonb,
                                                  'second-key-secret-0123456789abcdefghi', 'HS512')),
          :'uid'::uuid, 'a kid-less HS512 token signed with the newest key authenticates');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        taskauth.jwt_sign(json_build_object('sub', :'uid')::jsonb,
                                          'some-other-secret-0123456789abcdefghij')),
                 '28000', 'jwt signature does not match', 'a kid-less token of an unknown secret is refused');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        taskauth.jwt_sign(json_build_object('sub', :'uid', 'exp', 1000000000)::jsonb,
                                          'first-key-secret-0123456789abcdefghij')),
                 '28000', 'jwt expired', 'an expired kid-less token is refused');
-- Made by PyJWT 2.6.0: jwt.encode({"sub": "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
-- "email": "ext@example.com", "iat": 1700000000}, "external-issuer-shared-secret-0123456789",
-- algorithm="HS256"), as the original design's FastAPI backend made them.
SELECT is(taskauth.add_signing_key('external-issuer-shared-secret-0123456789', 'external'), 'external',
          'install the secret shared with an external issuer');
SELECT is(taskauth.authenticate('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZjFjMmE4ZS0zYjRkLTRlNWYtOGE5Yi0wYzFkMmUzZjRhNWIiLCJlbWFpbCI6ImV4dEBleGFtcGxlLmNvbSIsImlhdCI6MTcwMDAwMDAwMH0.zQUbh1BVUF3vini6feahBz0mNY4QBHsD8kVH58eTOXA'),
          '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b'::uuid, 'a PyJWT HS256 token without kid authenticates');
SELECT is(taskauth.claims(), '{"sub": "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "email": "ext@example.com", "iat": 1700000000}'::jsonb,
          'its claims are kept exactly');

-- retirement
SELECT ok(taskauth.retire_signing_key('k1'), 'retire k1');
SELECT ok(NOT taskauth.retire_signing_key('k1'), 'retiring it again reports false');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)', :'t1'), '28000', 'jwt key id is not known',
                 'a token of a retired key is refused at once in this session');
SELECT throws_ok(format('SELECT taskauth.authenticate(%L)',
                        taskauth.jwt_sign(json_build_object('sub', :'uid')::jsonb,
                                          'first-key-secret-0123456789abcdefghij')),
                 '28000', 'jwt signature does not match',
                 'a kid-less token only the retired key verifies is refused');
SELECT is(taskauth.authenticate(:'t2'), :'uid'::uuid, 'tokens of the remaining keys still authenticate');
SELECT ok(taskauth.retire_signing_key('external') AND taskauth.retire_signing_key('k2'), 'retire every key');
SELECT throws_ok($$SELECT taskauth.login('keys@example.test', 'keys-password')$$, '55000',
                 'no active signing key', 'login without an active key says so');
UPDATE taskauth.signing_keys SET retired_at = NULL WHERE kid = 'k1';
SELECT is(taskauth.authenticate(:'t1'), :'uid'::uuid,
          'a key made active again by a direct UPDATE is seen at once (the trigger drops the cache)');

SELECT * FROM finish();
ROLLBACK;
